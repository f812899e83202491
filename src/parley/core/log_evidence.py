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

from parley.core import merkle, tlogpolicy, tlogproof
from parley.core.charter import Charter
from parley.core.event import SignedEvent
from parley.core.keys import PublicKey, parse_vkey
from parley.core.report import Line, human_time
from parley.errors import InvalidInputError, VerificationError


@dataclass(frozen=True, slots=True)
class LogEvidence:
    """What the log proofs establish."""

    holds: bool
    invalid: bool = False
    problem: str | None = None
    lines: tuple[Line, ...] = ()


def leaf_for(event: SignedEvent) -> bytes:
    """The RFC 6962 leaf hash of an event's log entry (the 32-byte event hash)."""
    return merkle.leaf_hash(bytes.fromhex(event.hash))


def check_log(
    charter: Charter,
    events: Sequence[SignedEvent],
    proofs: Sequence[str] | None,
    witness_policy: str | None = None,
) -> LogEvidence:
    """Check one proof per event; raise VerificationError when a proof or signature is bad."""
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
    policy_text = witness_policy if witness_policy is not None else charter.log.witness_policy
    policy = tlogpolicy.parse_policy(policy_text) if policy_text else None
    return _check_each(charter.log.vkey, events, proofs, policy)


def _check_each(
    vkey: str,
    events: Sequence[SignedEvent],
    proofs: Sequence[str],
    policy: tlogpolicy.Policy | None,
) -> LogEvidence:
    log_key = parse_vkey(vkey)
    reports = []
    quorum_failed: str | None = None
    if len({tlogproof.TlogProof.from_bytes(p).checkpoint for p in proofs}) != 1:
        raise VerificationError("the proofs do not all carry the same signed checkpoint")
    for event, proof in zip(events, proofs, strict=True):
        try:
            reports.append(tlogproof.verify_proof(proof, leaf_for(event), log_key, policy))
        except VerificationError as exc:
            reports.append(_without_quorum(event, proof, log_key))
            quorum_failed = str(exc)
    _check_order(reports)
    first, last = reports[0], reports[-1]
    cp = last.checkpoint
    lines = [
        Line(
            f"all {len(events)} events are in log {cp.origin}",
            True,
            _entries(first.index, last.index, len(events)),
        ),
        Line(f"checkpoint at size {cp.size}, signed by log key {log_key.name}+{log_key.id_hex}"),
        *(
            Line(f"cosigned by log witness {c.name}", True, f"at {human_time(c.timestamp)}")
            for c in last.cosignatures
        ),
    ]
    if policy is None:
        lines.append(Line("no log-witness policy: cosignatures were not required", True))
        return LogEvidence(True, lines=tuple(lines))
    if quorum_failed is not None:
        lines.append(Line("log-witness quorum", False, quorum_failed))
        return LogEvidence(False, problem=quorum_failed, lines=tuple(lines))
    explanation = last.quorum.explanation if last.quorum else "met"
    lines.append(Line("log-witness quorum", True, explanation))
    return LogEvidence(True, lines=tuple(lines))


def _without_quorum(event: SignedEvent, proof: str, log_key: PublicKey) -> tlogproof.ProofReport:
    """Re-check without the quorum: if that fails too, the proof itself is bad (invalid)."""
    try:
        return tlogproof.verify_proof(proof, leaf_for(event), log_key)
    except VerificationError as exc:
        raise VerificationError(f"log proof for event {event.envelope.seq}: {exc}") from exc


def _check_order(reports: list[tlogproof.ProofReport]) -> None:
    checkpoints = {r.checkpoint for r in reports}
    if len(checkpoints) != 1:
        raise VerificationError("the proofs are not all against the same checkpoint")
    indexes = [r.index for r in reports]
    if any(b <= a for a, b in pairwise(indexes)):
        raise VerificationError("the events are not in the log in the order of their chain")


def _entries(first: int, last: int, count: int) -> str:
    """Where the events sit in the log, which other negotiations share."""
    span = f"entries {first} to {last}"
    return span if last - first + 1 == count else f"{span}, in order, among other negotiations'"
