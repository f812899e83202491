"""Checking a bundle's log proofs: every event is an entry of the log the charter names.

Each event hash is a log entry; its leaf hash is RFC 6962's ``SHA-256(0x00 || event hash)``. Each
event carries a c2sp.org/tlog-proof against a checkpoint signed by the charter's log key. A bad
signature or proof makes the bundle invalid; a log-witness quorum that is not met leaves a valid
bundle not (yet) in force, because nobody independent has vouched that the log shows everyone the
same history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from parley.core import merkle, report_data, tlogpolicy, tlogproof
from parley.core.charter import Charter
from parley.core.checkpoint import SignedCheckpoint, open_checkpoint
from parley.core.event import SignedEvent
from parley.core.keys import PublicKey, parse_vkey
from parley.core.note import Note, verifier_for
from parley.core.report import Line, human_time
from parley.errors import InvalidInputError, ProofError, SignatureError, VerificationError


@dataclass(frozen=True, slots=True)
class LogEvidence:
    """What the log proofs establish."""

    holds: bool
    problem: str | None = None
    lines: tuple[Line, ...] = ()
    checkpoint: dict[str, Any] | None = None
    """The checkpoint the proofs lead to, as data (``report_data.checkpoint``)."""


def leaf_for(event: SignedEvent) -> bytes:
    """The RFC 6962 leaf hash of an event's log entry (the 32-byte event hash)."""
    return merkle.leaf_hash(bytes.fromhex(event.hash))


def check_log(
    charter: Charter,
    events: Sequence[SignedEvent],
    proofs: Sequence[str] | None,
    witness_policy: str | None = None,
) -> LogEvidence:
    """Check one proof per event against one checkpoint; raise VerificationError when a proof or
    a signature is bad, InvalidInputError when one cannot be read.

    ``witness_policy`` is the verifier's own tlog-policy (``parley verify --policy``), used instead
    of the charter's: its witnesses and quorum and, if it names logs, the log keys trusted.
    """
    if charter.log is None:
        if proofs is not None:
            raise InvalidInputError("the bundle carries log proofs, but the charter names no log")
        return LogEvidence(True, lines=(Line("no transparency log is named in the charter", True,
                                             "nothing to check"),))  # fmt: skip
    if proofs is None:
        problem = "the charter names a transparency log, but the bundle carries no proofs from it"
        return LogEvidence(False, problem=problem, lines=(Line(problem, False),))
    if len(proofs) != len(events):
        raise InvalidInputError(f"{len(proofs)} log proofs for {len(events)} events")
    policy: tlogpolicy.Policy | None
    if witness_policy is not None:
        policy = tlogpolicy.parse_policy(witness_policy)
        source, logs = "your policy", policy.log_keys
    else:
        text = charter.log.witness_policy
        policy = tlogpolicy.parse_policy(text) if text else None
        source, logs = "the charter", ()
    # a policy without 'log' lines trusts the charter's log key
    trusted, key_source = (
        (logs, source) if logs else ((parse_vkey(charter.log.vkey),), "the charter")
    )
    return _check_each(trusted, key_source, source, events, _parsed(events, proofs), policy)


def _parsed(events: Sequence[SignedEvent], proofs: Sequence[str]) -> list[tlogproof.TlogProof]:
    out = []
    for event, proof in zip(events, proofs, strict=True):
        try:
            out.append(tlogproof.TlogProof.from_bytes(proof))
        except InvalidInputError as exc:
            raise InvalidInputError(f"the log proof of event {event.envelope.seq}: {exc}") from None
    return out


