"""Running a transparency log, storage-independent: checkpoints, the witness round, proofs.

Every function reads stored hashes through ``merkle.HashReader``, so the same code serves an
in-memory log (``MemoryLog``, for tests and the demo) and the database-backed log of the services.
Entries are event hashes (32 bytes), never event contents, so the log reveals nothing
confidential.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from parley.core import merkle, witness
from parley.core.checkpoint import Checkpoint, sign_checkpoint
from parley.core.keys import PublicKey, SigningKey
from parley.core.note import Note, Signature
from parley.core.tlogproof import TlogProof
from parley.core.witness import (
    AddCheckpointRequest,
    MemoryWitnessState,
    Outcome,
    Witness,
    WitnessState,
)
from parley.errors import InvalidInputError, VerificationError


def checkpoint(origin: str, size: int, reader: merkle.HashReader) -> Checkpoint:
    """The checkpoint of the first ``size`` entries."""
    return Checkpoint(origin, size, merkle.tree_hash(size, reader))


def request_for(note: Note, old_size: int, reader: merkle.HashReader) -> bytes:
    """An add-checkpoint request body taking a witness from ``old_size`` to ``note``'s size."""
    size = Checkpoint.from_text(note.text).size
    proof = merkle.prove_consistency(old_size, size, reader) if 0 < old_size < size else []
    return AddCheckpointRequest(old_size, tuple(proof), note).encode()


def with_cosignatures(note: Note, outcome: Outcome) -> Note:
    """The note with the cosignature lines of a witness's 200 answer appended."""
    if outcome.status != 200:
        raise VerificationError(
            f"log witness refused the checkpoint ({outcome.status}): {outcome.reason}"
        )
    lines = outcome.body.decode().splitlines()
    return note.with_signatures([Signature.from_line(line) for line in lines if line])


def proof_file(index: int, note: Note, reader: merkle.HashReader) -> str:
    """A c2sp.org/tlog-proof for entry ``index`` against the (cosigned) checkpoint ``note``."""
    size = Checkpoint.from_text(note.text).size
    hashes = merkle.prove_inclusion(index, size, reader)
    return TlogProof(index, tuple(hashes), note).to_text()


@dataclass
class LocalWitness:
    """A log witness run by a participant (for example one per mediator): key, trust, state."""

    key: SigningKey
    service: Witness
    state: WitnessState = field(default_factory=MemoryWitnessState)

    @classmethod
    def for_log(
        cls, key: SigningKey, origin: str, log_key: PublicKey, state: WitnessState | None = None
    ) -> LocalWitness:
        """A witness that cosigns checkpoints of one log, keeping its state in ``state``."""
        service = Witness.create([key], {origin: [log_key]})
        return cls(key, service, state if state is not None else MemoryWitnessState())

    def cosign(self, note: Note, reader: merkle.HashReader, now: int) -> Outcome:
        """Run add-checkpoint, probing for the size this witness last cosigned (409)."""
        old = self.state.latest(Checkpoint.from_text(note.text).origin)
        old_size = 0 if old is None else old.size
        return witness.add_checkpoint(
            self.service, self.state, request_for(note, old_size, reader), now
        )


@dataclass
class MemoryLog:
    """An in-memory log with its signing key and its local log witnesses."""

    key: SigningKey
    witnesses: Sequence[LocalWitness] = ()
    hashes: merkle.MemoryHashes = field(default_factory=merkle.MemoryHashes)
    note: Note | None = None
    """The latest checkpoint, with the cosignatures collected."""

    @property
    def origin(self) -> str:
        """The log's origin: its key name."""
        return self.key.name

    def append(self, entry: bytes) -> int:
        """Append one entry (an event hash); returns its index."""
        if len(entry) != merkle.HASH_SIZE:
            raise InvalidInputError(
                f"log entries are 32-byte event hashes, found {len(entry)} bytes"
            )
        return self.hashes.append(entry)

    def publish(self, now: int) -> Note:
        """Sign a checkpoint of every entry and collect each witness's cosignature."""
        note = sign_checkpoint(checkpoint(self.origin, self.hashes.size, self.hashes), self.key)
        for w in self.witnesses:
            note = with_cosignatures(note, w.cosign(note, self.hashes, now))
        self.note = note
        return note

    def proof(self, index: int) -> str:
        """A tlog-proof for entry ``index`` against the latest published checkpoint."""
        if self.note is None:
            raise InvalidInputError("no checkpoint published yet")
        return proof_file(index, self.note, self.hashes)
