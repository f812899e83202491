"""The fast lane for submissions and state reads answers exactly as the documented routes do.

The same requests go to two apps over identical stores, one with the fast lane and one without;
every answer (status and body) and the events stored end up the same. And whatever the route's
request model refuses, the fast lane never takes.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from parley.api import schemas
from parley.api.app import create_app
from parley.api.intake import well_formed
from parley.api.login import COOKIE
from parley.core import moves
from parley.core.event import EventType as T
from parley.core.event import SignedEvent, event_from_json
from parley.core.keys import SigningKey
from parley.errors import InvalidInputError
from parley.services import Services
from tests.api.conftest import TestClient, login, make_services, make_settings
from tests.negotiation import Table, key_for, make_charter

STRANGER = SigningKey.from_seed("XX", b"intake stranger".ljust(32, b"\x00"))


class Twin:
    """One app: a client and the sessions of the delegations (and a stranger) on it."""

    def __init__(self, client: TestClient, services: Services) -> None:
        self.client = client
        self.services = services
        self.tokens = {
            code: login(client, key_for(code))["Authorization"].split()[1]
            for code in ("PK", "AF", "QA", "TR")
        }
        self.tokens["XX"] = login(client, STRANGER)["Authorization"].split()[1]

    def post(self, path: str, content: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        self.client.cookies.clear()
        return self._answer(self.client.post(path, content=content, headers=headers))

    def get(self, path: str, headers: dict[str, str]) -> tuple[int, Any]:
        self.client.cookies.clear()
        return self._answer(self.client.get(path, headers=headers))

    @staticmethod
    def _answer(answer: Any) -> tuple[int, Any]:
        assert answer.headers.get("content-type") in ("application/json", None), answer.headers
        try:
            return answer.status_code, answer.json()
        except ValueError:
            return answer.status_code, answer.text


@pytest.fixture
def twins(tmp_path: Path) -> Iterator[tuple[Twin, Twin]]:
    """The app as served, and the same app without the fast lane, over identical stores."""
    with ExitStack() as stack:
        made = []
        for name in ("fast", "route"):
            services = make_services()
            app = create_app(make_settings(tmp_path / name), services=services)
            if name == "route":
                app.intake = None
            client = stack.enter_context(TestClient(app, raise_server_exceptions=False))
            made.append(Twin(client, services))
        yield made[0], made[1]


def test_every_answer_is_the_route_s_answer(twins: tuple[Twin, Twin]) -> None:
    fast, route = twins
    table = Table(make_charter(with_log=True, nonce="intake-nonce-01"))
    nid = table.charter.id
    path = f"/api/negotiations/{nid}/events"
    answers: list[tuple[str, int]] = []

    def both(label: str, content: bytes, code: str | None = "PK", **headers: str) -> int:
        sent = {"Content-Type": "application/json", **headers}
        if code is not None:
            sent.setdefault("Authorization", f"Bearer {fast.tokens[code]}")
        mine = fast.post(path, content, sent)
        if code is not None:
            sent["Authorization"] = sent["Authorization"].replace(
                fast.tokens[code], route.tokens[code]
            )
        theirs = route.post(path, content, sent)
        assert mine == theirs, label
        answers.append((label, mine[0]))
        return mine[0]

    def wire(event: SignedEvent, **changes: Any) -> bytes:
        value = event.to_json()
        value.update(changes)
        return json.dumps(value).encode()

    charter = json.dumps(table.events[0].to_json()).encode()
    for twin in twins:
        headers = {"Authorization": f"Bearer {twin.tokens['QA']}"}
        headers["Content-Type"] = "application/json"
        opened = twin.post("/api/negotiations", charter, headers)
        assert opened[0] == 201, opened
    for code in ("PK", "AF", "QA", "TR"):
        both(f"{code} joins", wire(table.play(code, T.JOIN, moves.join(table.state))), code)
    stale = table.build("PK", T.STATEMENT, moves.statement("on the head about to go"))
    said = table.play("AF", T.STATEMENT, moves.statement("said first"))
    both("a statement", wire(said), "AF")
    both("the same again", wire(said), "AF")
    both("on a stale head", wire(stale))
    nxt = table.build("PK", T.STATEMENT, moves.statement("signed by someone else"))
    forged = base64.b64encode(bytes(64)).decode()
    both("a forged signature", wire(nxt, signature=forged))
    both("another's event", wire(nxt), "AF")
    both("a stranger", wire(nxt), "XX")
    both("no session", wire(nxt), None)
    both("a tampered session", wire(nxt), None, Authorization=f"Bearer {fast.tokens['PK']}x")
    both("no body", wire(nxt, body=None))
    both("not JSON", b'{"envelope": ')
    both("not UTF-8", b'{"a": "\xff"}')
    both("nested deep", b"[" * 100 + b"]" * 100)
    both("plain text", wire(nxt), **{"Content-Type": "text/plain"})
    for twin in twins:  # the cookie the browser sends
        twin.client.cookies.set(COOKIE, twin.tokens["PK"])
    sent = {"Content-Type": "application/json", "Cookie": f"{COOKIE}={fast.tokens['PK']}"}
    mine = fast.post(path, wire(nxt), sent)
    sent["Cookie"] = f"{COOKIE}={route.tokens['PK']}"
    assert mine == route.post(path, wire(nxt), sent) and mine[0] == 201
    assert [status for _, status in answers] == [
        201, 201, 201, 201, 201, 409, 409, 403, 403, 404, 401, 401, 422, 400, 400, 413, 422
    ], answers  # fmt: skip
    assert [e.hash for e in fast.services.events(nid)] == [
        e.hash for e in route.services.events(nid)
    ]
    assert len(fast.services.events(nid)) == 7
    _reads_answer_alike(fast, route, nid)


def _reads_answer_alike(fast: Twin, route: Twin, nid: str) -> None:
    """Every caller's state read, and every refusal, the same from both apps."""
    statuses = []
    for code in ("PK", "AF", "QA", "TR", "XX", None, "tampered", "cookie"):
        answers = []
        for twin in (fast, route):
            headers = {}
            if code == "tampered":
                headers["Authorization"] = f"Bearer {twin.tokens['PK']}x"
            elif code == "cookie":
                headers["Cookie"] = f"{COOKIE}={twin.tokens['AF']}"
            elif code is not None:
                headers["Authorization"] = f"Bearer {twin.tokens[code]}"
            answers.append(twin.get(f"/api/negotiations/{nid}", headers))
            answers.append(twin.get(f"/api/negotiations/{nid}", headers))  # now from the cache
            answers.append(twin.get(f"/api/negotiations/{'0' * 64}", headers))
        assert answers[:3] == answers[3:], code
        assert answers[0] == answers[1], code
        statuses.append((answers[0][0], answers[2][0]))
    assert statuses == [(200, 404)] * 4 + [(404, 404), (401, 401), (401, 401), (200, 404)]
    state = fast.get(f"/api/negotiations/{nid}", {"Authorization": f"Bearer {fast.tokens['PK']}"})
    assert state[1]["events"] == 7 and state[1]["negotiation"] == nid