def _check_each(
    logs: Sequence[PublicKey],
    key_source: str,
    source: str,
    events: Sequence[SignedEvent],
    proofs: Sequence[tlogproof.TlogProof],
    policy: tlogpolicy.Policy | None,
) -> LogEvidence:
    if len({p.checkpoint for p in proofs}) != 1:
        raise VerificationError("the proofs do not all carry the same signed checkpoint")
    signed = _opened(proofs[0].checkpoint, logs, policy, key_source)
    cp = signed.checkpoint
    for event, proof in zip(events, proofs, strict=True):
        try:
            merkle.verify_inclusion(
                proof.index, cp.size, leaf_for(event), proof.hashes, cp.root_hash
            )
        except VerificationError as exc:
            raise ProofError(f"the log proof of event {event.envelope.seq}: {exc}") from None
    indexes = [p.index for p in proofs]
    if any(b <= a for a, b in pairwise(indexes)):
        raise VerificationError("the events are not in the log in the order of their chain")
    lines = [
        Line(f"{_all(len(events))} in log {cp.origin}", True,
             _entries(indexes[0], indexes[-1], len(events), cp.size)),
        Line(f"checkpoint of {cp.size} entries, root {cp.root_hash.hex()}", True,
             f"signed by log key {signed.log_key.vkey()}, the key {key_source} names"),
        *(
            Line(f"cosigned by log witness {c.name}", True,
                 f"at {human_time(c.timestamp)}, key {c.key.vkey()}")
            for c in signed.cosignatures
        ),
    ]  # fmt: skip
    data = report_data.checkpoint(signed)
    if policy is None:
        lines.append(Line(f"{source} sets no log-witness policy: cosignatures were not required"))
        return LogEvidence(True, lines=(*lines, UNWITNESSED), checkpoint=data)
    counted = policy.witness_names(signed.witness_keys)
    quorum = tlogpolicy.evaluate(policy, counted)
    lines.append(Line(f"log-witness quorum of {source}", quorum.satisfied, quorum.explanation))
    if not quorum.satisfied:
        problem = f"witness {quorum.explanation}"
        return LogEvidence(False, problem=problem, lines=tuple(lines), checkpoint=data)
    lines += [] if counted else [UNWITNESSED]
    return LogEvidence(True, lines=tuple(lines), checkpoint=data)


UNWITNESSED = Line(
    "no log witness vouches for this checkpoint",
    detail="its log's operator alone signed it, and could show others another history of this "
    "negotiation; a checkpoint cosigned by log witnesses you trust rules that out",
    caution=True,
)
"""Said where no witness counted: the log then proves nothing against its own operator."""


def _opened(
    note: Note, logs: Sequence[PublicKey], policy: tlogpolicy.Policy | None, source: str
) -> SignedCheckpoint:
    """The checkpoint, signed by a trusted log key; every cosignature by a key the policy lists
    must verify (a bad one is an alteration, not a missing witness)."""
    names = ", ".join(key.vkey() for key in logs)
    try:
        signed = open_checkpoint(note, logs)
    except SignatureError:
        raise SignatureError(
            f"the checkpoint is not signed by the log key {source} names ({names})"
        ) from None
    if signed.checkpoint.origin != signed.log_key.name:
        raise VerificationError(
            f"the checkpoint is of log {signed.checkpoint.origin!r}, "
            f"not of {signed.log_key.name!r}, whose key signed it"
        )
    witnesses = policy.witness_keys if policy else ()
    try:
        return open_checkpoint(note, logs, witnesses)
    except SignatureError:
        raise SignatureError(
            f"the checkpoint, or its cosignature by {_failing(note, witnesses)}, was altered"
        ) from None


def _failing(note: Note, keys: Sequence[PublicKey]) -> str:
    """Which listed witness's cosignature of ``note`` does not verify."""
    message = note.text.encode()
    for key in keys:
        verifier = verifier_for(key)
        for sig in note.signatures:
            known = (sig.name, sig.key_id) == (verifier.name, verifier.key_id)
            if known and not verifier.verify(message, sig.blob):
                return f"{sig.name}+{sig.key_id_hex}"
    return "a log witness"


def _all(count: int) -> str:
    return "the file's one event is" if count == 1 else f"all {count} events are"


def _entries(first: int, last: int, count: int, size: int) -> str:
    """Where the events sit in the log, which other negotiations share; how far the checkpoint
    reaches beyond the last of them (other negotiations' entries, or later ones of this one)."""
    span = f"entry {first}" if first == last else f"entries {first} to {last}"
    if last - first + 1 != count:
        span += ", in order, among other negotiations'"
    if last < size - 1:
        span += f"; the checkpoint reaches entry {size - 1} (entries of any negotiation)"
    return span
