"""Attacks on the API: each is refused with the right status, and nothing is stored.

Every test runs against the in-memory store, a SQLite file and (marked ``postgres``) PostgreSQL.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from parley.api import access
from parley.api.app import create_app
from parley.core import moves
from parley.core.event import EventType, SignedEvent, event_hash, sign_event
from parley.core.keys import SigningKey
from parley.errors import NotFoundError
from parley.services import Services
from parley.storage import open_store
from tests.api.conftest import (
    Api,
    TestClient,
    counts,
    login,
    login_answer,
    make_services,
    make_settings,
)
from tests.negotiation import clean_text, key_for, make_charter
from tests.storage.conftest import database

STRANGER = SigningKey.from_seed("XX", b"stranger".ljust(32, b"\x00"))


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    if request.param == "memory":
        yield from _api(make_services(), tmp_path)
        return
    with database(request.param, tmp_path) as url:
        yield from _api(make_services(open_store(url)), tmp_path)


def _api(services: Services, home: Path) -> Iterator[Api]:
    app = create_app(make_settings(home), services=services)
    with TestClient(app) as client:
        yield Api(app, services, client)


def _events(api: Api) -> str:
    return f"/api/negotiations/{api.nid}/events"


def _refused(api: Api, code: str, body: Any, status: int, *, raw: bool = False) -> dict[str, Any]:
    """Submit as ``code``; assert the status and that nothing was stored."""
    before = counts(api.services)
    party = api.party(code)
    if raw:
        answer = party.post(
            _events(api), content=body, headers={"content-type": "application/json"}
        )
    else:
        answer = party.post(_events(api), json=body)
    assert answer.status_code == status, answer.text
    assert counts(api.services) == before
    error = answer.json()["error"]
    assert error["message"]
    return dict(error)


def _statement(api: Api, code: str, words: str = "we remain committed") -> SignedEvent:
    return api.build(code, EventType.STATEMENT, moves.statement(words))


def test_a_forged_signature_is_refused(api: Api) -> None:
    api.open()
    event = _statement(api, "PK")
    wire = event.to_json()
    signature = bytearray(event.signature)
    signature[5] ^= 1
    wire["signature"] = base64.b64encode(bytes(signature)).decode()
    assert _refused(api, "PK", wire, 403)["code"] == "bad_signature"


def test_a_changed_body_is_refused(api: Api) -> None:
    api.open()
    wire = _statement(api, "PK").to_json()
    wire["body"] = {"text": "we withdraw"}
    assert _refused(api, "PK", wire, 422)["code"] == "invalid_input"


def test_a_replayed_event_is_refused(api: Api) -> None:
    api.open()
    event = api.play("PK", EventType.STATEMENT, moves.statement("once"))
    assert _refused(api, "PK", event.to_json(), 409)["code"] == "conflict"


def test_an_event_resent_to_another_negotiation_is_refused(api: Api) -> None:
    api.open()
    event = _statement(api, "PK")
    first = api.nid
    api.charter, api.state = None, None
    api.convene(make_charter(nonce="another-negotiation"))
    assert api.nid != first
    for code in ("PK", "AF", "QA", "TR"):
        assert api.state is not None
        api.play(code, EventType.JOIN, moves.join(api.state))
    assert _refused(api, "PK", event.to_json(), 422)["code"] == "invalid_input"


def test_a_stranger_gets_404_for_everything(api: Api) -> None:
    api.open()
    stranger = api.party("XX", STRANGER)
    event = sign_event(
        STRANGER, negotiation=api.nid, seq=api.s.seq, prev=api.s.head,
        type=EventType.STATEMENT, author="XX", time=api.services.now(), body={"text": "hello"},
    )  # fmt: skip
    before = counts(api.services)
    missing = "0" * 64
    for path in ("", "/events", "/versions/abcd", "/bundle", "/stream"):
        known = stranger.get(f"/api/negotiations/{api.nid}{path}")
        unknown = stranger.get(f"/api/negotiations/{missing}{path}")
        assert known.status_code == unknown.status_code == 404
        assert known.json() == json.loads(unknown.text.replace(missing, api.nid))
    answer = stranger.post(_events(api), json=event.to_json())
    assert answer.status_code == 404
    assert counts(api.services) == before
    assert stranger.get("/api/negotiations").json() == {"negotiations": []}
    # nor by a prefix of the id
    assert stranger.get(f"/api/negotiations/{api.nid[:8]}").status_code == 404


class _Logged:
    """A transaction that notes which of its reads are made."""

    def __init__(self, tx: Any, reads: list[str]) -> None:
        self._tx, self._reads = tx, reads

    def __getattr__(self, name: str) -> Any:
        self._reads.append(name)
        return getattr(self._tx, name)


def test_a_strangers_404_reads_the_store_alike_for_a_real_negotiation_and_for_none(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answers are the same bytes (above); the work must be the same too, or the time an
    answer takes tells a real negotiation id from an unused one."""
    api.open()
    assert api.party("PK").get(f"/api/negotiations/{api.nid}").status_code == 200  # at hand
    stranger = api.party("XX", STRANGER)
    reads: list[str] = []
    reading = api.services.reading

    @contextmanager
    def logged() -> Iterator[_Logged]:
        with reading() as tx:
            yield _Logged(tx, reads)

    monkeypatch.setattr(api.services, "reading", logged)
    for path in ("", "/events"):
        seen = []
        for nid in (api.nid, "0" * 64):
            reads.clear()
            assert stranger.get(f"/api/negotiations/{nid}{path}").status_code == 404
            seen.append(list(reads))
        assert seen[0] == seen[1] and seen[0], (path, seen)
    seen = []
    for nid in (api.nid, "0" * 64):
        reads.clear()
        event = _statement(api, "PK").to_json()
        assert stranger.post(f"/api/negotiations/{nid}/events", json=event).status_code == 404
        seen.append(list(reads))
    assert seen[0] == seen[1] and seen[0], seen
    # a process that has never loaded the negotiation reads its charter event as well, once
    fresh = access.Views(api.services)
    seen = []
    for nid in (api.nid, "0" * 64):
        reads.clear()
        with pytest.raises(NotFoundError):
            fresh.seat(nid, STRANGER.public())
        seen.append(list(reads))
    assert seen[0] == ["negotiation", "charter_event"] and seen[1] == ["negotiation"], seen


