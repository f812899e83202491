"""Checkpoints (c2sp.org/tlog-checkpoint@v1.0.0): a log's signed tree head, as a signed note.

The note text is the origin, the tree size in decimal, the base64 RFC 6962 root hash, and optional
opaque extension lines, each ending in a newline. The log signs it with an Ed25519 note key; log
witnesses add ``cosignature/v1`` lines. Parsing is strict: decimals without leading zeros or
signs, a canonical base64 root of exactly 32 bytes, non-empty lines.

The decimal and hash parsers here are the ones every C2SP text format of this package uses.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass

from parley.core import cosignature
from parley.core.keys import ED25519, PublicKey, SigningKey, strict_b64decode
from parley.core.note import (
    Note,
    NoteVerifier,
    OpenedNote,
    Signature,
    decode,
    open_note,
    sign_note,
    verifier_for,
)
from parley.errors import InvalidInputError, SignatureError

HASH_SIZE = 32
MAX_SIZE = 2**63 - 1
"""Tree sizes and indexes fit in a signed 64-bit integer, as in every Go implementation."""

_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")


def parse_decimal(text: str, what: str, *, line: int | None = None) -> int:
    """ASCII decimal, no leading zeros, no sign or spaces, at most 2**63-1 (tlog.md §3)."""
    if not _DECIMAL.fullmatch(text) or int(text) > MAX_SIZE:
        shown = text if len(text) <= 24 else text[:24] + "…"
        raise InvalidInputError(
            f"{what} must be a decimal number without leading zeros, found {shown!r}", line=line
        )
    return int(text)


def parse_hash(text: str, what: str, *, line: int | None = None) -> bytes:
    """A SHA-256 hash in canonical standard base64 (44 characters)."""
    try:
        raw = strict_b64decode(text, what)
    except InvalidInputError as exc:
        raise InvalidInputError(exc.reason, line=line) from exc
    if len(raw) != HASH_SIZE:
        raise InvalidInputError(f"{what} must be {HASH_SIZE} bytes, found {len(raw)}", line=line)
    return raw


def format_hash(value: bytes) -> str:
    """Standard base64 of a hash."""
    return base64.b64encode(value).decode()


class LineReader:
    """Reads a line-based header (tlog-proof, add-checkpoint) line by line, then the rest."""

    __slots__ = ("_pos", "_text", "number", "what")

    def __init__(self, text: str, what: str) -> None:
        """Start at the first line of ``text``; ``what`` names the format in errors."""
        self._text, self._pos, self.number, self.what = text, 0, 0, what

    def take(self, expected: str) -> str:
        """The next line without its newline; a missing newline is an error."""
        end = self._text.find("\n", self._pos)
        self.number += 1
        if end < 0:
            raise InvalidInputError(
                f"{self.what} ends early: expected {expected}", line=self.number
            )
        line, self._pos = self._text[self._pos : end], end + 1
        return line

    def peek_startswith(self, prefix: str) -> bool:
        """True when the next line starts with ``prefix``."""
        return self._text.startswith(prefix, self._pos)

    def hashes_until_blank(self, limit: int) -> tuple[bytes, ...]:
        """Base64 hash lines up to an empty line (consumed), at most ``limit`` of them."""
        found: list[bytes] = []
        while line := self.take("a hash or an empty line"):
            if len(found) == limit:
                raise InvalidInputError(f"more than {limit} proof hashes", line=self.number)
            found.append(parse_hash(line, "proof hash", line=self.number))
        return tuple(found)

    def rest(self) -> str:
        """Everything after the lines taken so far."""
        return self._text[self._pos :]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head: origin, size, root hash and (not recommended) extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "origin", 1)
        if not 0 <= self.size <= MAX_SIZE:
            raise InvalidInputError(f"tree size must be in 0..2^63-1, found {self.size}")
        if len(self.root_hash) != HASH_SIZE:
            raise InvalidInputError(f"root hash must be 32 bytes, found {len(self.root_hash)}")
        for i, ext in enumerate(self.extensions):
            _check_line(ext, "extension line", 4 + i)

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        """Parse a checkpoint note text (signatures excluded), final newline required."""
        decode(text, "checkpoint")
        if not text.endswith("\n"):
            raise InvalidInputError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise InvalidInputError(f"checkpoint needs at least 3 lines, found {len(lines)}")
        origin, size, root, *extensions = lines
        return cls(
            origin,
            parse_decimal(size, "tree size", line=2),
            parse_hash(root, "root hash", line=3),
            tuple(extensions),
        )

    def to_text(self) -> str:
        """The checkpoint note text; ``from_text`` gives back an equal checkpoint."""
        head = f"{self.origin}\n{self.size}\n{format_hash(self.root_hash)}\n"
        return head + "".join(ext + "\n" for ext in self.extensions)


def _check_line(value: str, what: str, line: int) -> None:
    """Origin and extension lines: non-empty, one line, no control characters."""
    if not value:
        raise InvalidInputError(f"{what} must not be empty", line=line)
    if "\n" in value:
        raise InvalidInputError(f"{what} must be a single line", line=line)
    decode(value, what)


# --- signing and opening -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WitnessCosignature:
    """A cosignature that verified: whose, and the time it states."""

    name: str
    key_id: bytes
    timestamp: int
    key: PublicKey


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint whose log signature verified, with the witness cosignatures that verified."""

    checkpoint: Checkpoint
    note: Note
    log_key: PublicKey
    cosignatures: tuple[WitnessCosignature, ...]

    @property
    def witness_keys(self) -> tuple[PublicKey, ...]:
        """The keys of the witnesses whose cosignatures verified."""
        return tuple(c.key for c in self.cosignatures)


def sign_checkpoint(cp: Checkpoint, log_key: SigningKey) -> Note:
    """The checkpoint note signed by the log (Ed25519, type 0x01)."""
    return sign_note(cp.to_text(), [log_key])


def open_checkpoint(
    data: bytes | str | Note,
    log_vkey: PublicKey | Sequence[PublicKey],
    witness_keys: Sequence[PublicKey | NoteVerifier] = (),
) -> SignedCheckpoint:
    """Verify a checkpoint note: a log signature is required; known cosignatures must verify."""
    logs = [log_vkey] if isinstance(log_vkey, PublicKey) else list(log_vkey)
    for key in logs:
        if key.type != ED25519:
            raise InvalidInputError(f"log key {key.name} is not an Ed25519 note key (0x01)")
    opened = open_note(data, [*logs, *witness_keys])
    log_key = _log_signer(opened, logs)
    cp = Checkpoint.from_text(opened.text)
    return SignedCheckpoint(cp, opened.note, log_key, _cosignatures(opened, witness_keys))


def _log_signer(opened: OpenedNote, logs: Sequence[PublicKey]) -> PublicKey:
    for key in logs:
        if opened.signed_by(verifier_for(key)) is not None:
            return key
    names = ", ".join(k.name for k in logs) or "none given"
    raise SignatureError(f"checkpoint is not signed by the log key ({names})")


def _cosignatures(
    opened: OpenedNote, witness_keys: Sequence[PublicKey | NoteVerifier]
) -> tuple[WitnessCosignature, ...]:
    found = []
    for item in witness_keys:
        verifier = verifier_for(item)
        sig: Signature | None = opened.signed_by(verifier)
        if sig is not None and isinstance(verifier, cosignature.CosignatureVerifier):
            stamp = cosignature.timestamp_of(sig.blob)
            found.append(WitnessCosignature(sig.name, sig.key_id, stamp, verifier.key))
    return tuple(found)
