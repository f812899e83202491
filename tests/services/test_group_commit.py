"""Group commit: concurrent submitters each get their own receipt or error; nothing is lost."""

from __future__ import annotations

import threading

import pytest

from parley import services as svc
from parley.core import moves
from parley.core.event import EventType as T
from parley.errors import ParleyError
from parley.group_commit import GroupCommit
from parley.store import MemoryStore
from tests.negotiation import Table, make_charter


def test_many_threads_many_negotiations_one_gapless_log() -> None:
    services = svc.Services(MemoryStore())
    commits = GroupCommit(services, max_batch=8)
    tables = [Table(charter=make_charter(nonce=f"group-commit-{i:04d}")) for i in range(6)]
    for table in tables:
        commits.submit(table.events[0])
        for code in ("PK", "AF", "QA", "TR"):
            commits.submit(table.play(code, T.JOIN, moves.join(table.s)))
    streams = [
        [t.play("AF", T.STATEMENT, moves.statement(f"s{i}")) for i in range(15)] for t in tables
    ]
    errors: list[ParleyError] = []

    def push(events: list) -> None:
        for event in events:
            try:
                commits.submit(event)
            except ParleyError as exc:
                errors.append(exc)

    threads = [threading.Thread(target=push, args=(s,)) for s in streams]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with services.store.transaction() as tx:
        size = tx.log_size()
        entries = {tx.log_entry(i) for i in range(size)}
    assert size == 6 * (5 + 15)
    assert all(e.hash in entries for s in streams for e in s)


def test_a_refused_event_raises_for_its_submitter_only() -> None:
    services = svc.Services(MemoryStore())
    commits = GroupCommit(services)
    table = Table()
    commits.submit(table.events[0])
    too_early = table.build("PK", T.FINALIZE, {"version": "0" * 64})
    with pytest.raises(ParleyError):
        commits.submit(too_early)
    assert len(services.events(table.charter.id)) == 1
