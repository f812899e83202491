"""State documents: what each caller may read, brought up to date in batches, queried sparingly.

A batch of reads shares one transaction and one query for the negotiations' positions; the
events are read again only for a negotiation that moved, and a document is rendered once per
event its reader has seen. Every document is exactly the status folded from the events as that
caller may read them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from parley import services as svc
from parley.api.access import Seat, Views
from parley.batching import Batcher
from parley.cli.records import status_json
from parley.core import moves, protocol
from parley.core.event import EventType as T
from parley.errors import NotFoundError, ParleyError
from parley.storage import open_store
from parley.store import Transaction
from tests.api.conftest import make_services
from tests.negotiation import Table, key_for, make_charter
from tests.storage.conftest import database


class Counted:
    """A transaction that counts the event queries made through it."""

    def __init__(self, tx: Transaction, counts: dict[str, int]) -> None:
        self._tx = tx
        self._counts = counts

    def events(self, negotiation_id: str, since: int = 0) -> Any:
        self._counts[negotiation_id] = self._counts.get(negotiation_id, 0) + 1
        return self._tx.events(negotiation_id, since)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)


class CountingServices(svc.Services):
    """Services whose reads count the event queries, per negotiation."""

    counts: dict[str, int]

    @contextmanager
    def reading(self) -> Iterator[Transaction]:  # type: ignore[override]
        with super().reading() as tx:
            yield Counted(tx, self.counts)  # type: ignore[misc]


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def services(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CountingServices]:
    def counting(made: svc.Services) -> CountingServices:
        found = CountingServices(made.store, made.log_setup, made.clock)
        found.counts = {}
        return found

    if request.param == "memory":
        yield counting(make_services())
        return
    with database(request.param, tmp_path) as url:
        made = counting(make_services(open_store(url)))
        yield made
        made.store.close()


def _tables(services: svc.Services, count: int) -> list[Table]:
    tables = [Table(make_charter(nonce=f"views-{i:04d}")) for i in range(count)]
    for table in tables:
        services.submit(table.events[0])
        for code in ("PK", "AF", "QA", "TR"):
            services.submit(table.play(code, T.JOIN, moves.join(table.state)))
    return tables


def _expected(services: svc.Services, seat: Seat) -> Any:
    return status_json(protocol.fold(services.events(seat.negotiation, viewer=seat.code)))


def test_a_batch_answers_each_caller_as_it_may_read(services: CountingServices) -> None:
    views = Views(services)
    first, second = _tables(services, 2)
    caucus = moves.statement("between the parties only")
    services.submit(first.play("PK", T.STATEMENT, caucus, audience=["PK", "QA", "TR"]))
    seats = [Seat(t.charter.id, (code,)) for t in (first, second) for code in ("PK", "AF")]
    documents = views.state_documents(seats)
    assert [json.loads(d) for d in documents if isinstance(d, bytes)] == [
        _expected(services, seat) for seat in seats
    ]


def test_only_what_moved_is_read_again(services: CountingServices) -> None:
    views = Views(services)
    tables = _tables(services, 3)
    seats = [Seat(t.charter.id, ("AF",)) for t in tables]
    before = views.state_documents(seats)
    services.counts.clear()
    assert views.state_documents(seats) == before
    assert services.counts == {}, "nothing moved, yet events were read"
    moved = tables[1]
    services.submit(moved.play("PK", T.STATEMENT, moves.statement("news")))
    after = views.state_documents(seats)
    assert services.counts == {moved.charter.id: 1}
    assert after[0] is before[0] and after[2] is before[2]  # not even rendered again
    assert after[1] != before[1]
    assert json.loads(after[1]) == _expected(services, seats[1])


def test_an_unknown_negotiation_fails_alone(services: CountingServices) -> None:
    views = Views(services)
    (table,) = _tables(services, 1)
    seats = [Seat("0" * 64, ("PK",)), Seat(table.charter.id, ("PK",))]
    missing, found = views.state_documents(seats)
    assert isinstance(missing, ParleyError)
    assert isinstance(found, bytes)
    with pytest.raises(ParleyError):
        views.state_document(seats[0])


def test_a_stranger_has_no_seat(services: CountingServices) -> None:
    views = Views(services, size=2)  # fewer seats kept than asked for: some are looked up again
    (table,) = _tables(services, 1)
    for _ in range(2):
        with pytest.raises(NotFoundError):
            views.seat(table.charter.id, key_for("XX").public())
        for code in ("QA", "PK", "AF", "QA"):
            assert views.seat(table.charter.id, key_for(code).public()).codes == (code,)
        with pytest.raises(NotFoundError):
            views.seat("0" * 64, key_for("QA").public())


def test_concurrent_reads_share_a_batch() -> None:
    sizes: list[int] = []

    def handle(requests: list[int]) -> list[int | ParleyError]:
        sizes.append(len(requests))
        return [r * 2 if r >= 0 else NotFoundError(f"no {r}") for r in requests]

    batcher: Batcher[int, int] = Batcher(handle, "stopped", max_batch=4)

    async def main() -> list[Any]:
        return await asyncio.gather(*(batcher.ask(r) for r in (1, 2, -3, 4, 5, 6)),
                                    return_exceptions=True)  # fmt: skip

    answers = asyncio.run(main())
    assert answers[:2] == [2, 4] and answers[3:] == [8, 10, 12]
    assert isinstance(answers[2], NotFoundError)
    assert max(sizes) > 1 and max(sizes) <= 4 and sum(sizes) == 6


@pytest.mark.parametrize("linger", [0.0, 0.05])
def test_a_batch_lingers_for_the_requesters_just_answered(linger: float) -> None:
    """Seven requesters ask together, an eighth a moment later. Without lingering they split into
    two groups that alternate (7, 1, 7, 1, …); lingering, the next batch waits for the seven to
    come back and all eight go together from then on."""
    sizes: list[int] = []

    def handle(requests: list[int]) -> list[int | ParleyError]:
        sizes.append(len(requests))
        return list(requests)

    batcher: Batcher[int, int] = Batcher(handle, "stopped", linger=linger)

    async def requester(me: int, late: bool) -> None:
        if late:
            await asyncio.sleep(0)  # the others' batch has left
        for _ in range(6):
            assert await batcher.ask(me) == me

    async def main() -> None:
        await asyncio.gather(*(requester(i, late=i == 7) for i in range(8)))

    asyncio.run(main())
    assert sum(sizes) == 48
    if linger:
        assert sizes[:2] == [7, 8] and sizes[-1] == 1
    else:
        assert sizes[:4] == [7, 1, 7, 1]
