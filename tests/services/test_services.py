"""The services over the in-memory store: a whole negotiation, the log, the bundle."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from parley import services as svc
from parley.core import bundle, moves, protocol
from parley.core import text as text_model
from parley.core.bundle import Verdict
from parley.core.charter import PenRule
from parley.core.event import EventType as T
from parley.core.event import body_hash
from parley.errors import ConflictError, NotFoundError, ProtocolError, SignatureError
from parley.store import MemoryStore, StoredEvent, Transaction
from tests.negotiation import LOG_KEY, WITNESS_KEYS, clean_text, key_for, make_charter


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
def services() -> svc.Services:
    setup = svc.LogSetup(LOG_KEY, [(f"{c}-log-witness", k) for c, k in WITNESS_KEYS.items()])
    return svc.Services(MemoryStore(), setup, Clock())


def _conclude(s: svc.Services) -> str:
    charter = make_charter(PenRule.MEDIATOR, with_log=True)
    nid = s.open_negotiation(charter, key_for("QA"), "QA").state.negotiation
    for code in ("PK", "AF", "QA", "TR"):
        s.act(nid, code, key_for(code), T.JOIN, moves.join(s.state(nid)))
    text = clean_text()
    v = text_model.version_hash(text)
    s.act(nid, "QA", key_for("QA"), T.PROPOSE, moves.propose(text))
    s.act(nid, "QA", key_for("QA"), T.SEND, moves.send(v, ["AF", "PK"]))
    for party in ("PK", "AF"):
        s.act(nid, party, key_for(party), T.ACCEPT, moves.accept(v))
    s.act(nid, "TR", key_for("TR"), T.FINALIZE, moves.finalize(text))
    signs = [s.act(nid, p, key_for(p), T.SIGN, moves.sign(v)).event.hash for p in ("PK", "AF")]
    s.act(nid, "QA", key_for("QA"), T.WITNESS, moves.witness(signs[0]))
    s.act(nid, "TR", key_for("TR"), T.WITNESS, moves.witness(signs[1]))
    for g in ("QA", "TR"):
        s.act(nid, g, key_for(g), T.ENDORSE, moves.endorse(v, signs))
    return nid


def test_a_negotiation_through_the_services_verifies_in_force(services: svc.Services) -> None:
    nid = _conclude(services)
    assert services.state(nid[:8]).in_force
    report = bundle.check_bundle(services.bundle(nid))
    assert report.verdict is Verdict.IN_FORCE, report.problem


def test_versions_and_short_hashes(services: svc.Services) -> None:
    nid = _conclude(services)
    v = text_model.version_hash(clean_text())
    assert services.version(nid, v[:6]) == clean_text()
    with pytest.raises(NotFoundError):
        services.version(nid, "ffffffff")


def test_refused_moves_store_nothing(services: svc.Services) -> None:
    nid = _conclude(services)
    before = services.events(nid)
    with pytest.raises(ProtocolError):
        services.act(nid, "AF", key_for("AF"), T.FINALIZE, moves.finalize(clean_text()))
    stale = moves.make(
        services.state(nid), key_for("PK"), "PK", T.STATEMENT, moves.statement("x"), services.now()
    )
    services.act(nid, "AF", key_for("AF"), T.STATEMENT, moves.statement("first"))
    with pytest.raises(ConflictError):
        services.submit(stale)
    assert len(services.events(nid)) == len(before) + 1


def test_proofs_and_checkpoints(services: svc.Services) -> None:
    nid = _conclude(services)
    first = services.events(nid)[0]
    proof = services.proof(first.hash[:10])
    assert proof.startswith("c2sp.org/tlog-proof@v1\nindex 0\n")
    checkpoint = services.checkpoint()
    assert checkpoint is not None and checkpoint.size == len(services.events(nid))


def test_caucus_bodies_are_withheld_from_outsiders(services: svc.Services) -> None:
    nid = _conclude(services)
    audience = ("AF", "QA", "TR")
    services.act(nid, "AF", key_for("AF"), T.STATEMENT, moves.statement("for QA, TR"), audience)
    assert services.events(nid, viewer="PK")[-1].body is None
    assert services.events(nid, viewer="QA")[-1].body is not None


def test_a_withheld_body_cannot_be_confirmed_by_guessing_its_words(services: svc.Services) -> None:
    """Outsiders hold the envelope, so the body's hash: without a salt, hashing a guess of the
    words ("for QA, TR") and comparing confirmed it."""
    nid = _conclude(services)
    guess = moves.statement("for QA, TR")
    services.act(nid, "AF", key_for("AF"), T.STATEMENT, guess, ("AF", "QA", "TR"))
    seen_by_pk = services.events(nid, viewer="PK")[-1]
    assert seen_by_pk.envelope.body != body_hash(guess)
    body = services.events(nid, viewer="QA")[-1].body
    assert body is not None and len(body[moves.SALT]) == 32 and body["text"] == "for QA, TR"
    services.act(nid, "AF", key_for("AF"), T.STATEMENT, guess)  # public: nothing to hide
    assert services.events(nid, viewer="PK")[-1].body == guess


def test_group_commit_keeps_the_good_and_refuses_the_bad(services: svc.Services) -> None:
    from tests.negotiation import Table

    table = Table(charter=make_charter(PenRule.MEDIATOR, nonce="batch-nonce-1")).open()
    good = list(table.events)
    forged = table.build("AF", T.STATEMENT, moves.statement("x"))
    forged = type(forged)(forged.envelope, bytes(64), forged.body, forged.hash)
    results = services.submit_batch([*good, forged])
    assert all(isinstance(r, svc.Receipt) for r in results[:-1])
    assert isinstance(results[-1], SignatureError)
    assert len(services.events(good[0].envelope.negotiation)) == len(good)


def test_a_batch_checked_on_a_stale_state_is_checked_again_on_the_stored_one() -> None:
    """Two server processes share a store: one moved on since the other last saw the state."""
    from tests.negotiation import Table

    store = MemoryStore()
    mine, theirs = svc.Services(store), svc.Services(store)
    table = Table(charter=make_charter(PenRule.MEDIATOR, nonce="stale-batch-1")).open()
    assert all(isinstance(r, svc.Receipt) for r in mine.submit_batch(list(table.events)))
    theirs.submit(table.play("PK", T.STATEMENT, moves.statement("first, elsewhere")))
    after_theirs = table.play("AF", T.STATEMENT, moves.statement("builds on it"))
    [accepted] = mine.submit_batch([after_theirs])  # refused on the state it last saw
    assert isinstance(accepted, svc.Receipt)

    rival = table.build("AF", T.STATEMENT, moves.statement("on a head about to be old"))
    theirs.submit(table.play("PK", T.STATEMENT, moves.statement("second, elsewhere")))
    [refused] = mine.submit_batch([rival])  # fine on the state it last saw
    assert isinstance(refused, ConflictError | ProtocolError)
    assert [e.hash for e in mine.events(table.s.negotiation)] == [e.hash for e in table.events]


def test_a_move_is_made_again_while_someone_else_moved_first() -> None:
    calls: list[int] = []

    def conflicting_until(n: int) -> svc.Receipt:
        calls.append(len(calls))
        if len(calls) < n:
            raise ConflictError("someone moved first")
        return "receipt"  # type: ignore[return-value]

    assert svc.retried(lambda: conflicting_until(svc.RETRIES)) == "receipt"
    assert len(calls) == svc.RETRIES
    calls.clear()
    with pytest.raises(ConflictError):
        svc.retried(lambda: conflicting_until(svc.RETRIES + 1))
    assert len(calls) == svc.RETRIES


class _Watched(MemoryStore):
    """A store with snapshots for reads that notes the most events any write transaction (not a
    snapshot) read back."""

    def __init__(self) -> None:
        super().__init__()
        self.most_in_a_write = 0

    def snapshot(self) -> AbstractContextManager[Transaction]:
        return super().transaction()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with super().transaction() as tx:
            events = tx.events

            def counted(negotiation: str, since: int = 0) -> list[StoredEvent]:
                found = events(negotiation, since)
                self.most_in_a_write = max(self.most_in_a_write, len(found))
                return found

            tx.events = counted  # type: ignore[method-assign]
            yield tx


@pytest.mark.parametrize("batched", [True, False])
def test_a_state_far_behind_is_brought_up_to_date_outside_the_write(batched: bool) -> None:
    """Another process wrote many events since this one last saw the negotiation: checking
    them again must not hold the store's write lock (every writer would wait)."""
    from tests.negotiation import Table

    store = _Watched()
    mine, theirs = svc.Services(store), svc.Services(store)
    table = Table(charter=make_charter(PenRule.MEDIATOR, nonce="far-behind-01")).open()
    for event in table.events:
        mine.submit(event)
    for n in range(svc.CATCH_UP_IN_COMMIT + 5):
        theirs.submit(table.play("PK", T.STATEMENT, moves.statement(f"elsewhere {n}")))
    store.most_in_a_write = 0
    event = table.play("AF", T.STATEMENT, moves.statement("on top of them all"))
    receipt = mine.submit_batch([event])[0] if batched else mine.submit(event)
    assert isinstance(receipt, svc.Receipt)
    assert receipt.state == protocol.fold(table.events)
    assert store.most_in_a_write <= svc.CATCH_UP_IN_COMMIT
