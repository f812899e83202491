"""Offline proofs of logging (c2sp.org/tlog-proof@v1): a receipt anyone can check without a network.

    c2sp.org/tlog-proof@v1
    [extra <base64>]                 opaque, unauthenticated
    index <leaf index>
    <base64 inclusion proof hash>    zero or more, leaf's sibling first (RFC 6962 §2.1.1)
                                     an empty line
    <checkpoint note, verbatim, with the log signature and witness cosignatures>

Verification (spec §"Verifying"): the checkpoint is signed by a trusted log whose key name is the
checkpoint origin, the known witness cosignatures verify and meet the policy's quorum, and the
inclusion proof binds the caller's leaf hash to the checkpoint root.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from parley.core import merkle
from parley.core.checkpoint import (
    MAX_SIZE,
    Checkpoint,
    LineReader,
    WitnessCosignature,
    format_hash,
    open_checkpoint,
    parse_decimal,
)
from parley.core.keys import PublicKey, strict_b64decode
from parley.core.note import Note, decode, parse_note
from parley.core.tlogpolicy import Policy, QuorumResult, evaluate
from parley.errors import InvalidInputError, VerificationError

HEADER = "c2sp.org/tlog-proof@v1"
MAX_PROOF_HASHES = 63
"""An inclusion proof in a tree of at most 2**63-1 leaves has at most 63 hashes."""


@dataclass(frozen=True, slots=True)
class TlogProof:
    """A parsed tlog-proof file."""

    index: int
    hashes: tuple[bytes, ...]
    checkpoint: Note
    extra: bytes | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.index <= MAX_SIZE:
            raise InvalidInputError(f"leaf index must be in 0..2^63-1, found {self.index}")
        if len(self.hashes) > MAX_PROOF_HASHES:
            raise InvalidInputError(f"more than {MAX_PROOF_HASHES} proof hashes")
        if any(len(h) != merkle.HASH_SIZE for h in self.hashes):
            raise InvalidInputError("every proof hash must be 32 bytes")

    @classmethod
    def from_bytes(cls, data: bytes | str) -> TlogProof:
        """Parse a proof file strictly."""
        lines = LineReader(decode(data, "tlog proof"), "tlog proof")
        if lines.take(HEADER) != HEADER:
            raise InvalidInputError(f"tlog proof must start with {HEADER!r}", line=1)
        extra = None
        if lines.peek_startswith("extra "):
            extra = strict_b64decode(lines.take("extra")[len("extra ") :], "extra data")
        index_line = lines.take("'index <n>'")
        if not index_line.startswith("index "):
            raise InvalidInputError("expected 'index <leaf index>'", line=lines.number)
        index = parse_decimal(index_line[len("index ") :], "leaf index", line=lines.number)
        hashes = lines.hashes_until_blank(MAX_PROOF_HASHES)
        note = parse_note(lines.rest())
        Checkpoint.from_text(note.text)
        return cls(index, hashes, note, extra)

    def to_text(self) -> str:
        """The proof file; ``from_bytes`` gives back an equal proof."""
        head = [HEADER]
        if self.extra is not None:
            head.append("extra " + base64.b64encode(self.extra).decode())
        head.append(f"index {self.index}")
        head += [format_hash(h) for h in self.hashes]
        return "\n".join(head) + "\n\n" + self.checkpoint.to_text()

    def encode(self) -> bytes:
        """The proof file as UTF-8 bytes."""
        return self.to_text().encode()


@dataclass(frozen=True, slots=True)
class ProofReport:
    """What a verified proof establishes."""

    checkpoint: Checkpoint
    index: int
    leaf_hash: bytes
    log_key: PublicKey
    cosignatures: tuple[WitnessCosignature, ...]
    quorum: QuorumResult | None
    extra: bytes | None

    def lines(self) -> list[str]:
        """A short human-readable account."""
        cp = self.checkpoint
        out = [
            f"leaf {self.leaf_hash.hex()} is entry {self.index} of {cp.origin} "
            f"at tree size {cp.size}",
            f"log signature: {self.log_key.name}+{self.log_key.id_hex}",
        ]
        out += [
            f"cosigned by {c.name}+{c.key_id.hex()} at {c.timestamp}" for c in self.cosignatures
        ]
        if self.quorum is not None:
            out.append(self.quorum.explanation)
        return out


def verify_proof(
    proof_bytes: bytes | str,
    leaf_hash: bytes,
    log_vkey: PublicKey | None = None,
    policy: Policy | None = None,
) -> ProofReport:
    """Check a proof file for ``leaf_hash``; raise a VerificationError subclass if it fails.

    The trusted logs are ``log_vkey`` or, when it is None, the policy's logs. Without a policy no
    cosignature is required and none is checked.
    """
    if len(leaf_hash) != merkle.HASH_SIZE:
        raise InvalidInputError(f"leaf hash must be 32 bytes, found {len(leaf_hash)}")
    proof = TlogProof.from_bytes(proof_bytes)
    logs = [log_vkey] if log_vkey is not None else list(policy.log_keys if policy else ())
    if not logs:
        raise InvalidInputError("no log key: give a log vkey or a policy with a 'log' line")
    signed = open_checkpoint(proof.checkpoint, logs, policy.witness_keys if policy else ())
    cp = signed.checkpoint
    if cp.origin != signed.log_key.name:
        raise VerificationError(
            f"checkpoint origin {cp.origin!r} is not the log key's name {signed.log_key.name!r}"
        )
    merkle.verify_inclusion(proof.index, cp.size, leaf_hash, proof.hashes, cp.root_hash)
    quorum = None
    if policy is not None:
        quorum = evaluate(policy, policy.witness_names(signed.witness_keys))
        if not quorum.satisfied:
            raise VerificationError(f"witness {quorum.explanation}")
    cosigned = signed.cosignatures
    return ProofReport(cp, proof.index, leaf_hash, signed.log_key, cosigned, quorum, proof.extra)
