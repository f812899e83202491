"""Fixtures for the HTTP API: an app over an in-memory store, logged-in clients, a live server.

The app gets deterministic keys (the test table's delegations, log and log witnesses), a clock
that ticks a minute per call, and limits high enough that only the tests about limits meet them.
"""

from __future__ import annotations

import base64
import socket
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from starlette.exceptions import StarletteDeprecationWarning

from parley import services as svc
from parley.api.app import create_app
from parley.api.login import login_payload
from parley.api.settings import Limits, Live, Settings
from parley.core import moves, protocol
from parley.core.charter import Charter
from parley.core.event import EventType, SignedEvent
from parley.core.keys import SigningKey
from parley.store import MemoryStore, Store
from tests.negotiation import LOG_KEY, WITNESS_KEYS, key_for, make_charter

with warnings.catch_warnings():
    # Starlette asks for the httpx2 package; the httpx that FastAPI installs works the same.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

SECRET = b"parley test secret, 32 bytes or more"
CODES = ("PK", "AF", "QA", "TR")
GENEROUS = Limits(rate_per_second=100_000.0, rate_burst=100_000, logins_per_minute=100_000)


class Clock:
    """A minute per call, from 1 March 2026."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def log_setup() -> svc.LogSetup:
    return svc.LogSetup(LOG_KEY, [(f"{c}-log-witness", k) for c, k in WITNESS_KEYS.items()])


def make_services(store: Store | None = None) -> svc.Services:
    return svc.Services(store or MemoryStore(), log_setup(), Clock())


def make_settings(home: Path, **changes: Any) -> Settings:
    values: dict[str, Any] = {"home": home, "secret": SECRET, "limits": GENEROUS}
    values.update(changes)
    return Settings(**values)


def counts(services: svc.Services) -> tuple[int, int]:
    """(events stored, log size): what an attack must not change."""
    with services.store.transaction() as tx:
        events = sum(len(tx.events(row.id)) for row in tx.negotiations())
        return events, tx.log_size()


def login_answer(client: httpx.Client, key: SigningKey) -> Any:
    """Ask for a challenge, sign it with ``key`` and post it: the login answer."""
    challenge = client.post("/api/login/challenge").json()
    vkey = key.public().vkey()
    signature = key.sign(login_payload(challenge["server"], challenge["challenge"], vkey))
    body = {
        "vkey": vkey,
        "challenge": challenge["challenge"],
        "signature": base64.b64encode(signature).decode(),
    }
    return client.post("/api/login", json=body)


def login(client: httpx.Client, key: SigningKey) -> dict[str, str]:
    """Log in with ``key``; the Authorization header for its session (cookies dropped)."""
    answer = login_answer(client, key)
    assert answer.status_code == 200, answer.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {answer.json()['token']}"}


@dataclass
class Party:
    """A test client acting for one delegation: its key and session."""

    client: TestClient
    code: str
    headers: dict[str, str]

    @property
    def key(self) -> SigningKey:
        return key_for(self.code)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        return self.client.post(path, headers={**self.headers, **(headers or {})}, **kwargs)


@dataclass
class Api:
    """An app over in-memory services, a client, and the negotiation played so far."""

    app: FastAPI
    services: svc.Services
    client: TestClient
    parties: dict[str, Party] = field(default_factory=dict)
    charter: Charter | None = None
    state: protocol.State | None = None

    def party(self, code: str, key: SigningKey | None = None) -> Party:
        if code not in self.parties:
            headers = login(self.client, key or key_for(code))
            self.parties[code] = Party(self.client, code, headers)
        return self.parties[code]

    @property
    def nid(self) -> str:
        assert self.charter is not None
        return self.charter.id

    def convene(self, charter: Charter | None = None) -> str:
        self.charter = charter or make_charter(with_log=True)
        event = moves.convene(self.charter, key_for("QA"), "QA", self.services.now())
        answer = self.party("QA").post("/api/negotiations", json=event.to_json())
        assert answer.status_code == 201, answer.text
        self.state = protocol.start(event)
        return self.nid

    def build(
        self, code: str, move: EventType, body: dict[str, Any], audience: Any = None
    ) -> SignedEvent:
        assert self.state is not None
        return moves.make(
            self.state, key_for(code), code, move, body, self.services.now(), audience
        )

    def play(
        self, code: str, move: EventType, body: dict[str, Any], audience: Any = None
    ) -> SignedEvent:
        event = self.build(code, move, body, audience)
        answer = self.party(code).post(f"/api/negotiations/{self.nid}/events", json=event.to_json())
        assert answer.status_code == 201, answer.text
        assert self.state is not None
        self.state = protocol.apply(self.state, event)
        return event

    @property
    def s(self) -> protocol.State:
        assert self.state is not None
        return self.state

    def open(self) -> str:
        nid = self.convene()
        for code in CODES:
            assert self.state is not None
            self.play(code, EventType.JOIN, moves.join(self.state))
        return nid


@pytest.fixture
def services() -> svc.Services:
    return make_services()


@pytest.fixture
def api(tmp_path: Path, services: svc.Services) -> Iterator[Api]:
    app = create_app(make_settings(tmp_path / "server"), services=services)
    with TestClient(app) as client:
        yield Api(app, services, client)


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serving(build: Any) -> Iterator[str]:
    """Run ``build(origin)``'s app with uvicorn in a thread on a free loopback port; its URL."""
    sock = free_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(build(url), log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            threading.Event().wait(0.01)
        assert server.started, "the test server did not start"
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


FAST_LIVE = Live(poll_seconds=0.05, heartbeat_seconds=0.3, max_seconds=10.0)
