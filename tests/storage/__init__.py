"""Helpers for the storage tests: rows for real events, and one check of a whole store.

``check_store`` is what "consistent" means after concurrent writers or a crash: the log is
gapless and holds each event exactly once at the index the event row names, its stored Merkle
hashes are exactly those a fresh ``MemoryHashes`` writes for the same entries (so the root
recomputed from the entries equals ``merkle.tree_hash`` over the stored hashes), every
negotiation row matches its last event, and every negotiation's chain folds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from parley.core import merkle, moves, protocol
from parley.core.charter import Charter
from parley.core.event import EventType, SignedEvent, format_time
from parley.errors import ConflictError
from parley.store import NegotiationRow, Store, StoredEvent, Transaction
from tests.negotiation import key_for

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SPEAKERS = ("PK", "AF", "QA", "TR")


def row_after(state: protocol.State, event: SignedEvent, created: str) -> NegotiationRow:
    """The negotiation row once ``event`` is stored (``state`` already includes it)."""
    env = event.envelope
    return NegotiationRow(
        id=env.negotiation, title=state.charter.title, phase=state.phase.value,
        seq=env.seq + 1, head=event.hash, created=created, updated=env.time,
    )  # fmt: skip


def rows_for(events: Sequence[SignedEvent]) -> list[NegotiationRow]:
    """The row after each event of one negotiation's chain, folding as it goes."""
    state = protocol.start(events[0])
    created = events[0].envelope.time
    rows = [row_after(state, events[0], created)]
    for event in events[1:]:
        state = protocol.apply(state, event)
        rows.append(row_after(state, event, created))
    return rows


def append_chain(store: Store, events: Sequence[SignedEvent]) -> list[int]:
    """Append a chain one event per transaction; the log indexes."""
    indexes = []
    for event, row in zip(events, rows_for(events), strict=True):
        with store.transaction() as tx:
            indexes.append(tx.append(event, row))
    return indexes


def reference_log(entries: Iterable[str]) -> merkle.MemoryHashes:
    """The stored hashes an in-memory log writes for these event hashes."""
    log = merkle.MemoryHashes()
    for entry in entries:
        log.append(bytes.fromhex(entry))
    return log


def check_store(store: Store) -> dict[str, int]:
    """Assert the whole store is consistent (see the module docstring); event hash → log index."""
    with store.transaction() as tx:
        size = tx.log_size()
        entries = [tx.log_entry(i) for i in range(size)]
        _check_log(tx, entries)
        found: dict[str, int] = {}
        for row in tx.negotiations():
            chain = tx.events(row.id)
            _check_chain(row, chain)
            for stored in chain:
                assert stored.event.hash not in found
                found[stored.event.hash] = stored.log_index
    logged = {entry: i for i, entry in enumerate(entries)}
    assert found == logged, (
        f"events outside the log: {sorted(found.items() - logged.items())}; "
        f"log entries outside the events: {sorted(logged.items() - found.items())}"
    )
    return found


def _check_log(tx: Transaction, entries: list[str]) -> None:
    size = len(entries)
    assert len(set(entries)) == size, "an event is in the log twice"
    reference = reference_log(entries)
    count = merkle.stored_hash_count(size)
    assert tx.read_hashes(range(count)) == list(reference.stored)
    leaves = [merkle.leaf_hash(bytes.fromhex(entry)) for entry in entries]
    assert merkle.tree_hash(size, tx) == merkle.root(leaves) == reference.root()


def _check_chain(row: NegotiationRow, chain: list[StoredEvent]) -> None:
    events = [stored.event for stored in chain]
    assert [e.envelope.seq for e in events] == list(range(len(events)))
    state = protocol.fold(events)
    last = events[-1]
    assert row.seq == len(events) == state.seq
    assert row.head == last.hash == state.head
    assert row.phase == state.phase.value
    assert row.updated == last.envelope.time
    assert row.created == events[0].envelope.time
    assert row.title == state.charter.title


# --- writers that share negotiations with other processes ----------------------------------------


def move_time(seq: int) -> str:
    """Event ``seq`` is dated ``seq`` minutes after the start: every writer agrees on it."""
    return format_time(START + timedelta(minutes=seq))


class Player:
    """Makes moves in negotiations other processes also write to: fetch, build, append, retry.

    Each event is built on the state the store holds right now; if someone moved first the
    store says ConflictError, and the move is rebuilt on the new state. Charters are dated at
    the start and made by QA, so every player builds the same charter event for one charter.
    """

    def __init__(self, store: Store, name: str) -> None:
        self.store = store
        self.name = name
        self.states: dict[str, protocol.State] = {}
        self.conflicts = 0

    def refresh(self, negotiation_id: str) -> protocol.State | None:
        """The negotiation as stored now (fetching only the events not seen yet)."""
        state = self.states.get(negotiation_id)
        with self.store.transaction() as tx:
            new = tx.events(negotiation_id, since=0 if state is None else state.seq)
        for stored in new:
            event = stored.event
            state = protocol.start(event) if state is None else protocol.apply(state, event)
        if state is not None:
            self.states[negotiation_id] = state
        return state

    def build(self, charter: Charter, n: int) -> tuple[SignedEvent, NegotiationRow]:
        """The next move: the charter, then every join, then statements; and its row."""
        state = self.refresh(charter.id)
        if state is None:
            event = moves.convene(charter, key_for("QA"), "QA", move_time(0))
            return event, row_after(protocol.start(event), event, move_time(0))
        if state.phase is protocol.Phase.CONVENING:
            code = next(c for c in charter.codes() if c not in state.joined)
            move, body = EventType.JOIN, moves.join(state)
        else:
            code = SPEAKERS[n % len(SPEAKERS)]
            move, body = EventType.STATEMENT, moves.statement(f"{self.name}, move {n}.")
        event = moves.make(state, key_for(code), code, move, body, move_time(state.seq))
        return event, row_after(protocol.apply(state, event), event, move_time(0))

    def submit(self, charter: Charter, n: int, attempts: int = 1000) -> tuple[str, int]:
        """Append move ``n`` to ``charter``'s negotiation, retrying conflicts; (hash, index)."""
        for _ in range(attempts):
            event, row = self.build(charter, n)
            try:
                with self.store.transaction() as tx:
                    index = tx.append(event, row)
            except ConflictError:
                self.conflicts += 1
                continue
            return event.hash, index
        raise AssertionError(f"{self.name} lost {attempts} races in a row")