def test_a_participant_cannot_submit_for_another(api: Api) -> None:
    api.open()
    event = _statement(api, "AF")
    assert _refused(api, "PK", event.to_json(), 403)["code"] == "permission_denied"


def test_a_participant_cannot_use_another_participants_key_id(api: Api) -> None:
    api.open()
    honest = _statement(api, "PK")
    envelope = replace(honest.envelope, key=key_for("AF").public().id_hex)
    signature = key_for("PK").sign(envelope.signed_bytes())
    forged = SignedEvent(envelope, signature, honest.body, event_hash(envelope, signature))
    assert _refused(api, "PK", forged.to_json(), 403)["code"] == "unauthorized_move"


def test_a_stale_prev_is_409(api: Api) -> None:
    api.open()
    stale = _statement(api, "PK", "late")
    api.play("AF", EventType.STATEMENT, moves.statement("first"))
    assert _refused(api, "PK", stale.to_json(), 409)["code"] == "conflict"


def test_a_move_the_rules_forbid_changes_nothing(api: Api) -> None:
    api.open()
    finalize = api.build("QA", EventType.FINALIZE, moves.finalize(clean_text()))
    assert _refused(api, "QA", finalize.to_json(), 422)["code"] == "precondition_failed"


def test_caucus_bodies_reach_only_their_audience(api: Api) -> None:
    api.open()
    api.play("AF", EventType.STATEMENT, moves.statement("for the mediators"), ("AF", "QA", "TR"))
    seen = {
        code: api.party(code).get(_events(api), params={"since": api.s.seq - 1}).json()["events"]
        for code in ("PK", "AF", "QA")
    }
    assert "body" not in seen["PK"][0]
    assert seen["PK"][0]["envelope"] == seen["AF"][0]["envelope"]
    assert seen["AF"][0]["body"] == seen["QA"][0]["body"] == {"text": "for the mediators"}


def test_a_caucus_version_is_not_readable_outside_its_audience(api: Api) -> None:
    from parley.core import text as text_model

    api.open()
    text = clean_text("Secret wording for AF.")
    version = text_model.version_hash(text)
    api.play("QA", EventType.PROPOSE, moves.propose(text), ("AF", "QA", "TR"))
    path = f"/api/negotiations/{api.nid}/versions/{version}"
    assert api.party("AF").get(path).status_code == 200
    assert api.party("PK").get(path).status_code == 404
    state = api.party("PK").get(f"/api/negotiations/{api.nid}").json()
    assert version not in state["versions"]
    assert version in api.party("TR").get(f"/api/negotiations/{api.nid}").json()["versions"]


