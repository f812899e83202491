"""Group commit: concurrent submitters each get their own receipt or error; nothing is lost."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from parley import services as svc
from parley.core import moves
from parley.core.event import EventType as T
from parley.core.event import SignedEvent
from parley.errors import ParleyError
from parley.group_commit import GroupCommit
from parley.store import MemoryStore
from tests.negotiation import Table, make_charter


class CountingServices(svc.Services):
    """Services that remember the size of every batch they were given."""

    def __init__(self) -> None:
        super().__init__(MemoryStore())
        self.batches: list[int] = []

    def submit_batch(self, events: Any) -> Any:
        self.batches.append(len(events))
        return super().submit_batch(events)


def test_many_submitters_many_negotiations_one_gapless_log() -> None:
    services = CountingServices()
    commits = GroupCommit(services, max_batch=8)
    tables = [Table(charter=make_charter(nonce=f"group-commit-{i:04d}")) for i in range(6)]
    joins = [
        [t.events[0]] + [t.play(c, T.JOIN, moves.join(t.s)) for c in ("PK", "AF", "QA", "TR")]
        for t in tables
    ]
    streams = [
        [t.play("AF", T.STATEMENT, moves.statement(f"s{i}")) for i in range(15)] for t in tables
    ]
    errors: list[ParleyError] = []

    async def push(events: list[SignedEvent]) -> None:
        for event in events:
            try:
                await commits.submit(event)
            except ParleyError as exc:
                errors.append(exc)

    async def main() -> None:
        for opening in joins:
            for event in opening:
                await commits.submit(event)
        services.batches.clear()
        await asyncio.gather(*(push(s) for s in streams))

    asyncio.run(main())
    assert errors == []
    with services.store.transaction() as tx:
        size = tx.log_size()
        entries = {tx.log_entry(i) for i in range(size)}
    assert size == 6 * (5 + 15)
    assert all(e.hash in entries for s in streams for e in s)
    assert max(services.batches) > 1, "concurrent submissions were never batched"
    assert max(services.batches) <= 8
    assert sum(services.batches) == 6 * 15


def test_a_refused_event_raises_for_its_submitter_only() -> None:
    services = svc.Services(MemoryStore())
    commits = GroupCommit(services)
    table = Table()
    too_early = table.build("PK", T.FINALIZE, {"version": "0" * 64})

    async def main() -> list[Any]:
        await commits.submit(table.events[0])
        join = table.play("PK", T.JOIN, moves.join(table.s))
        return await asyncio.gather(
            commits.submit(too_early), commits.submit(join), return_exceptions=True
        )

    refused, receipt = asyncio.run(main())
    assert isinstance(refused, ParleyError)
    assert isinstance(receipt, svc.Receipt)
    assert [e.envelope.type for e in services.events(table.charter.id)] == [T.CHARTER, T.JOIN]


def test_a_failing_store_fails_its_batch_and_the_next_batch_goes_on() -> None:
    services = svc.Services(MemoryStore())
    commits = GroupCommit(services)
    table = Table()
    calls = 0
    real = services.submit_batch

    def flaky(events: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("disk gone")
        return real(events)

    services.submit_batch = flaky  # type: ignore[method-assign]

    async def main() -> tuple[BaseException | None, svc.Receipt]:
        try:
            await commits.submit(table.events[0])
        except ParleyError as exc:
            first: BaseException | None = exc
        else:
            first = None
        return first, await commits.submit(table.events[0])

    first, receipt = asyncio.run(main())
    assert first is not None and "the store failed: OSError" in str(first)
    assert receipt.log_index == 0


def test_a_submitter_that_goes_away_does_not_stop_the_others() -> None:
    services = svc.Services(MemoryStore())
    commits = GroupCommit(services)
    table = Table()

    async def main() -> svc.Receipt:
        await commits.submit(table.events[0])
        join = table.play("PK", T.JOIN, moves.join(table.s))
        gone = asyncio.ensure_future(commits.submit(join))
        await asyncio.sleep(0)
        gone.cancel()
        statement = table.play("PK", T.STATEMENT, moves.statement("still here"))
        return await commits.submit(statement)

    receipt = asyncio.run(main())
    assert receipt.event.envelope.seq == 2
    assert len(services.events(table.charter.id)) == 3


@pytest.mark.parametrize("size", [1, 3])
def test_batches_never_exceed_max_batch(size: int) -> None:
    services = CountingServices()
    commits = GroupCommit(services, max_batch=size)
    tables = [Table(charter=make_charter(nonce=f"batch-size-{i}")) for i in range(7)]

    async def main() -> None:
        await asyncio.gather(*(commits.submit(t.events[0]) for t in tables))

    asyncio.run(main())
    assert max(services.batches) <= size
    assert sum(services.batches) == 7
