"""One function per user action: load, apply the rules, store event + state + log leaf at once.

The services never hold a participant's private key: a move is signed by its author (a key file for
the CLI, WebCrypto in a browser) through a ``Signer`` the caller passes in, and the server only
checks, orders and stores it. State is derived: a process keeps the folded state of each
negotiation it has seen and brings it up to date from the stored events, so several processes can
share one database and still agree (the derived state always equals the fold of the events).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

from parley.core import bundle, log, merkle, moves, protocol, redline
from parley.core import text as text_model
from parley.core.charter import Charter, LogConfig
from parley.core.checkpoint import sign_checkpoint
from parley.core.event import EventType, SignedEvent, format_time
from parley.core.keys import PublicKey, SigningKey
from parley.core.log import LocalWitness
from parley.core.note import Note, parse_note
from parley.core.prefix import hex_prefix, negotiation_id, one_match
from parley.core.witness import Cosigned
from parley.errors import ConflictError, InvalidInputError, NotFoundError, ParleyError
from parley.remote_witnesses import RemoteWitnesses
from parley.store import NegotiationRow, Store, StoredCheckpoint, Transaction

Clock = Callable[[], datetime]
RETRIES = 3
CATCH_UP_IN_COMMIT = 16
"""How many events a cached state may lack and still be brought up to date inside a write
transaction. A state further behind (another process wrote that many since, or this one never saw
the negotiation) is brought up to date before the transaction instead (``_catch_up``): checking
hundreds of signatures again while holding the store's write lock stalled every writer in every
process (seen in the server benchmark, whose clients reconnect to the other worker each round:
a third of the round's submissions were lost to it)."""


@runtime_checkable
class Snapshots(Protocol):
    """A store that also offers read-only transactions, which need not queue behind writers."""

    def snapshot(self) -> AbstractContextManager[Transaction]:
        """A transaction that only reads."""
        ...


def utc_now() -> datetime:
    """The wall clock, in UTC (the default clock)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the store acknowledged: the event, where it sits in the log, and the new state."""

    event: SignedEvent
    log_index: int
    state: protocol.State


@dataclass
class LogSetup:
    """The deployment's log: its signing key and the local log witnesses that cosign it."""

    key: SigningKey
    witnesses: list[tuple[str, SigningKey]] = field(default_factory=list)
    """(witness name, cosignature key) for each local log witness."""
    remote: RemoteWitnesses = field(default_factory=lambda: RemoteWitnesses(()))
    """The log witnesses run by other organisations (``remote_witnesses``)."""

    def __post_init__(self) -> None:
        both = {name for name, _ in self.witnesses} & {w.name for w in self.remote.witnesses}
        if both:
            raise InvalidInputError(
                f"log witness {', '.join(sorted(both))} is both local and remote: rename one"
            )

    @property
    def origin(self) -> str:
        """The log origin (its key name)."""
        return self.key.name

    def witness_policy(self) -> str:
        """A c2sp.org/tlog-policy naming this log and requiring every log witness, local and
        remote (a remote one with its submission URL)."""
        lines = [f"log {self.key.public().vkey()}"]
        lines += [f"witness {name} {key.public().vkey()}" for name, key in self.witnesses]
        lines += [f"witness {w.name} {w.key.vkey()} {w.url}" for w in self.remote.witnesses]
        names = [name for name, _ in self.witnesses] + [w.name for w in self.remote.witnesses]
        group = "witnesses" if self.remote.witnesses else "local-witnesses"
        if names:
            lines += [f"group {group} all {' '.join(names)}", f"quorum {group}"]
        else:
            lines.append("quorum none")
        return "\n".join(lines) + "\n"

    def charter_log(self) -> LogConfig:
        """What a charter says about this log, so bundles can be verified against it."""
        return LogConfig(self.key.public().vkey(), self.witness_policy())


@dataclass
class Services:
    """The application: a store, an optional log setup, a clock, and a state cache."""

    store: Store
    log_setup: LogSetup | None = None
    clock: Clock = utc_now
    _states: dict[str, protocol.State] = field(default_factory=dict)
    _created: dict[str, str] = field(default_factory=dict)

    # --- reads -----------------------------------------------------------------------------------

    def reading(self) -> AbstractContextManager[Transaction]:
        """A transaction for reads: a snapshot beside the writer where the store offers one."""
        if isinstance(self.store, Snapshots):
            return self.store.snapshot()
        return self.store.transaction()

    def negotiations(self) -> list[NegotiationRow]:
        """Every negotiation, most recently active first."""
        with self.reading() as tx:
            return tx.negotiations()

    def positions(self, negotiations: Sequence[str]) -> list[tuple[int, str]]:
        """Each negotiation's sequence number and head ((0, "") if unknown), read in one go."""
        with self.reading() as tx:
            tx.prefetch(set(negotiations))
            rows = [tx.negotiation(nid) for nid in negotiations]
        return [(0, "") if row is None else (row.seq, row.head) for row in rows]

    def resolve(self, negotiation: str) -> str:
        """The full negotiation id for an id or unique prefix (as shown: ``7f3a…``)."""
        with self.reading() as tx:
            return _resolve_negotiation(tx, negotiation)

    def state(self, negotiation: str) -> protocol.State:
        """The current state of a negotiation."""
        with self.reading() as tx:
            return self._load(tx, _resolve_negotiation(tx, negotiation))

    def events(
        self, negotiation: str, *, viewer: str | None = None, since: int = 0
    ) -> list[SignedEvent]:
        """Events from ``since`` on; bodies withheld where ``viewer`` is outside the audience."""
        with self.reading() as tx:
            nid = _resolve_negotiation(tx, negotiation)
            stored = [s.event for s in tx.events(nid, since)]
        return _as_seen(stored, viewer)

    def events_of(
        self, negotiation: str, viewer: str, since: int, limit: int | None = None
    ) -> list[SignedEvent]:
        """``events`` for the full id of a negotiation known to exist (one query, no lookup),
        the first ``limit`` of them (None: all)."""
        with self.reading() as tx:
            return _as_seen([s.event for s in tx.events(negotiation, since, limit)], viewer)

    def version(self, negotiation: str, version: str) -> text_model.Text:
        """A version's text, by full hash or unique prefix."""
        with self.reading() as tx:
            full = _complete(tx, version, "version")
            obj = tx.version(full)
        if obj is None:
            raise NotFoundError(f"no version {version}")
        return text_model.from_json(obj)

    def event_hashes(self, negotiation: str, prefix: str) -> list[str]:
        """The hashes of ``negotiation``'s events that start with ``prefix`` (4 to 64 hex)."""
        with self.reading() as tx:
            return [
                full
                for full in tx.complete(prefix)
                if (found := tx.event(full)) is not None
                and found.event.envelope.negotiation == negotiation
            ]

    def complete(self, prefix: str, what: str = "event or version") -> str:
        """The full hash for a unique prefix of an event or version hash."""
        with self.reading() as tx:
            return _complete(tx, prefix, what)

    def redline(self, negotiation: str, old: str, new: str) -> redline.Redline:
        """What changed between two versions of a negotiation."""
        return redline.compare(self.version(negotiation, old), self.version(negotiation, new))

    # --- writes ----------------------------------------------------------------------------------

    def open_negotiation(self, charter: Charter, key: SigningKey, author: str) -> Receipt:
        """Convene a negotiation: the charter event, signed by a mediator named in it."""
        event = moves.convene(charter, key, author, self.now())
        return self.submit(event)

    def submit(self, event: SignedEvent, within: int | None = CATCH_UP_IN_COMMIT) -> Receipt:
        """Check a signed event against the rules and store it with its log leaf, atomically."""
        pending: dict[str, protocol.State] = {}
        try:
            with self.store.transaction() as tx:
                receipt = self._submit_in(tx, event, pending, within)
        except _Behind:
            self._catch_up([event.envelope.negotiation])
            return self.submit(event, within=None)
        self._states.update(pending)
        return receipt

    def submit_batch(
        self, events: Sequence[SignedEvent], within: int | None = CATCH_UP_IN_COMMIT
    ) -> list[Receipt | ParleyError]:
        """Group commit: check and store many events in one transaction (one durable commit).

        Each event is judged on its own: a refused event is returned as its error and nothing of
        it is stored, while the others are. If another writer moved first (a conflict inside the
        transaction), the events are submitted one by one instead. A cached state found more
        than ``within`` events behind is brought up to date outside the transaction, and the
        batch is tried again (``CATCH_UP_IN_COMMIT``).
        """
        results: list[Receipt | ParleyError] = []
        pending: dict[str, protocol.State] = {}
        foreseen = self._foresee(events)
        try:
            with self.store.transaction() as tx:
                tx.prefetch({event.envelope.negotiation for event in events})
                # Judged first, stored after: on PostgreSQL the first append takes the log lock,
                # held to the commit, so it is not held while the rules are applied.
                judged = [self._judged(tx, event, pending, foreseen, within) for event in events]
                for event, outcome in zip(events, judged, strict=True):
                    results.append(
                        outcome
                        if isinstance(outcome, ParleyError)
                        else self._store(tx, event, outcome, pending)
                    )
        except _Behind:
            self._catch_up([event.envelope.negotiation for event in events])
            return self.submit_batch(events, within=None)
        except ConflictError:
            return [self._attempt(event) for event in events]
        self._states.update(pending)
        return results

    def _catch_up(self, negotiations: Sequence[str]) -> None:
        """Bring the cached states of ``negotiations`` up to date, outside any write transaction."""
        with self.reading() as tx:
            tx.prefetch(set(negotiations))
            for nid in dict.fromkeys(negotiations):
                if tx.negotiation(nid) is not None:
                    self._load(tx, nid)

    def _foresee(self, events: Sequence[SignedEvent]) -> dict[str, Foreseen]:
        """Apply the events to the states last seen, before the transaction takes the log lock.

        ``protocol.apply`` is pure, so inside the transaction an outcome computed here is taken
        as is when the stored state turns out to be the very state it was computed from; the
        lock is then held for storing only, not for checking signatures and rules.
        """
        foreseen: dict[str, Foreseen] = {}
        states: dict[str, protocol.State] = {}
        for event in events:
            env = event.envelope
            prior = states.get(env.negotiation) or self._states.get(env.negotiation)
            if env.type is EventType.CHARTER or prior is None:
                continue
            try:
                states[env.negotiation] = after = protocol.apply(prior, event)
            except ParleyError as exc:
                foreseen[event.hash] = Foreseen(prior, exc)
            else:
                foreseen[event.hash] = Foreseen(prior, after)
        return foreseen

    def _attempt(self, event: SignedEvent) -> Receipt | ParleyError:
        try:
            return self.submit(event)
        except ParleyError as exc:
            return exc

    def _judged(
        self,
        tx: Transaction,
        event: SignedEvent,
        pending: dict[str, protocol.State],
        foreseen: Mapping[str, Foreseen],
        within: int | None,
    ) -> protocol.State | ParleyError:
        """The state after ``event`` (the next events of its negotiation build on it), or the
        reason the rules refuse it."""
        try:
            state = self._next_state(tx, event, pending, within, foreseen)
        except ConflictError:
            raise
        except ParleyError as exc:
            return exc
        pending[event.envelope.negotiation] = state
        return state

    def _submit_in(
        self,
        tx: Transaction,
        event: SignedEvent,
        pending: dict[str, protocol.State],
        within: int | None,
    ) -> Receipt:
        return self._store(tx, event, self._next_state(tx, event, pending, within), pending)

    def _next_state(
        self,
        tx: Transaction,
        event: SignedEvent,
        pending: dict[str, protocol.State],
        within: int | None,
        foreseen: Mapping[str, Foreseen] = MappingProxyType({}),
    ) -> protocol.State:
        env = event.envelope
        if env.type is EventType.CHARTER:
            return protocol.start(event)
        prior = pending.get(env.negotiation) or self._load(tx, env.negotiation, within)
        known = foreseen.get(event.hash)
        if known is not None and known.prior is prior:
            if isinstance(known.outcome, ParleyError):
                raise known.outcome
            return known.outcome
        return protocol.apply(prior, event)

    def _store(
        self,
        tx: Transaction,
        event: SignedEvent,
        state: protocol.State,
        pending: dict[str, protocol.State],
    ) -> Receipt:
        index = tx.append(event, self._row(tx, state, event))
        self._keep_versions(tx, event)
        pending[event.envelope.negotiation] = state
        return Receipt(event, index, state)

    def act(
        self,
        negotiation: str,
        author: str,
        key: SigningKey,
        move: EventType,
        body: dict[str, Any],
        audience: tuple[str, ...] | None = None,
    ) -> Receipt:
        """Make a move on the current state; rebuild and retry if someone moved first."""
        nid = self.resolve(negotiation)
        sealed = moves.salted(body, audience, secrets.token_hex(16))
        return retried(
            lambda: self.submit(
                moves.make(self.state(nid), key, author, move, sealed, self.now(), audience)
            )
        )

    def now(self) -> str:
        """The clock, as an event time."""
        return format_time(self.clock())

    # --- the log ---------------------------------------------------------------------------------

    def publish(self) -> StoredCheckpoint | None:
        """Sign a checkpoint of the whole log and collect the log witnesses' cosignatures: the
        local ones in the transaction (their records are in this database), the remote ones
        after it, over the network, so that no lock is held while they answer."""
        if self.log_setup is None:
            return None
        setup = self.log_setup
        now = int(self.clock().timestamp())
        with self.store.transaction() as tx:
            size = tx.log_size()
            latest = self._own(tx.checkpoint())
            if latest is not None:
                seen = parse_note(latest.note)
                setup.remote.learn(seen)  # after a restart: where each witness is, without a 409
                if latest.size == size and not setup.remote.due(seen):
                    return latest
            note = sign_checkpoint(log.checkpoint(setup.origin, size, tx), setup.key)
            for name, key in setup.witnesses:
                note = self._cosign(tx, name, key, note, now)
            stored = StoredCheckpoint(size, note.to_text())
            if not setup.remote.due(note):  # no remote witness, or none to ask now
                tx.put_checkpoint(stored)
                return stored
        note = setup.remote.cosign(note, lambda old: self._witness_request(note, old), self._size)
        return self._keep(StoredCheckpoint(size, note.to_text()))

    def _size(self) -> int:
        """The log's size now."""
        with self.reading() as tx:
            return tx.log_size()

    def _witness_request(self, note: Note, old_size: int) -> bytes:
        """An add-checkpoint body for a remote witness at ``old_size`` (stored hashes never
        change, so the proof is read in a snapshot of its own)."""
        with self.reading() as tx:
            return log.request_for(note, old_size, tx)

    def _keep(self, checkpoint: StoredCheckpoint) -> StoredCheckpoint:
        """Store ``checkpoint`` unless one as large with as many signatures is there already
        (another process published meanwhile)."""
        with self.store.transaction() as tx:
            latest = self._own(tx.checkpoint())
            if latest is not None and (latest.size, _signatures(latest)) >= (
                checkpoint.size, _signatures(checkpoint)
            ):  # fmt: skip
                return latest
            tx.put_checkpoint(checkpoint)
            return checkpoint

    def _own(self, checkpoint: StoredCheckpoint | None) -> StoredCheckpoint | None:
        """``checkpoint`` if this log's key signed it; None for one signed with another key
        (stored before a database recorded its log key, by a process with a stray key): it is
        signed again, over the same tree, instead of being served."""
        if checkpoint is None or self.log_setup is None:
            return checkpoint
        return checkpoint if signed_by(checkpoint, self.log_setup.key.public()) else None

    def _cosign(self, tx: Transaction, name: str, key: SigningKey, note: Note, now: int) -> Note:
        assert self.log_setup is not None
        setup = self.log_setup
        local = LocalWitness.for_log(
            key, setup.origin, setup.key.public(), StoreWitnessState(tx, name)
        )
        return log.with_cosignatures(note, local.cosign(note, tx, now))

    def checkpoint(self) -> StoredCheckpoint | None:
        """The latest published checkpoint."""
        with self.reading() as tx:
            return tx.checkpoint()

    def proof(self, event_hash: str) -> str:
        """A tlog-proof for one event against the latest checkpoint (published first if stale)."""
        full = self.complete(event_hash, "event")
        stored = self.publish() or self.checkpoint()
        if stored is None:
            raise NotFoundError("this deployment has no log")
        with self.store.transaction() as tx:
            found = tx.event(full)
            if found is None:
                raise NotFoundError(f"no event {event_hash}")
            return log.proof_file(found.log_index, parse_note(stored.note), tx)

    def bundle(self, negotiation: str) -> bytes:
        """The agreement bundle: every event, outcome bodies, and log proofs when there is a log."""
        with self.reading() as tx:  # read first: the checkpoint published next covers them all
            rows = tx.events(_resolve_negotiation(tx, negotiation))
        events = [row.event for row in rows]
        stored = self.publish()
        if stored is None:
            return bundle.build_bundle(events)
        with self.store.transaction() as tx:
            note = parse_note(stored.note)
            reader = merkle.RememberedHashes(tx)  # the proofs share the tree's upper hashes
            proofs = [log.proof_file(row.log_index, note, reader) for row in rows]
        return bundle.build_bundle(events, proofs)

    # --- internals -------------------------------------------------------------------------------

    def _load(self, tx: Transaction, nid: str, within: int | None = None) -> protocol.State:
        """The negotiation's state: the cached one brought up to date; raise ``_Behind`` if
        that means checking more than ``within`` events."""
        row = tx.negotiation(nid)
        if row is None:
            raise NotFoundError(f"no negotiation {nid[:12]}…")
        cached = self._states.get(nid)
        if cached is not None and cached.seq == row.seq and cached.head == row.head:
            return cached
        known = 0 if cached is None or cached.seq > row.seq else cached.seq
        if within is not None and row.seq - known > within:
            raise _Behind(nid)
        if cached is None or cached.seq > row.seq:
            state = protocol.replay(None, (s.event for s in tx.events(nid)))
        else:
            state = protocol.replay(cached, (s.event for s in tx.events(nid, cached.seq)))
        self._states[nid] = state
        return state

    def _row(self, tx: Transaction, state: protocol.State, event: SignedEvent) -> NegotiationRow:
        created = self._created.get(state.negotiation)
        if created is None:
            old = tx.negotiation(state.negotiation)
            created = old.created if old else event.envelope.time
            self._created[state.negotiation] = created
        return NegotiationRow(
            state.negotiation, state.charter.title, state.phase.value, state.seq, state.head,
            created, event.envelope.time,
        )  # fmt: skip

    def _keep_versions(self, tx: Transaction, event: SignedEvent) -> None:
        body = event.body
        if body is not None and isinstance(body.get("text"), dict) and "version" in body:
            tx.put_version(event.envelope.negotiation, body["version"], body["text"])


def _signatures(checkpoint: StoredCheckpoint) -> int:
    return len(parse_note(checkpoint.note).signatures)


def retried(attempt: Callable[[], Receipt]) -> Receipt:
    """Run ``attempt`` (a move made on the latest state, then submitted) again, up to
    ``RETRIES`` times in all, while someone else moved first."""
    for remaining in reversed(range(RETRIES)):
        try:
            return attempt()
        except ConflictError:
            if not remaining:
                raise
    raise ConflictError("unreachable")  # pragma: no cover


class _Behind(Exception):
    """A cached state too far behind to be brought up to date in a write transaction (see
    ``CATCH_UP_IN_COMMIT``); not a ParleyError: it never reaches a caller."""


@dataclass(frozen=True, slots=True)
class Foreseen:
    """What ``protocol.apply(prior, event)`` gave: the next state, or the refusal."""

    prior: protocol.State
    outcome: protocol.State | ParleyError


@dataclass
class StoreWitnessState:
    """A log witness's latest cosigned checkpoint per origin, kept in the store's transaction."""

    tx: Transaction
    name: str

    def latest(self, origin: str) -> Cosigned | None:
        return self.tx.witness_latest(self.name, origin)

    def compare_and_set(self, origin: str, expected_old: int | None, new: Cosigned) -> bool:
        return self.tx.witness_compare_and_set(self.name, origin, expected_old, new)


SERVER_WITNESS = "server witness"
"""The record of this server as a log witness for other logs (``POST /add-checkpoint``): one name
whatever its keys are called (a space, so no key's name can take it). Its keys may be added,
renamed or replaced without the witness forgetting what it cosigned."""


@dataclass
class ServerWitnessState(StoreWitnessState):
    """The server witness's record; one kept under an earlier name is taken over on first use.

    Earlier versions kept the record under ``witness:`` and the name of the first key; a witness
    that lost its record would cosign any checkpoint again from size 0, a rolled-back log
    included, so the largest such record of the keys configured becomes this one's.
    """

    legacy: tuple[str, ...] = ()

    def latest(self, origin: str) -> Cosigned | None:
        found = self.tx.witness_latest(self.name, origin)
        if found is not None:
            return found
        earlier = [self.tx.witness_latest(name, origin) for name in self.legacy]
        kept = max((c for c in earlier if c is not None), key=lambda c: c.size, default=None)
        if kept is not None and self.tx.witness_compare_and_set(self.name, origin, None, kept):
            return kept
        return self.tx.witness_latest(self.name, origin)


def server_witness_state(tx: Transaction, key_names: Sequence[str]) -> StoreWitnessState:
    """The record of this server as a log witness (``SERVER_WITNESS``) in ``tx``."""
    return ServerWitnessState(tx, SERVER_WITNESS, tuple(f"witness:{n}" for n in key_names))


def events_seen(tx: Transaction, negotiation: str, viewer: str, since: int) -> list[SignedEvent]:
    """The events of a negotiation from ``since`` on, as ``viewer`` may read them."""
    return _as_seen([s.event for s in tx.events(negotiation, since)], viewer)


def _as_seen(stored: list[SignedEvent], viewer: str | None) -> list[SignedEvent]:
    """The events as ``viewer`` may read them (all of them for None)."""
    if viewer is None:
        return stored
    return [e if e.envelope.can_read(viewer) else e.without_body() for e in stored]


def _resolve_negotiation(tx: Transaction, negotiation: str) -> str:
    if tx.negotiation(negotiation) is not None:
        return negotiation
    return negotiation_id((r.id for r in tx.negotiations()), negotiation)


def _complete(tx: Transaction, typed: str, what: str) -> str:
    found = hex_prefix(typed, what)
    return one_match(sorted(tx.complete(found)), found, what)


def signer_of(checkpoint: StoredCheckpoint) -> str:
    """Who signed a checkpoint, as its first signature names the key (name and key id)."""
    first = parse_note(checkpoint.note).signatures[:1]
    return f"{first[0].name}+{first[0].key_id_hex}" if first else "an unknown key"


def signed_by(checkpoint: StoredCheckpoint, key: PublicKey) -> bool:
    """Whether one of the checkpoint's signatures names ``key`` (its name and key id). A store's
    own checkpoint is not verified again: this tells which key made it, cheaply."""
    return any(
        (s.name, s.key_id) == (key.name, key.id) for s in parse_note(checkpoint.note).signatures
    )