@pytest.mark.parametrize(
    "token", ["v1.eyJleHAiOjk5OTk5OTk5OTksInZrZXkiOiJQSyJ9.AAAAAAAA", "expired"]
)
def test_a_bad_session_stores_nothing(api: Api, token: str) -> None:
    api.open()
    event = _statement(api, "PK")
    if token == "expired":
        sessions = api.app.state.context.sessions
        sessions.session_seconds = -10
        challenge = api.client.post("/api/login/challenge").json()
        from parley.api.login import login_payload

        key = key_for("PK")
        payload = login_payload(challenge["server"], challenge["challenge"], key.public().vkey())
        session = sessions.login(key.public().vkey(), challenge["challenge"],
                                 base64.b64encode(key.sign(payload)).decode())  # fmt: skip
        token = session.token
    before = counts(api.services)
    answer = api.client.post(
        _events(api), json=event.to_json(), headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 401
    assert counts(api.services) == before


def test_oversized_nested_and_malformed_bodies(api: Api) -> None:
    api.open()
    limit = api.app.state.context.settings.limits.max_body_bytes
    pad = {"text": "x" * (limit + 10)}
    too_big = json.dumps(pad).encode()
    assert _refused(api, "PK", too_big, 413, raw=True)["code"] == "too_large"
    deep = b"[" * 200 + b"]" * 200
    assert _refused(api, "PK", deep, 413, raw=True)["code"] == "too_large"
    very_deep = b"[" * 100_000 + b"]" * 100_000
    assert _refused(api, "PK", very_deep, 413, raw=True)["code"] == "too_large"
    nested_body = _statement(api, "PK").to_json()
    node: dict[str, Any] = {}
    nested_body["body"] = {"a": node}
    for _ in range(70):
        node["a"] = {}
        node = node["a"]
    assert _refused(api, "PK", json.dumps(nested_body).encode(), 413, raw=True)
    for malformed in (b'{"envelope": \xff\xfe}', b'{"envelope": ', b"NaN", b'{"a": NaN}'):
        assert _refused(api, "PK", malformed, 400, raw=True)["code"] == "malformed_body"
    for unfit in (b"{}", b"[]", b'"text"', b'{"envelope": 1, "signature": "", "body": {}}'):
        assert _refused(api, "PK", unfit, 422, raw=True)["code"] == "invalid_request"


def test_values_signed_json_cannot_carry_are_refused(api: Api) -> None:
    api.open()
    event = _statement(api, "PK").to_json()
    for body in ({"text": 1.5}, {"text": 2**60}, {"text": "\ud800"}, {"text": "e\u0301"}):
        wire = dict(event, body=body)
        raw = json.dumps(wire).encode()
        assert _refused(api, "PK", raw, 422, raw=True)["code"] == "invalid_input"


def test_too_many_requests_is_429_with_retry_after(tmp_path: Path) -> None:
    from parley.api.settings import Limits

    settings = make_settings(tmp_path, limits=Limits(rate_per_second=0.5, rate_burst=3))
    with TestClient(create_app(settings, services=make_services())) as client:
        answers = [client.post("/api/login/challenge") for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert int(answers[-1].headers["retry-after"]) >= 1
        assert answers[-1].json()["error"]["code"] == "rate_limited"


def test_web_pages_spend_rate_tokens_too(tmp_path: Path) -> None:
    """The pages ran unlimited: an anonymous flood of bundles to /verify stalled the server."""
    from parley.api.settings import Limits

    settings = make_settings(tmp_path, limits=Limits(rate_per_second=0.01, rate_burst=3))
    with TestClient(create_app(settings, services=make_services())) as client:
        answers = [client.post("/verify", data={"bundle": "{}"}) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert int(answers[-1].headers["retry-after"]) >= 1


def test_fresh_keys_do_not_multiply_an_address_rate(tmp_path: Path) -> None:
    """Any key may log in, and each session key has a bucket of its own: ten throwaway keys
    were ten buckets. Sessions opened per address are bounded."""
    from parley.api.settings import Limits

    limits = Limits(rate_per_second=1000.0, rate_burst=1000, logins_per_minute=3)
    with TestClient(
        create_app(make_settings(tmp_path, limits=limits), services=make_services())
    ) as client:
        keys = [SigningKey.from_seed(f"X{n}", bytes([n]) * 32) for n in range(4)]
        answers = [login_answer(client, key) for key in keys]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert int(answers[-1].headers["retry-after"]) >= 1


def test_rates_are_per_key(tmp_path: Path) -> None:
    from parley.api.settings import Limits

    settings = make_settings(tmp_path, limits=Limits(rate_per_second=0.01, rate_burst=4))
    with TestClient(create_app(settings, services=make_services())) as client:
        pk = login(client, key_for("PK"))  # two requests from the address
        assert client.get("/api/session", headers=pk).status_code == 200
        assert client.get("/api/session", headers=pk).status_code == 200
        af = login(client, key_for("AF"))  # the address's last two
        assert client.get("/api/session", headers=af).status_code == 200
        assert [client.get("/api/session", headers=pk).status_code for _ in range(3)] == [
            200, 200, 429
        ]  # fmt: skip
