"""A log witness: the ``add-checkpoint`` call of c2sp.org/tlog-witness@v1.0.0 as a pure function.

``add_checkpoint(witness, state, body, now)`` parses the request body, applies the spec's checks
in the spec's order, and either refuses with the spec's status code or cosigns and records the
checkpoint. The record is kept behind ``WitnessState``, whose ``compare_and_set`` must check and
update in one atomic step (one database transaction): that closes the rollback race the spec
describes. The clock is an argument; the core never reads it.

When a checkpoint the log signed contradicts one the witness already cosigned, the outcome carries
``Evidence``: a self-contained document that anyone can check with ``verify_evidence`` and that
proves the log signed two inconsistent checkpoints (see ``verify_evidence`` for exactly what).

Evidence format (``parley/tlog-equivocation@v1``), lines end in a newline::

    parley/tlog-equivocation@v1
    log <vkey of the log key that signed both notes>
    proof <base64 hash>        zero or more: the consistency proof first → second, as received
    note <byte length>
    <first signed checkpoint note, exactly that many bytes>
    note <byte length>
    <second signed checkpoint note, exactly that many bytes>

The first note has the smaller (or equal) tree size; nothing follows the second note.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from parley.core import merkle
from parley.core.checkpoint import (
    Checkpoint,
    LineReader,
    SignedCheckpoint,
    format_hash,
    open_checkpoint,
    parse_decimal,
    parse_hash,
)
from parley.core.cosignature import check_timestamp, cosign
from parley.core.keys import COSIGNATURE_V1, ED25519, PublicKey, SigningKey, parse_vkey
from parley.core.note import Note, Signature, decode, parse_note
from parley.errors import InvalidInputError, ProofError, SignatureError, VerificationError

MAX_PROOF_LINES = 63
"""The client must not send more (tlog-witness)."""
SIZE_CONTENT_TYPE = "text/x.tlog.size"
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"
EVIDENCE_HEADER = "parley/tlog-equivocation@v1"
MAX_EVIDENCE_NOTE = 1 << 20


# --- request -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddCheckpointRequest:
    """The body of an add-checkpoint call: old size, consistency proof, checkpoint note."""

    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: Note

    @classmethod
    def from_bytes(cls, body: bytes | str) -> AddCheckpointRequest:
        """Parse a request body strictly (every malformation is a 400)."""
        lines = LineReader(decode(body, "add-checkpoint body"), "add-checkpoint body")
        first = lines.take("'old <size>'")
        if not first.startswith("old "):
            raise InvalidInputError("expected 'old <size>'", line=1)
        old = parse_decimal(first[len("old ") :], "old size", line=1)
        proof = lines.hashes_until_blank(MAX_PROOF_LINES)
        note = parse_note(lines.rest())
        Checkpoint.from_text(note.text)
        return cls(old, proof, note)

    def to_text(self) -> str:
        """The request body."""
        proof = "".join(format_hash(h) + "\n" for h in self.proof)
        return f"old {self.old_size}\n{proof}\n{self.checkpoint.to_text()}"

    def encode(self) -> bytes:
        """The request body as bytes."""
        return self.to_text().encode()


# --- state ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cosigned:
    """The latest checkpoint a witness cosigned for one origin."""

    size: int
    root_hash: bytes
    note: bytes
    """The checkpoint note with the log's signatures and this witness's cosignatures."""


class WitnessState(Protocol):
    """Where a witness keeps its latest cosigned checkpoint per origin."""

    def latest(self, origin: str) -> Cosigned | None:
        """The latest cosigned checkpoint for ``origin``; None if never cosigned."""
        ...

    def compare_and_set(self, origin: str, expected_old: int | None, new: Cosigned) -> bool:
        """Atomically store ``new`` if the latest size is still ``expected_old`` (None: no record).

        Returns False, changing nothing, when another request moved the state first.
        """
        ...


class MemoryWitnessState:
    """WitnessState in a dict (single-threaded use, tests)."""

    __slots__ = ("_latest",)

    def __init__(self) -> None:
        """Start with no cosigned checkpoint."""
        self._latest: dict[str, Cosigned] = {}

    def latest(self, origin: str) -> Cosigned | None:
        """The latest cosigned checkpoint for ``origin``."""
        return self._latest.get(origin)

    def compare_and_set(self, origin: str, expected_old: int | None, new: Cosigned) -> bool:
        """Store ``new`` if the record still has size ``expected_old``."""
        current = self._latest.get(origin)
        if (current.size if current else None) != expected_old:
            return False
        self._latest[origin] = new
        return True


# --- configuration and outcome -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrustedLog:
    """A log the witness cosigns for: its origin and the keys it may sign with."""

    origin: str
    keys: tuple[PublicKey, ...]


@dataclass(frozen=True, slots=True)
class Witness:
    """A witness: its cosigning keys (type 0x04) and the logs it serves."""

    keys: tuple[SigningKey, ...]
    logs: tuple[TrustedLog, ...]

    def __post_init__(self) -> None:
        if not self.keys or any(k.type != COSIGNATURE_V1 for k in self.keys):
            raise InvalidInputError("a witness needs one or more cosignature keys (type 0x04)")
        origins = [log.origin for log in self.logs]
        if len(set(origins)) != len(origins):
            raise InvalidInputError("a witness lists each log origin once")
        for log in self.logs:
            if not log.keys or any(k.type != ED25519 for k in log.keys):
                raise InvalidInputError(f"log {log.origin}: needs Ed25519 note keys (type 0x01)")
            if len({(k.name, k.id) for k in log.keys}) != len(log.keys):
                raise InvalidInputError(f"log {log.origin}: a key is listed twice")

    @classmethod
    def create(cls, keys: Sequence[SigningKey], logs: Mapping[str, Sequence[PublicKey]]) -> Witness:
        """A witness from its keys and a map of origin to trusted log keys."""
        return cls(tuple(keys), tuple(TrustedLog(o, tuple(k)) for o, k in logs.items()))

    def log(self, origin: str) -> TrustedLog | None:
        """The configuration for ``origin``, if the witness serves it."""
        return next((log for log in self.logs if log.origin == origin), None)

    @property
    def vkeys(self) -> tuple[PublicKey, ...]:
        """The public cosignature keys."""
        return tuple(k.public() for k in self.keys)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The witness's answer: HTTP status, body, content type, a reason, and any evidence."""

    status: int
    body: bytes
    content_type: str
    reason: str
    evidence: Evidence | None = None


