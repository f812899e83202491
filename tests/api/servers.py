"""Real ``parley serve`` processes on free loopback ports, and clients that act through them.

Used by the scale-out test and the server benchmark. A server is a subprocess in its own session
(so it can be killed with everything it started); ``stop`` ends only the processes started here.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from parley.core import moves, protocol
from parley.core.event import EventType, SignedEvent, event_from_json, format_time, parse_time
from parley.core.keys import SigningKey
from tests.api.conftest import login

SERVE = "from parley.cli.main import main; main()"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One ``parley serve`` process."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """kill -9 the server (and its workers)."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def start(
    home: Path, database_url: str, *, workers: int = 1, env: dict[str, str] | None = None
) -> Server:
    """Start ``parley serve`` and wait until it answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = home.parent / f"server-{port}.log"
    environ = {
        **os.environ,
        "PARLEY_HOME": str(home),
        "PARLEY_DATABASE_URL": database_url,
        "PARLEY_RATE_PER_SECOND": "1000000",
        "PARLEY_RATE_BURST": "1000000",
        "PARLEY_LOGINS_PER_MINUTE": "1000000",
        **(env or {}),
    }
    command = [sys.executable, "-c", SERVE, "serve", "--port", str(port), "--workers", str(workers)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=environ, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(url, process, log)
    _wait(server)
    return server


def _wait(server: Server, seconds: float = 60.0) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if server.process.poll() is not None:
            raise AssertionError(f"parley serve exited: {server.log.read_text()[-2000:]}")
        with suppress(httpx.HTTPError):
            if httpx.get(server.url + "/api/health", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    server.stop()
    raise AssertionError(f"parley serve did not answer in {seconds} s: {server.log.read_text()}")


@contextmanager
def servers(home: Path, database_url: str, count: int, *, workers: int = 1,
            env: dict[str, str] | None = None) -> Iterator[list[Server]]:  # fmt: skip
    """``count`` servers on one database and one home (shared secret and log key)."""
    started: list[Server] = []
    try:
        for _ in range(count):
            started.append(start(home, database_url, workers=workers, env=env))
        yield started
    finally:
        for server in started:
            server.stop()


@dataclass
class Participant:
    """A client acting for one participant through one server; it folds what it fetches."""

    url: str
    code: str
    key: SigningKey
    negotiation: str
    http: httpx.Client = field(init=False)
    headers: dict[str, str] = field(init=False)
    events: list[SignedEvent] = field(default_factory=list)
    state: protocol.State | None = None

    def __post_init__(self) -> None:
        self.connect(self.url)

    def connect(self, url: str) -> None:
        """Talk to ``url`` from now on (a new login there)."""
        if hasattr(self, "http"):
            self.http.close()
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=30)
        self.headers = login(self.http, self.key)

    def sync(self) -> protocol.State:
        """Fetch the events after those folded, and fold them."""
        path = f"/api/negotiations/{self.negotiation}/events"
        answer = self.http.get(path, params={"since": len(self.events)}, headers=self.headers)
        answer.raise_for_status()
        for wire in answer.json()["events"]:
            event = event_from_json(wire)
            self.state = (
                protocol.start(event) if self.state is None else protocol.apply(self.state, event)
            )
            self.events.append(event)
        assert self.state is not None
        return self.state

    def statement(self, words: str) -> SignedEvent:
        """A statement signed on the state as fetched, dated no earlier than the head."""
        state = self.state or self.sync()
        when = max(datetime.now(UTC), parse_time(state.time))
        return moves.make(state, self.key, self.code, EventType.STATEMENT,
                          moves.statement(words), format_time(when))  # fmt: skip

    def submit(self, event: SignedEvent) -> int:
        """Post an event; its status (201 acknowledged, 409 someone moved first)."""
        path = f"/api/negotiations/{self.negotiation}/events"
        answer = self.http.post(path, json=event.to_json(), headers=self.headers)
        if answer.status_code == 201:
            assert self.state is not None
            self.state = protocol.apply(self.state, event)
            self.events.append(event)
        return answer.status_code

    def close(self) -> None:
        self.http.close()
