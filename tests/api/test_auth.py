"""Login by signing a challenge; stateless, tamper-evident challenges and session tokens."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.exceptions import HTTPException

from parley.api import auth
from parley.api.app import create_app
from parley.api.auth import Sessions
from parley.api.login import COOKIE, login_payload
from parley.core.keys import COSIGNATURE_V1, SigningKey
from tests.api.conftest import (
    SECRET,
    Api,
    TestClient,
    login,
    login_answer,
    make_services,
    make_settings,
)
from tests.negotiation import key_for


class Ticking:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _sessions(clock: Ticking, secret: bytes = SECRET) -> Sessions:
    return Sessions(secret, "https://parley.example", session_seconds=600,
                    challenge_seconds=60, clock=clock)  # fmt: skip


def _signed(sessions: Sessions, key: SigningKey, server: str | None = None) -> tuple[str, str]:
    challenge = sessions.challenge().value
    payload = login_payload(server or sessions.origin, challenge, key.public().vkey())
    return challenge, base64.b64encode(key.sign(payload)).decode()


def _status(call: Callable[[], object]) -> int:
    """The HTTP status a call raises (200 if it returns)."""
    try:
        call()
    except HTTPException as exc:
        return exc.status_code
    return 200


def test_the_signed_login_bytes_are_tagged_canonical_json() -> None:
    payload = login_payload("https://parley.example", "v1.abc.def", "PK+01234567+AAAA")
    assert payload == (
        b'parley/v1/login\n{"challenge":"v1.abc.def","server":"https://parley.example",'
        b'"vkey":"PK+01234567+AAAA"}'
    )


def test_a_signed_challenge_is_a_session_for_that_key() -> None:
    clock = Ticking()
    sessions = _sessions(clock)
    key = key_for("PK")
    challenge, signature = _signed(sessions, key)
    session = sessions.login(key.public().vkey(), challenge, signature)
    assert session.key == key.public()
    assert sessions.session(session.token).vkey == key.public().vkey()
    # another process with the same secret accepts it: nothing is kept in memory
    assert _sessions(clock).session(session.token).key == key.public()


def test_refused_logins() -> None:
    clock = Ticking()
    sessions = _sessions(clock)
    key, vkey = key_for("PK"), key_for("PK").public().vkey()
    challenge, _ = _signed(sessions, key)
    other = base64.b64encode(key_for("AF").sign(login_payload(sessions.origin, challenge, vkey)))
    assert _status(lambda: sessions.login(vkey, challenge, other.decode())) == 401
    # signed for another server: useless here
    challenge, signature = _signed(sessions, key, server="https://elsewhere.example")
    assert _status(lambda: sessions.login(vkey, challenge, signature)) == 401
    # a challenge from another secret, or an expired one
    foreign, signature = _signed(_sessions(clock, b"another secret of 32 bytes or more"), key)
    assert _status(lambda: sessions.login(vkey, foreign, signature)) == 401
    challenge, signature = _signed(sessions, key)
    clock.now += 61
    assert _status(lambda: sessions.login(vkey, challenge, signature)) == 401


def test_tokens_expire_and_cannot_be_altered() -> None:
    clock = Ticking()
    sessions = _sessions(clock)
    key = key_for("PK")
    challenge, signature = _signed(sessions, key)
    token = sessions.login(key.public().vkey(), challenge, signature).token
    version, payload, mac = token.split(".")
    raw = json.loads(base64.urlsafe_b64decode(payload + "=="))
    raw["vkey"] = key_for("AF").public().vkey()
    forged = base64.urlsafe_b64encode(json.dumps(raw).encode()).rstrip(b"=").decode()
    for bad in (f"{version}.{forged}.{mac}", token[:-2] + "AA", "v1.x.y", "nonsense", challenge):
        assert _status(lambda bad=bad: sessions.session(bad)) == 401
    assert sessions.session(token).key == key.public()  # checked once, then kept
    clock.now += 599
    assert sessions.session(token).key == key.public()
    clock.now += 2
    assert _status(lambda: sessions.session(token)) == 401  # kept, but expired all the same


def test_the_kept_sessions_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "CHECKED_SESSIONS", 3)
    clock = Ticking()
    sessions = _sessions(clock)
    tokens = []
    for code in ("PK", "AF", "QA", "IR", "UN"):
        challenge, signature = _signed(sessions, key_for(code))
        tokens.append(sessions.login(key_for(code).public().vkey(), challenge, signature).token)
    for token, code in zip(tokens * 2, ["PK", "AF", "QA", "IR", "UN"] * 2, strict=True):
        assert sessions.session(token).key == key_for(code).public()
        assert len(sessions._checked) <= 3


def test_login_over_http_sets_a_strict_http_only_cookie(api: Api) -> None:
    headers = login(api.client, key_for("PK"))
    who = api.client.get("/api/session", headers=headers)
    assert who.status_code == 200
    assert who.json()["vkey"] == key_for("PK").public().vkey()
    assert api.client.post("/api/login/challenge").json()["tag"] == "parley/v1/login"
    vkey = key_for("AF").public().vkey()
    answer = login_answer(api.client, key_for("AF"))
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie and "Secure" not in cookie
    # the browser's cookie alone is a session
    assert api.client.get("/api/session").json()["vkey"] == vkey
    assert api.client.post("/api/logout").status_code == 204


def test_cookies_are_secure_behind_https(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, origin="https://parley.example")
    with TestClient(create_app(settings, services=make_services())) as client:
        assert client.post("/api/login/challenge").json()["server"] == "https://parley.example"
        answer = login_answer(client, key_for("PK"))
        assert "Secure" in answer.headers["set-cookie"]


@pytest.mark.parametrize(
    "token",
    ["v1.eyJleHAiOjEsInZrZXkiOiJQSyJ9.AAAA", "garbage", "v2.a.b", ""],
)
def test_a_bad_token_is_401_with_a_challenge_header(api: Api, token: str) -> None:
    answer = api.client.get("/api/negotiations", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert answer.json()["error"]["code"] == "unauthenticated"


def test_a_cosignature_key_cannot_log_in(api: Api) -> None:
    key = SigningKey.from_seed("witness", b"w" * 32, COSIGNATURE_V1)
    assert login_answer(api.client, key).status_code == 422
