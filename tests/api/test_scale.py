"""Scale-out on PostgreSQL: two real ``parley serve`` processes on one database, many concurrent
clients writing to the same negotiations through both; then one server is killed mid-load.

What must hold: one gapless log holding every event exactly once; every acknowledged event
stored exactly once; both servers and every client see the same events and the same head; and
after ``kill -9`` the other server keeps serving and nothing acknowledged is lost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from parley.core import merkle, moves, tiles
from parley.core.checkpoint import open_checkpoint
from parley.core.event import EventType
from parley.core.keys import parse_vkey
from parley.core.note import parse_note
from tests.api.servers import Participant, Server, servers
from tests.negotiation import key_for, make_charter
from tests.storage.conftest import postgres_schema

pytestmark = pytest.mark.postgres

CODES = ("PK", "AF", "QA", "TR")
NEGOTIATIONS = 2
EVENTS_EACH = 6
DEADLINE = 90.0
"""Bound on each load phase, in seconds (it normally takes a few)."""


@pytest.fixture
def database() -> Iterator[str]:
    with postgres_schema() as url:
        yield url


@dataclass
class Load:
    """What the clients were told: acknowledged event hashes, and anything unexpected."""

    acked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _open(url: str, nonce: str) -> str:
    charter = make_charter(nonce=nonce)
    qa = Participant(url, "QA", key_for("QA"), charter.id)
    event = moves.convene(charter, key_for("QA"), "QA", "2026-03-01T09:00:00Z")
    answer = qa.http.post("/api/negotiations", json=event.to_json(), headers=qa.headers)
    assert answer.status_code == 201, answer.text
    for code in CODES:
        who = Participant(url, code, key_for(code), charter.id)
        state = who.sync()
        join = moves.make(state, who.key, code, EventType.JOIN, moves.join(state),
                          "2026-03-01T09:01:00Z")  # fmt: skip
        assert who.submit(join) == 201
        who.close()
    qa.close()
    return charter.id


def _write(client: Participant, count: int, load: Load, fallback: str | None) -> None:
    """Submit ``count`` statements, refetching after each conflict; move on if the server dies."""
    done, end = 0, time.monotonic() + DEADLINE
    while done < count and time.monotonic() < end:
        try:
            client.sync()
            event = client.statement(f"{client.code} via {client.url[-5:]} #{done}")
            status = client.submit(event)
        except httpx.TransportError:
            if fallback is None or client.url == fallback:
                raise
            client.connect(fallback)  # the other server: same secret, same database
            continue
        if status == 201:
            with load.lock:
                load.acked.append(event.hash)
            done += 1
        elif status != 409:
            with load.lock:
                load.problems.append(f"{client.code}: unexpected {status}")
            return


def _run(clients: list[Participant], count: int, load: Load, fallback: str | None = None,
         during: object = None) -> None:  # fmt: skip
    threads = [threading.Thread(target=_safe, args=(c, count, load, fallback)) for c in clients]
    for thread in threads:
        thread.start()
    if callable(during):
        during()
    for thread in threads:
        thread.join(timeout=DEADLINE + 30)
    assert not any(t.is_alive() for t in threads)


def _safe(client: Participant, count: int, load: Load, fallback: str | None) -> None:
    try:
        _write(client, count, load, fallback)
    except Exception as exc:  # reported, not swallowed: the test asserts there are none
        with load.lock:
            load.problems.append(f"{client.code}@{client.url}: {exc!r}")


def _view(server: Server, negotiation: str) -> list[str]:
    """Every event hash of a negotiation as a participant sees it through ``server``."""
    reader = Participant(server.url, "PK", key_for("PK"), negotiation)
    state = reader.sync()
    reader.close()
    hashes = [e.hash for e in reader.events]
    assert [e.envelope.seq for e in reader.events] == list(range(len(hashes)))
    assert state.head == hashes[-1]
    return hashes


def _log(server: Server) -> list[str]:
    """The log's entries, read through tlog-tiles, checked against the signed checkpoint."""
    setup = httpx.get(server.url + "/api/log/setup").json()
    note = httpx.get(server.url + "/log/checkpoint").text
    checkpoint = open_checkpoint(parse_note(note), [parse_vkey(setup["vkey"])]).checkpoint

    def fetch(level: int, n: int, width: int) -> bytes:
        answer = httpx.get(f"{server.url}/log/{tiles.tile_path(level, n, width)}")
        answer.raise_for_status()
        return answer.content

    reader = tiles.TileHashReader(checkpoint.size, fetch)
    assert merkle.tree_hash(checkpoint.size, reader) == checkpoint.root_hash
    entries: list[str] = []
    for bundle in tiles.entry_bundles_for_size(checkpoint.size):
        data = httpx.get(f"{server.url}/log/{bundle.path}").content
        entries += [e.hex() for e in tiles.decode_entry_bundle(data, bundle.width)]
    return entries


def _check(live: list[Server], negotiations: list[str], load: Load,
           clients: list[Participant]) -> None:  # fmt: skip
    assert load.problems == []
    views = {s.url: {n: _view(s, n) for n in negotiations} for s in live}
    first = next(iter(views.values()))
    assert all(view == first for view in views.values()), "the servers disagree"
    stored = [h for n in negotiations for h in first[n]]
    assert len(stored) == len(set(stored))
    assert sorted(set(load.acked)) == sorted(load.acked)
    assert set(load.acked) <= set(stored), "an acknowledged event is missing"
    for server in live:
        entries = _log(server)
        assert sorted(entries) == sorted(stored), "the log is not exactly the events"
    for client in clients:
        if client.url not in views:  # it finished before its server was killed: read elsewhere
            client.connect(live[0].url)
        client.sync()
        assert [e.hash for e in client.events] == first[client.negotiation]


def test_two_servers_one_database_concurrent_clients_and_a_kill(
    tmp_path: Path, database: str
) -> None:
    home = tmp_path / "home"
    clients: list[Participant] = []
    with servers(home, database, 2) as (a, b), _closing(clients):
        negotiations = [_open(a.url, f"scale-out-{i}") for i in range(NEGOTIATIONS)]
        clients += [
            Participant(server.url, code, key_for(code), nid)
            for nid in negotiations for code in CODES for server in (a, b)
        ]  # fmt: skip
        load = Load()
        _run(clients, EVENTS_EACH, load)
        expected = NEGOTIATIONS * len(CODES) * 2 * EVENTS_EACH
        assert len(load.acked) == expected, load.problems
        _check([a, b], negotiations, load, clients)

        # kill -9 one server while the clients write through both; they move to the other
        def kill_soon() -> None:
            target = len(load.acked) + expected // 4
            end = time.monotonic() + DEADLINE
            while len(load.acked) < target and time.monotonic() < end:
                time.sleep(0.01)
            a.kill()

        _run(clients, EVENTS_EACH, load, fallback=b.url, during=kill_soon)
        assert a.process.poll() is not None
        assert any(c.url == b.url for c in clients[::2]), "no client was writing through a"
        assert len(load.acked) == 2 * expected, load.problems
        _check([b], negotiations, load, clients)

        # a restarted server sees exactly the same log and negotiations
        with servers(home, database, 1) as (c,):
            _check([c, b], negotiations, load, clients)


@contextmanager
def _closing(clients: list[Participant]) -> Iterator[None]:
    try:
        yield
    finally:
        for client in clients:
            client.close()
