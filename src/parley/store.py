"""The storage the services need, as a protocol, and an in-memory implementation.

A ``Store`` hands out transactions. Everything one user action changes (the event, the
negotiation's head row, the log leaf and its stored hashes) is written in one transaction, so an
acknowledged event is never half-stored. Two rules keep several processes honest on one database:

* the per-negotiation sequence number is the optimistic lock: an event whose ``seq`` is already
  taken (or whose ``prev`` is not the stored head) is a ``ConflictError`` and nothing is stored;
* log appends are serialised by the database (a row lock on PostgreSQL, ``BEGIN IMMEDIATE`` on
  SQLite), never by a process, so the log stays gapless under concurrent writers.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from parley.core import merkle
from parley.core.event import SignedEvent
from parley.core.witness import Cosigned
from parley.errors import ConflictError, InvalidInputError, NotFoundError


@dataclass(frozen=True, slots=True)
class NegotiationRow:
    """The head of a negotiation as stored: what lists and the optimistic lock need."""

    id: str
    title: str
    phase: str
    seq: int
    """Number of events stored (the next event's sequence number)."""
    head: str
    """Hash of the last event."""
    created: str
    updated: str


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """A signed event (body included) and where it sits in the log."""

    event: SignedEvent
    log_index: int


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A signed checkpoint note (with the cosignatures collected) at a tree size."""

    size: int
    note: str


class Transaction(Protocol):
    """One unit of work against the store; committed when the ``with`` block ends normally."""

    def negotiations(self) -> list[NegotiationRow]:
        """Every negotiation, most recently updated first."""
        ...

    def negotiation(self, negotiation_id: str) -> NegotiationRow | None:
        """One negotiation's row, or None."""
        ...

    def prefetch(self, negotiation_ids: Collection[str]) -> None:
        """Read these negotiations' rows in one go: a batch is about to use them."""
        ...

    def events(
        self, negotiation_id: str, since: int = 0, limit: int | None = None
    ) -> list[StoredEvent]:
        """Events with ``seq >= since``, in order; the first ``limit`` of them (None: all)."""
        ...

    def charter_event(self, negotiation_id: str) -> StoredEvent | None:
        """The negotiation's first event, its charter (None for no such negotiation)."""
        ...

    def event(self, event_hash: str) -> StoredEvent | None:
        """One event by its full hash."""
        ...

    def append(self, event: SignedEvent, row: NegotiationRow) -> int:
        """Store ``event``, move the negotiation's row to ``row``, append the event hash to the log.

        ``row.seq`` must be ``event.envelope.seq + 1`` and the stored row (if any) must be at
        ``event.envelope.seq`` with ``head == event.envelope.prev``; otherwise ConflictError and
        nothing is written. Returns the log index of the event.
        """
        ...

    def put_version(self, negotiation_id: str, version: str, text: dict[str, Any]) -> None:
        """Keep a version's canonical text JSON (idempotent)."""
        ...

    def version(self, version: str) -> dict[str, Any] | None:
        """A version's canonical text JSON, or None."""
        ...

    def complete(self, prefix: str) -> list[str]:
        """Full event and version hashes starting with ``prefix`` (for short forms like 7f3a…)."""
        ...

    def log_size(self) -> int:
        """Number of entries in the log."""
        ...

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """Stored Merkle hashes by stored-hash index (``merkle.HashReader``)."""
        ...

    def log_entry(self, index: int) -> str:
        """The event hash at log index ``index``."""
        ...

    def put_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """Record a signed checkpoint (sizes only grow; a smaller one is refused)."""
        ...

    def log_key(self) -> str | None:
        """The vkey of the key that signs this log's checkpoints (None until one is claimed)."""
        ...

    def claim_log_key(self, vkey: str) -> str:
        """Record ``vkey`` as the log's key unless one is recorded; the key recorded now."""
        ...

    def checkpoint(self) -> StoredCheckpoint | None:
        """The latest checkpoint."""
        ...

    def witness_latest(self, witness: str, origin: str) -> Cosigned | None:
        """What local log witness ``witness`` last cosigned for ``origin``."""
        ...

    def witness_compare_and_set(
        self, witness: str, origin: str, expected_old: int | None, new: Cosigned
    ) -> bool:
        """Advance a local log witness's state iff it is still at ``expected_old``."""
        ...


class Store(Protocol):
    """A place to keep negotiations and the log."""

    def transaction(self) -> AbstractContextManager[Transaction]:
        """A read-write transaction (log appends inside are serialised by the store)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


# --- in memory ----------------------------------------------------------------------------------


@dataclass
class _Data:
    rows: dict[str, NegotiationRow] = field(default_factory=dict)
    events: dict[str, list[StoredEvent]] = field(default_factory=dict)
    by_hash: dict[str, StoredEvent] = field(default_factory=dict)
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)
    log: merkle.MemoryHashes = field(default_factory=merkle.MemoryHashes)
    entries: list[str] = field(default_factory=list)
    checkpoints: list[StoredCheckpoint] = field(default_factory=list)
    witnesses: dict[tuple[str, str], Cosigned] = field(default_factory=dict)
    log_vkey: str | None = None


class MemoryStore:
    """A Store in a Python dict: for tests and throwaway runs. Transactions copy on write."""

    def __init__(self) -> None:
        self._data = _Data()
        self._lock = threading.Lock()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self._lock:
            tx = _MemoryTransaction(self._data)
            yield tx
            self._data = tx.data

    def close(self) -> None:
        """Nothing to release."""


class _MemoryTransaction:
    def __init__(self, data: _Data) -> None:
        self.data = _Data(
            dict(data.rows), {k: list(v) for k, v in data.events.items()}, dict(data.by_hash),
            dict(data.versions), merkle.MemoryHashes(data.log.stored), list(data.entries),
            list(data.checkpoints), dict(data.witnesses), data.log_vkey,
        )  # fmt: skip

    def negotiations(self) -> list[NegotiationRow]:
        return sorted(self.data.rows.values(), key=lambda r: r.updated, reverse=True)

    def negotiation(self, negotiation_id: str) -> NegotiationRow | None:
        return self.data.rows.get(negotiation_id)

    def prefetch(self, negotiation_ids: Collection[str]) -> None:
        return None  # every row is at hand

    def events(
        self, negotiation_id: str, since: int = 0, limit: int | None = None
    ) -> list[StoredEvent]:
        end = None if limit is None else since + limit
        return self.data.events.get(negotiation_id, [])[since:end]

    def charter_event(self, negotiation_id: str) -> StoredEvent | None:
        return next(iter(self.data.events.get(negotiation_id, [])), None)

    def event(self, event_hash: str) -> StoredEvent | None:
        return self.data.by_hash.get(event_hash)

    def append(self, event: SignedEvent, row: NegotiationRow) -> int:
        env = event.envelope
        check_append(self.data.rows.get(env.negotiation), event, row)
        if event.hash in self.data.by_hash:
            raise ConflictError("this event is already stored")
        index = self.data.log.append(bytes.fromhex(event.hash))
        stored = StoredEvent(event, index)
        self.data.entries.append(event.hash)
        self.data.events.setdefault(env.negotiation, []).append(stored)
        self.data.by_hash[event.hash] = stored
        self.data.rows[env.negotiation] = row
        return index

    def put_version(self, negotiation_id: str, version: str, text: dict[str, Any]) -> None:
        self.data.versions.setdefault(version, text)

    def version(self, version: str) -> dict[str, Any] | None:
        return self.data.versions.get(version)

    def complete(self, prefix: str) -> list[str]:
        if not re.fullmatch(r"[0-9a-f]{4,64}", prefix):
            raise InvalidInputError(f"a hash prefix is 4 to 64 lowercase hex digits: {prefix!r}")
        keys = [*self.data.by_hash, *self.data.versions]
        return sorted({k for k in keys if k.startswith(prefix)})

    def log_size(self) -> int:
        return self.data.log.size

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        return self.data.log.read_hashes(indexes)

    def log_entry(self, index: int) -> str:
        if not 0 <= index < len(self.data.entries):
            raise NotFoundError(f"no log entry {index}")
        return self.data.entries[index]

    def put_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        latest = self.checkpoint()
        if latest is not None and checkpoint.size < latest.size:
            raise ConflictError(f"a checkpoint at size {latest.size} is already stored")
        self.data.checkpoints.append(checkpoint)

    def log_key(self) -> str | None:
        return self.data.log_vkey

    def claim_log_key(self, vkey: str) -> str:
        if self.data.log_vkey is None:
            self.data.log_vkey = vkey
        return self.data.log_vkey

    def checkpoint(self) -> StoredCheckpoint | None:
        return self.data.checkpoints[-1] if self.data.checkpoints else None

    def witness_latest(self, witness: str, origin: str) -> Cosigned | None:
        return self.data.witnesses.get((witness, origin))

    def witness_compare_and_set(
        self, witness: str, origin: str, expected_old: int | None, new: Cosigned
    ) -> bool:
        current = self.data.witnesses.get((witness, origin))
        if (None if current is None else current.size) != expected_old:
            return False
        self.data.witnesses[(witness, origin)] = new
        return True


def check_append(stored: NegotiationRow | None, event: SignedEvent, row: NegotiationRow) -> None:
    """The optimistic lock, the same for every store: raise ConflictError if someone moved first."""
    env = event.envelope
    if row.id != env.negotiation or row.seq != env.seq + 1 or row.head != event.hash:
        raise InvalidInputError("the new negotiation row does not follow from the event")
    at, head = (0, None) if stored is None else (stored.seq, stored.head)
    if env.seq != at or env.prev != head:
        raise ConflictError(
            f"event {env.seq} was made on event {env.seq - 1}, but the negotiation is at event "
            f"{at - 1}: someone moved first; fetch the new state and try again"
        )