def _refuse(status: int, reason: str, evidence: Evidence | None = None) -> Outcome:
    return Outcome(status, (reason + "\n").encode(), TEXT_CONTENT_TYPE, reason, evidence)


def _conflict(latest_size: int, reason: str, evidence: Evidence | None = None) -> Outcome:
    """409 with the latest cosigned size, as the spec prescribes."""
    body = f"{latest_size}\n".encode()
    return Outcome(409, body, SIZE_CONTENT_TYPE, reason, evidence)


# --- add-checkpoint ------------------------------------------------------------------------------


def add_checkpoint(witness: Witness, state: WitnessState, body: bytes | str, now: int) -> Outcome:
    """Handle one add-checkpoint request at time ``now`` (POSIX seconds)."""
    check_timestamp(now)
    try:
        request = AddCheckpointRequest.from_bytes(body)
    except InvalidInputError as exc:
        return _refuse(400, f"malformed request: {exc}")
    cp = Checkpoint.from_text(request.checkpoint.text)
    log = witness.log(cp.origin)
    if log is None:
        return _refuse(404, f"unknown log origin {cp.origin!r}")
    try:
        signed = open_checkpoint(request.checkpoint, log.keys)
    except SignatureError as exc:
        return _refuse(403, str(exc))
    if request.old_size > cp.size:
        return _refuse(400, f"old size {request.old_size} exceeds checkpoint size {cp.size}")
    latest = state.latest(cp.origin)
    refusal = _check(log, request, signed, latest)
    return refusal or _commit(witness, state, signed, latest, now)


def _check(
    log: TrustedLog,
    request: AddCheckpointRequest,
    signed: SignedCheckpoint,
    latest: Cosigned | None,
) -> Outcome | None:
    """The spec's checks after the signature, in order; None when all pass."""
    cp = signed.checkpoint
    latest_size = latest.size if latest else 0
    if request.old_size != latest_size:
        reason = f"old size {request.old_size} is not the latest cosigned size {latest_size}"
        return _conflict(latest_size, reason, _same_size_evidence(log, latest, signed))
    if cp.size == 0 and cp.root_hash != merkle.EMPTY_ROOT:
        return _refuse(422, "a checkpoint of size 0 must have the empty tree's root")
    if request.old_size == 0 and request.proof:
        return _refuse(422, "old size 0 needs an empty consistency proof")
    if latest is None or request.old_size == 0:
        return None
    return _check_consistency(log, request, signed, latest)


