"""One contract for every store: in memory, SQLite, PostgreSQL behave the same.

Real signed events from ``tests.negotiation.Table`` go in; the same bytes, hashes and log come
out; the optimistic lock refuses a stale event and writes nothing; a rolled-back transaction
leaves no trace.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy

from parley.core import merkle, moves
from parley.core import text as text_model
from parley.core.event import EventType as T
from parley.core.event import SignedEvent, sign_event
from parley.core.protocol import Mode
from parley.core.witness import Cosigned
from parley.errors import ConflictError, InvalidInputError, NotFoundError
from parley.storage import open_store
from parley.store import NegotiationRow, Store, StoredCheckpoint, StoredEvent
from tests.negotiation import Table, clean_text, key_for, make_charter
from tests.storage import append_chain, check_store, reference_log, row_after, rows_for
from tests.storage.conftest import Backend, postgres_schema


def concluded(nonce: str = "test-nonce-0001") -> Table:
    """A whole negotiation, with a comment only its author and the mediators may read."""
    table = Table(make_charter(nonce=nonce)).open()
    text = clean_text()
    v = text_model.version_hash(text)
    table.play("QA", T.PROPOSE, moves.propose(text))
    table.play("QA", T.SEND, moves.send(v, ["AF", "PK"]))
    audience = ("PK", "QA", "TR")
    table.play("PK", T.COMMENT, moves.comment(v, "art-1", "Say «attacks» once."), audience)
    table.play("PK", T.ACCEPT, moves.accept(v))
    table.play("AF", T.ACCEPT, moves.accept(v, Mode.AD_REFERENDUM))
    table.play("AF", T.CONFIRM, moves.confirm(v))
    table.play("TR", T.FINALIZE, moves.finalize(text))
    signs = [table.play(party, T.SIGN, moves.sign(v)).hash for party in ("PK", "AF")]
    table.play("QA", T.WITNESS, moves.witness(signs[0]))
    table.play("TR", T.WITNESS, moves.witness(signs[1]))
    for guarantor in ("QA", "TR"):
        table.play(guarantor, T.ENDORSE, moves.endorse(v, signs))
    return table


def snapshot(store: Store) -> tuple[object, ...]:
    """Everything a failed write could have touched."""
    with store.transaction() as tx:
        size = tx.log_size()
        rows = tx.negotiations()
        chains = [tx.events(row.id) for row in rows]
        hashes = tx.read_hashes(range(merkle.stored_hash_count(size)))
        return size, rows, chains, hashes, tx.checkpoint()


# --- events in, the same events out --------------------------------------------------------------


def test_a_negotiation_reads_back_byte_identical(store: Store) -> None:
    table = concluded()
    assert append_chain(store, table.events) == list(range(len(table.events)))
    with store.transaction() as tx:
        stored = tx.events(table.s.negotiation)
        assert stored == [StoredEvent(e, i) for i, e in enumerate(table.events)]
        for original, back in zip(table.events, stored, strict=True):
            assert back.event.to_json() == original.to_json()
            assert back.event.envelope.signed_bytes() == original.envelope.signed_bytes()
            assert back.event.signature == original.signature
            assert tx.event(original.hash) == back
        assert tx.events(table.s.negotiation, since=5) == stored[5:]
        assert tx.events(table.s.negotiation, since=5, limit=2) == stored[5:7]  # a page
        assert tx.events(table.s.negotiation, since=len(stored) - 1, limit=9) == stored[-1:]
        assert tx.negotiation(table.s.negotiation) == rows_for(table.events)[-1]
        assert tx.event("0" * 64) is None
        assert tx.events("0" * 64) == []
        assert tx.negotiation("0" * 64) is None
    check_store(store)


def test_what_is_stored_survives_reopening(backend: Backend) -> None:
    table = concluded()
    first = backend.open()
    append_chain(first, table.events)
    first.close()
    again = backend.open()
    try:
        assert check_store(again) == {e.hash: i for i, e in enumerate(table.events)}
    finally:
        again.close()


def test_a_redacted_copy_is_stored_without_its_body(store: Store) -> None:
    table = concluded()
    events = table.events[:8]
    withheld = events[7]
    assert withheld.envelope.type is T.COMMENT
    rows = rows_for(events)
    with store.transaction() as tx:
        for event, row in zip(events, rows, strict=True):
            tx.append(event.without_body() if event is withheld else event, row)
    with store.transaction() as tx:
        back = tx.event(withheld.hash)
    assert back is not None
    assert back.event.body is None
    assert back.event == withheld.without_body()


def test_negotiations_are_listed_most_recently_updated_first(store: Store) -> None:
    older = Table(make_charter(nonce="first-one")).open()
    newer = Table(make_charter(nonce="second-1"), clock=older.clock + timedelta(days=1)).open()
    append_chain(store, older.events)
    append_chain(store, newer.events[:2])
    with store.transaction() as tx:
        assert [row.id for row in tx.negotiations()] == [newer.s.negotiation, older.s.negotiation]
    older.play("PK", T.STATEMENT, moves.statement("Still here."), None)
    older.clock += timedelta(days=2)
    older.play("PK", T.STATEMENT, moves.statement("Still here, later."))
    append_chain_from(store, older, len(older.events) - 2)
    with store.transaction() as tx:
        assert [row.id for row in tx.negotiations()] == [older.s.negotiation, newer.s.negotiation]


# --- the optimistic lock -------------------------------------------------------------------------


def test_an_event_on_a_stale_seq_is_a_conflict_and_writes_nothing(store: Store) -> None:
    table = Table()
    append_chain(store, table.events)
    first = table.build("QA", T.JOIN, moves.join(table.s))
    second = table.build("PK", T.JOIN, moves.join(table.s))  # same seq, same prev
    state = table.s
    with store.transaction() as tx:
        tx.append(first, row_after(state, first, table.events[0].envelope.time))
    before = snapshot(store)
    with pytest.raises(ConflictError, match="someone moved first"), store.transaction() as tx:
        tx.append(second, row_after(state, second, table.events[0].envelope.time))
    assert snapshot(store) == before
    with store.transaction() as tx:
        assert tx.event(second.hash) is None


def test_an_event_on_a_stale_prev_is_a_conflict_and_writes_nothing(store: Store) -> None:
    table = Table()
    append_chain(store, table.events)
    table.play("QA", T.JOIN, moves.join(table.s))
    append_chain_from(store, table, 1)
    forged = sign_event(
        key_for("PK"), negotiation=table.s.negotiation, seq=table.s.seq, prev="ab" * 32,
        type=T.JOIN, author="PK", time=table.tick(), body=moves.join(table.s),
    )  # fmt: skip
    before = snapshot(store)
    with pytest.raises(ConflictError), store.transaction() as tx:
        tx.append(forged, row_after(table.s, forged, table.events[0].envelope.time))
    assert snapshot(store) == before


def test_a_second_charter_for_the_same_negotiation_is_a_conflict(store: Store) -> None:
    table = Table()
    append_chain(store, table.events)
    again = moves.convene(table.charter, key_for("TR"), "TR", table.tick())
    assert again.hash != table.events[0].hash
    before = snapshot(store)
    with pytest.raises(ConflictError), store.transaction() as tx:
        tx.append(again, rows_for([again])[0])
    assert snapshot(store) == before


def test_the_same_event_twice_is_a_conflict(store: Store) -> None:
    table = Table().open()
    append_chain(store, table.events)
    before = snapshot(store)
    last, rows = table.events[-1], rows_for(table.events)
    with pytest.raises(ConflictError), store.transaction() as tx:
        tx.append(last, rows[-1])
    with pytest.raises(ConflictError), store.transaction() as tx:
        tx.append(table.events[0], rows[0])
    assert snapshot(store) == before


def test_a_row_that_does_not_follow_from_the_event_is_refused(store: Store) -> None:
    table = Table()
    event = table.events[0]
    row = rows_for([event])[0]
    for bad in (replace(row, seq=2), replace(row, head="cd" * 32), replace(row, id="ef" * 32)):
        with pytest.raises(InvalidInputError), store.transaction() as tx:
            tx.append(event, bad)
    assert snapshot(store) == (0, [], [], [], None)


def test_a_conflict_leaves_the_transaction_usable(store: Store) -> None:
    table = Table()
    charter, row = table.events[0], rows_for(table.events)[0]
    with store.transaction() as tx:
        tx.append(charter, row)
        with pytest.raises(ConflictError):
            tx.append(charter, row)
        tx.put_version(table.s.negotiation, "ab" * 32, {"kept": True})
    with store.transaction() as tx:
        assert tx.log_size() == 1
        assert tx.version("ab" * 32) == {"kept": True}


# --- the log -------------------------------------------------------------------------------------


def test_stored_hashes_equal_the_reference_log(store: Store) -> None:
    one, two = concluded("nonce-one-0001"), concluded("nonce-two-0002")
    rows_one, rows_two = rows_for(one.events), rows_for(two.events)
    order: list[tuple[SignedEvent, NegotiationRow]] = []
    for i in range(max(len(one.events), len(two.events))):
        order += [(e[i], r[i]) for e, r in ((one.events, rows_one), (two.events, rows_two))
                  if i < len(e)]  # fmt: skip
    for event, row in order:
        with store.transaction() as tx:
            tx.append(event, row)
    entries = [event.hash for event, _ in order]
    reference = reference_log(entries)
    with store.transaction() as tx:
        size = tx.log_size()
        assert size == len(entries) == reference.size
        assert [tx.log_entry(i) for i in range(size)] == entries
        count = merkle.stored_hash_count(size)
        assert tx.read_hashes(range(count)) == list(reference.stored)
        assert tx.read_hashes([7, 3, 7, 0]) == [reference.stored[i] for i in (7, 3, 7, 0)]
        assert tx.read_hashes([]) == []
        for n in (1, 2, 5, size):
            assert merkle.tree_hash(n, tx) == merkle.tree_hash(n, reference)
        proof = merkle.prove_inclusion(9, size, tx)
        merkle.verify_inclusion(9, size, reference.stored[merkle.stored_hash_index(0, 9)],
                                proof, reference.root())  # fmt: skip
        with pytest.raises(InvalidInputError):
            tx.read_hashes([count])
        with pytest.raises(NotFoundError):
            tx.log_entry(size)
    check_store(store)


# --- versions, short hashes, checkpoints, witnesses ----------------------------------------------


def test_versions_are_kept_once(store: Store) -> None:
    text = clean_text()
    v = text_model.version_hash(text)
    body = text_model.to_json(text)
    with store.transaction() as tx:
        assert tx.version(v) is None
        tx.put_version("aa" * 32, v, body)
        tx.put_version("bb" * 32, v, {"other": "text"})  # idempotent: the first is kept
    with store.transaction() as tx:
        assert tx.version(v) == body
        tx.put_version("aa" * 32, v, body)
        assert tx.version(v) == body


def test_short_hashes_complete_to_events_and_versions(store: Store) -> None:
    table = Table().open()
    append_chain(store, table.events)
    text = clean_text()
    v = text_model.version_hash(text)
    with store.transaction() as tx:
        tx.put_version(table.s.negotiation, v, text_model.to_json(text))
    hashes = [e.hash for e in table.events] + [v]
    with store.transaction() as tx:
        for full in hashes:
            for length in (4, 9, 64):
                expected = sorted(h for h in hashes if h.startswith(full[:length]))
                assert tx.complete(full[:length]) == expected
                assert full in expected
        absent = next(p for p in (f"{i:04x}" for i in range(1 << 16))
                      if not any(h.startswith(p) for h in hashes))  # fmt: skip
        assert tx.complete(absent) == []


def test_checkpoints_never_shrink(store: Store) -> None:
    with store.transaction() as tx:
        assert tx.checkpoint() is None
        tx.put_checkpoint(StoredCheckpoint(3, "note at 3\n"))
        tx.put_checkpoint(StoredCheckpoint(5, "note at 5\n"))
    with store.transaction() as tx:
        assert tx.checkpoint() == StoredCheckpoint(5, "note at 5\n")
        with pytest.raises(ConflictError, match="size 5"):
            tx.put_checkpoint(StoredCheckpoint(4, "note at 4\n"))
        assert tx.checkpoint() == StoredCheckpoint(5, "note at 5\n")
        tx.put_checkpoint(StoredCheckpoint(5, "note at 5, cosigned\n"))
    with store.transaction() as tx:
        assert tx.checkpoint() == StoredCheckpoint(5, "note at 5, cosigned\n")


def test_a_negotiations_charter_event_is_found_by_its_place(store: Store) -> None:
    table = Table().open()
    append_chain(store, table.events)
    with store.transaction() as tx:
        found = tx.charter_event(table.s.negotiation)
        assert found is not None and found.event == table.events[0]
        assert tx.charter_event("0" * 64) is None


def test_the_log_key_is_claimed_once(store: Store) -> None:
    with store.transaction() as tx:
        assert tx.log_key() is None
        assert tx.claim_log_key("first+00000000+AA") == "first+00000000+AA"
    with store.transaction() as tx:
        assert tx.claim_log_key("second+00000000+AA") == "first+00000000+AA"
        assert tx.log_key() == "first+00000000+AA"


def test_witness_state_moves_only_by_compare_and_set(store: Store) -> None:
    first = Cosigned(3, b"\x01" * 32, b"note 3\n")
    second = Cosigned(8, b"\x02" * 32, b"note 8\n\xe2\x80\x94 sig\n")
    late = Cosigned(9, b"\x03" * 32, b"note 9\n")
    with store.transaction() as tx:
        assert tx.witness_latest("w", "log.example") is None
        assert tx.witness_compare_and_set("w", "log.example", None, first)
        assert not tx.witness_compare_and_set("w", "log.example", None, late)
    with store.transaction() as tx:
        assert tx.witness_latest("w", "log.example") == first
        assert tx.witness_compare_and_set("w", "log.example", 3, second)
        assert not tx.witness_compare_and_set("w", "log.example", 3, late)
        assert tx.witness_compare_and_set("w2", "log.example", None, late)
        assert tx.witness_compare_and_set("w", "other.example", None, late)
    with store.transaction() as tx:
        assert tx.witness_latest("w", "log.example") == second
        assert tx.witness_latest("w2", "log.example") == late


# --- transactions --------------------------------------------------------------------------------


def test_many_appends_in_one_transaction_read_back_in_it_and_after(store: Store) -> None:
    table = concluded()
    rows = rows_for(table.events)
    with store.transaction() as tx:
        indexes = [tx.append(event, row) for event, row in zip(table.events, rows, strict=True)]
        assert indexes == list(range(len(table.events)))
        assert tx.log_size() == len(table.events)
        assert [s.event for s in tx.events(table.s.negotiation)] == table.events
        assert tx.log_entry(len(table.events) - 1) == table.events[-1].hash
        assert tx.negotiation(table.s.negotiation) == rows[-1]
    assert check_store(store) == {e.hash: i for i, e in enumerate(table.events)}


def test_a_rolled_back_transaction_leaves_no_trace(store: Store) -> None:
    table = Table().open()
    append_chain(store, table.events[:2])
    before = snapshot(store)
    rows = rows_for(table.events)
    with pytest.raises(RuntimeError, match="changed my mind"), store.transaction() as tx:
        for event, row in zip(table.events[2:], rows[2:], strict=True):
            tx.append(event, row)
        tx.put_version(table.s.negotiation, "ab" * 32, {"text": "draft"})
        tx.put_checkpoint(StoredCheckpoint(5, "note\n"))
        tx.witness_compare_and_set("w", "o", None, Cosigned(5, b"\x00" * 32, b"n"))
        assert tx.log_size() == len(table.events)
        raise RuntimeError("changed my mind")
    assert snapshot(store) == before
    with store.transaction() as tx:
        assert tx.version("ab" * 32) is None
        assert tx.witness_latest("w", "o") is None
        assert tx.event(table.events[2].hash) is None
    append_chain_from(store, table, 2)
    check_store(store)


def append_chain_from(store: Store, table: Table, start: int) -> None:
    """Append ``table.events[start:]`` (rows computed over the whole chain)."""
    rows = rows_for(table.events)
    for event, row in zip(table.events[start:], rows[start:], strict=True):
        with store.transaction() as tx:
            tx.append(event, row)


def test_hashes_of_a_rolled_back_append_are_never_used_again(store: Store) -> None:
    """A store may keep committed stored hashes for later appends, never uncommitted ones."""
    one = Table(make_charter(nonce="rolled-back-one")).open()
    two = Table(make_charter(nonce="rolled-back-two")).open()
    append_chain(store, one.events[:1])
    with pytest.raises(RuntimeError, match="undo"), store.transaction() as tx:
        for event, row in zip(one.events[1:], rows_for(one.events)[1:], strict=True):
            tx.append(event, row)
        raise RuntimeError("undo")
    with store.transaction() as tx:  # what the rolled-back append wrote is not there
        beyond = merkle.stored_hash_count(tx.log_size())
        with pytest.raises(InvalidInputError):
            tx.read_hashes([beyond])
    append_chain(store, two.events)  # other leaves at the indexes the rolled-back append used
    append_chain_from(store, one, 1)
    check_store(store)


def _opened(store: Store, count: int, nonce: str) -> list[Table]:
    tables = [Table(make_charter(nonce=f"{nonce}-{i:04d}")).open() for i in range(count)]
    for table in tables:
        append_chain(store, table.events)
    return tables


def test_many_negotiations_move_in_one_transaction(store: Store) -> None:
    tables = _opened(store, 20, "many-moves")  # more moves than one statement carries
    with store.transaction() as tx:
        tx.prefetch([t.s.negotiation for t in tables])
        for table in tables:
            table.play("PK", T.STATEMENT, moves.statement("together"))
            tx.append(table.events[-1], rows_for(table.events)[-1])
    with store.transaction() as tx:
        for table in tables:
            assert tx.negotiation(table.s.negotiation) == rows_for(table.events)[-1]
    assert len(check_store(store)) == sum(len(t.events) for t in tables)


@pytest.mark.postgres
def test_a_row_moved_by_another_writer_after_it_was_read_fails_the_whole_batch() -> None:
    with postgres_schema() as url:
        mine, theirs = open_store(url), open_store(url)
        try:
            tables = _opened(mine, 12, "stale-moves")
            before = snapshot(mine)
            rival = tables[9].build("AF", T.STATEMENT, moves.statement("first, elsewhere"))
            with pytest.raises(ConflictError, match="moved on"), mine.transaction() as tx:
                tx.prefetch([t.s.negotiation for t in tables])
                with theirs.transaction() as other:
                    other.append(rival, rows_for([*tables[9].events, rival])[-1])
                for table in tables:
                    table.play("PK", T.STATEMENT, moves.statement("on what I read"))
                    tx.append(table.events[-1], rows_for(table.events)[-1])
            stored = set(check_store(mine))
            assert stored == {e.hash for t in tables for e in t.events[:-1]} | {rival.hash}
            assert snapshot(mine)[0] == before[0] + 1  # the log holds theirs alone
        finally:
            mine.close()
            theirs.close()


def test_a_batch_after_another_writer_reads_the_stored_hashes_once(database_url: str) -> None:
    mine, theirs = open_store(database_url), open_store(database_url)
    try:
        tables = _opened(mine, 20, "one-read")
        elsewhere = Table(make_charter(nonce="one-read-theirs")).open().events
        append_chain(theirs, elsewhere)  # stored hashes this process has not seen
        statements: list[str] = []
        engine = mine.engine  # type: ignore[attr-defined]
        sqlalchemy.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        with mine.transaction() as tx:
            tx.prefetch([t.s.negotiation for t in tables])
            for table in tables:
                table.play("PK", T.STATEMENT, moves.statement("together"))
                tx.append(table.events[-1], rows_for(table.events)[-1])
        assert sum("FROM log_hashes" in s for s in statements) == 1, statements
        assert len(check_store(mine)) == sum(len(t.events) for t in tables) + len(elsewhere)
    finally:
        mine.close()
        theirs.close()