def test_an_unforeseen_failure_is_answered_alike(
    twins: tuple[Twin, Twin], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure nobody foresaw gives the same 500 from the lane as from the route's handler."""
    table = Table(make_charter(nonce="intake-nonce-03"))
    charter = json.dumps(table.events[0].to_json()).encode()
    join = table.play("PK", T.JOIN, moves.join(table.state))
    path = f"/api/negotiations/{table.charter.id}"
    answers = []
    for twin in twins:
        headers = {
            "Authorization": f"Bearer {twin.tokens['QA']}",
            "Content-Type": "application/json",
        }
        assert twin.post("/api/negotiations", charter, headers)[0] == 201
        context = twin.client.app.state.context  # type: ignore[attr-defined]
        monkeypatch.setattr(context, "submit", _broken)
        headers["Authorization"] = f"Bearer {twin.tokens['PK']}"
        answers.append(twin.post(path + "/events", json.dumps(join.to_json()).encode(), headers))
    internal = (500, {"error": {"code": "internal", "message": "internal error", "details": {}}})
    assert answers == [internal] * 2


async def _broken(*_: object) -> None:
    raise RuntimeError("a failure nobody foresaw")


# --- never more than the route takes -------------------------------------------------------------

_TABLE = Table(make_charter(nonce="intake-nonce-02"))
_VALID = _TABLE.play("PK", T.JOIN, moves.join(_TABLE.state))
_ODD = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
    st.text(max_size=8), st.lists(st.text(max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    """A valid event's wire form with a few fields dropped, added or replaced by odd values."""
    value = copy.deepcopy(_VALID.to_json())
    for _ in range(draw(st.integers(1, 3))):
        inner = value.get("envelope")
        target = inner if isinstance(inner, dict) and draw(st.booleans()) else value
        keys = [*sorted(target), "extra"]
        key = draw(st.sampled_from(keys))
        if draw(st.integers(0, 3)) == 0:
            target.pop(key, None)
        else:
            target[key] = draw(_ODD)
    return value


def _fast_lane_takes(value: Any) -> bool:
    if not well_formed(value):
        return False
    try:
        event_from_json(value)
    except InvalidInputError:
        return False
    return True


@settings(max_examples=400, deadline=None)
@given(mutated())
def test_the_fast_lane_never_takes_what_the_route_refuses(value: Any) -> None:
    try:
        schemas.EventIn.model_validate(value)
    except ValidationError:
        assert not _fast_lane_takes(value)


def test_a_valid_event_is_taken_by_both() -> None:
    value = _VALID.to_json()
    schemas.EventIn.model_validate(value)
    assert _fast_lane_takes(value)