def _check_consistency(
    log: TrustedLog, request: AddCheckpointRequest, signed: SignedCheckpoint, latest: Cosigned
) -> Outcome | None:
    cp = signed.checkpoint
    if cp.size == latest.size:
        if cp.root_hash != latest.root_hash:
            # 409 as the spec has it, but plain text: a client that sees text/x.tlog.size asks
            # again from that size, which cannot help here
            evidence = _same_size_evidence(log, latest, signed)
            return _refuse(409, f"size {cp.size} was cosigned with another root", evidence)
        if request.proof:
            return _refuse(422, "equal sizes need an empty consistency proof")
        return None
    try:
        merkle.verify_consistency(
            latest.size, cp.size, request.proof, latest.root_hash, cp.root_hash
        )
    except ProofError as exc:
        evidence = _proof_evidence(log, latest, signed, request.proof)
        return _refuse(422, f"consistency proof does not verify: {exc}", evidence)
    return None


def _commit(
    witness: Witness,
    state: WitnessState,
    signed: SignedCheckpoint,
    latest: Cosigned | None,
    now: int,
) -> Outcome:
    """Cosign, then record atomically; a lost race cosigns nothing and reports the new size."""
    cp = signed.checkpoint
    lines = [cosign(signed.note.text, key, now) for key in witness.keys]
    log_sigs = tuple(s for s in signed.note.signatures if _is_key(s, signed.log_key))
    ours = tuple(Signature.from_line(line[:-1]) for line in lines)
    record = Cosigned(cp.size, cp.root_hash, Note(signed.note.text, log_sigs + ours).encode())
    if not state.compare_and_set(cp.origin, latest.size if latest else None, record):
        moved = state.latest(cp.origin)
        size = moved.size if moved else 0
        return _conflict(size, f"another request moved the witness to size {size} first")
    return Outcome(200, "".join(lines).encode(), TEXT_CONTENT_TYPE, f"cosigned size {cp.size}")


def _is_key(sig: Signature, key: PublicKey) -> bool:
    return (sig.name, sig.key_id) == (key.name, key.id)


def monitor_checkpoint(state: WitnessState, origin: str) -> Outcome:
    """The monitor retrieval answer: the latest cosigned checkpoint, or 404."""
    latest = state.latest(origin)
    if latest is None:
        return _refuse(404, f"never cosigned a checkpoint for {origin!r}")
    return Outcome(200, latest.note, TEXT_CONTENT_TYPE, f"latest size {latest.size}")


# --- evidence ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evidence:
    """Two checkpoint notes signed by one log key, and the proof that was offered between them."""

    log_key: PublicKey
    first: bytes
    second: bytes
    proof: tuple[bytes, ...] = ()

    def encode(self) -> bytes:
        """The evidence document (format in the module docstring)."""
        head = f"{EVIDENCE_HEADER}\nlog {self.log_key.vkey()}\n"
        head += "".join(f"proof {format_hash(h)}\n" for h in self.proof)
        parts = [head.encode()]
        for note in (self.first, self.second):
            parts += [f"note {len(note)}\n".encode(), note]
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> Evidence:
        """Parse an evidence document strictly."""
        reader = _ByteLines(data)
        if reader.line() != EVIDENCE_HEADER:
            raise InvalidInputError(f"evidence must start with {EVIDENCE_HEADER!r}", line=1)
        log = reader.line()
        if not log.startswith("log "):
            raise InvalidInputError("expected 'log <vkey>'", line=2)
        key = parse_vkey(log[len("log ") :])
        proof: list[bytes] = []
        label = reader.line()
        while label.startswith("proof ") and len(proof) < MAX_PROOF_LINES:
            proof.append(parse_hash(label[len("proof ") :], "proof hash", line=reader.number))
            label = reader.line()
        first = reader.note(label)
        second = reader.note(reader.line())
        if not reader.at_end():
            raise InvalidInputError("evidence has data after the second note")
        return cls(key, first, second, tuple(proof))


class _ByteLines:
    """Reads the evidence document: text lines, then notes of a stated byte length."""

    __slots__ = ("_data", "_pos", "number")

    def __init__(self, data: bytes) -> None:
        self._data, self._pos, self.number = data, 0, 0

    def line(self) -> str:
        end = self._data.find(b"\n", self._pos)
        self.number += 1
        if end < 0:
            raise InvalidInputError("evidence ends early", line=self.number)
        raw, self._pos = self._data[self._pos : end], end + 1
        return decode(raw, "evidence")

    def note(self, label: str) -> bytes:
        if not label.startswith("note "):
            raise InvalidInputError("expected 'note <byte length>'", line=self.number)
        size = parse_decimal(label[len("note ") :], "note length", line=self.number)
        if not 0 < size <= min(MAX_EVIDENCE_NOTE, len(self._data) - self._pos):
            raise InvalidInputError(f"note length {size} does not fit", line=self.number)
        raw, self._pos = self._data[self._pos : self._pos + size], self._pos + size
        self.number += raw.count(b"\n")
        return raw

    def at_end(self) -> bool:
        return self._pos == len(self._data)


EvidenceKind = Literal["same-size", "inconsistent-proof"]


@dataclass(frozen=True, slots=True)
class EvidenceReport:
    """What verified evidence proves about the log that holds ``log_key``."""

    log_key: PublicKey
    kind: EvidenceKind
    first: Checkpoint
    second: Checkpoint
    explanation: str

    def lines(self) -> list[str]:
        """A short human-readable account."""
        return [
            f"log {self.log_key.vkey()} signed two inconsistent checkpoints for "
            f"{self.first.origin!r} ({self.kind}):",
            f"  size {self.first.size} root {format_hash(self.first.root_hash)}",
            f"  size {self.second.size} root {format_hash(self.second.root_hash)}",
            self.explanation,
        ]


def verify_evidence(evidence_bytes: bytes, log_vkey: PublicKey | None = None) -> EvidenceReport:
    """Check that evidence proves the log key signed two inconsistent checkpoints.

    Proven, and reported, when both notes carry valid signatures of the evidence's log key (and
    that key is ``log_vkey`` when given), have the same origin, and either

    * ``same-size``: have the same tree size and different roots; or
    * ``inconsistent-proof``: sizes 0 < m < n, and the proof, run by RFC 9162 §2.1.4.2, arrives
      at the second root but derives a root for the first m leaves that differs from the first
      root. Reaching the second root pins every proof hash to the real tree of size n (else
      SHA-256 collides), so that tree's first m leaves do not hash to the first root.

    Anything else raises VerificationError (or InvalidInputError if malformed): in particular a
    proof that does not reach the second root shows nothing, as anyone can write a wrong proof,
    and with m a power of two the proof never derives the first root independently.
    """
    evidence = Evidence.from_bytes(evidence_bytes)
    if log_vkey is not None and log_vkey != evidence.log_key:
        raise VerificationError(
            f"evidence is about key {evidence.log_key.vkey()}, not {log_vkey.vkey()}"
        )
    first = open_checkpoint(evidence.first, evidence.log_key).checkpoint
    second = open_checkpoint(evidence.second, evidence.log_key).checkpoint
    if first.origin != second.origin:
        origins = f"{first.origin!r} and {second.origin!r}"
        raise VerificationError(f"the notes are for different origins: {origins}")
    kind, explanation = _assess(first, second, evidence.proof)
    return EvidenceReport(evidence.log_key, kind, first, second, explanation)


def _assess(
    first: Checkpoint, second: Checkpoint, proof: Sequence[bytes]
) -> tuple[EvidenceKind, str]:
    """Why the two checkpoints cannot both be honest; raise if they can."""
    m, n = first.size, second.size
    if m > n:
        raise InvalidInputError(f"the first note must not be the larger tree ({m} > {n})")
    if m == n:
        if proof:
            raise InvalidInputError("equal sizes: evidence carries no proof")
        if first.root_hash == second.root_hash:
            raise VerificationError(f"both checkpoints of size {n} have the same root")
        return "same-size", f"the log signed two different roots for tree size {n}"
    if m == 0:
        raise VerificationError("the empty tree is consistent with every tree")
    try:
        old, new = merkle.roots_from_consistency_proof(m, n, proof, first.root_hash)
    except ProofError as exc:
        raise VerificationError(f"the proof is malformed and shows nothing: {exc}") from exc
    if new != second.root_hash:
        raise VerificationError("the proof does not lead to the second root: it shows nothing")
    if old == first.root_hash:
        raise VerificationError(f"the proof verifies: size {m} and size {n} are consistent")
    return "inconsistent-proof", (
        f"the tree of size {n} begins with {m} leaves whose root is {format_hash(old)}, "
        f"not the signed {format_hash(first.root_hash)}"
    )


def _evidence(
    log: TrustedLog, first: bytes, second: bytes, proof: Sequence[bytes]
) -> Evidence | None:
    """Evidence from two notes, if one trusted key signed both and they are really inconsistent."""
    for key in log.keys:
        try:
            a = open_checkpoint(first, key).checkpoint
            b = open_checkpoint(second, key).checkpoint
            _assess(a, b, proof)
        except (InvalidInputError, VerificationError):
            continue
        return Evidence(key, first, second, tuple(proof))
    return None


def _same_size_evidence(
    log: TrustedLog, latest: Cosigned | None, signed: SignedCheckpoint
) -> Evidence | None:
    cp = signed.checkpoint
    if latest is None or latest.size != cp.size or latest.root_hash == cp.root_hash:
        return None
    return _evidence(log, latest.note, signed.note.encode(), ())


def _proof_evidence(
    log: TrustedLog, latest: Cosigned, signed: SignedCheckpoint, proof: Sequence[bytes]
) -> Evidence | None:
    return _evidence(log, latest.note, signed.note.encode(), proof)
