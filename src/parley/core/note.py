"""Signed notes (c2sp.org/signed-note@v1.0.0): text followed by a blank line and signature lines.

A note is a text ending in a newline, a blank line, and one or more signature lines
``— <key name> <base64(key id ‖ signature)>``. The signed message is the text, final newline
included. Parsing is strict: the whole note is UTF-8 without control characters other than
newline, the text/signature split is at the last blank line, every signature line is well formed
and its base64 canonical.

Verification follows the spec's verifier rules: signatures by unknown (name, key id) pairs are
kept but not checked; a signature by a known key must verify or the whole note is rejected; at
least one known signature must verify. Checking is delegated to ``NoteVerifier`` objects, so
Ed25519 note signatures (type 0x01) and timestamped cosignatures (type 0x04,
``parley.core.cosignature``) go through the same ``open_note``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from parley.core import cosignature
from parley.core.keys import (
    COSIGNATURE_V1,
    ED25519,
    PublicKey,
    SigningKey,
    check_name,
    strict_b64decode,
)
from parley.errors import InvalidInputError, SignatureError

MAX_SIGNATURES = 100
"""Signature lines accepted in one note; the spec asks for at least 16, x/mod stops at 100."""
MIN_BLOB = 5
"""A signature blob is a 4-byte key id and at least one signature byte."""
DASH = "— "
"""Every signature line starts with U+2014 EM DASH and a space."""

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteVerifier(Protocol):
    """Checks signatures of one (name, key id) pair; one implementation per signature type."""

    @property
    def name(self) -> str:
        """The key name the signature line must carry."""
        ...

    @property
    def key_id(self) -> bytes:
        """The 4-byte key id the blob must start with."""
        ...

    def verify(self, text: bytes, signature: bytes) -> bool:
        """True when ``signature`` (the blob after the key id) signs the note ``text``."""
        ...


@dataclass(frozen=True, slots=True)
class Ed25519Verifier:
    """Type 0x01: a plain Ed25519 signature over the note text."""

    name: str
    key_id: bytes
    key: PublicKey

    @classmethod
    def of(cls, key: PublicKey) -> Ed25519Verifier:
        """Wrap an Ed25519 (0x01) public key."""
        if key.type != ED25519:
            raise InvalidInputError(f"key {key.name} is not an Ed25519 note key (0x01)")
        return cls(key.name, key.id, key)

    def verify(self, text: bytes, signature: bytes) -> bool:
        """Pure Ed25519 (RFC 8032) over the text; a wrong length simply fails."""
        return len(signature) == 64 and self.key.is_valid_signature(text, signature)


def verifier_for(key: PublicKey | NoteVerifier) -> NoteVerifier:
    """The verifier for a public key's signature type; verifiers pass through unchanged."""
    if not isinstance(key, PublicKey):
        return key
    if key.type == ED25519:
        return Ed25519Verifier.of(key)
    if key.type == COSIGNATURE_V1:
        return cosignature.CosignatureVerifier.of(key)
    raise InvalidInputError(f"key {key.name}: unsupported signature type 0x{key.type:02x}")


@dataclass(frozen=True, slots=True)
class Signature:
    """One signature line: key name, 4-byte key id, and the signature proper."""

    name: str
    key_id: bytes
    blob: bytes

    @property
    def key_id_hex(self) -> str:
        """The key id as 8 lowercase hex digits."""
        return self.key_id.hex()

    def line(self) -> str:
        """The signature line, newline included."""
        return f"{DASH}{self.name} {base64.b64encode(self.key_id + self.blob).decode()}\n"

    @classmethod
    def from_line(cls, line: str, *, line_number: int | None = None) -> Signature:
        """Parse one signature line (without its newline)."""
        if not line.startswith(DASH):
            raise InvalidInputError("signature line must start with '— '", line=line_number)
        name, sep, b64 = line[len(DASH) :].partition(" ")
        if not sep or not b64:
            raise InvalidInputError("expected '— <key name> <base64>'", line=line_number)
        try:
            check_name(name)
            blob = strict_b64decode(b64, f"signature by {name}")
        except InvalidInputError as exc:
            raise InvalidInputError(exc.reason, line=line_number) from exc
        if len(blob) < MIN_BLOB:
            raise InvalidInputError(
                f"signature by {name} is {len(blob)} bytes, expected at least {MIN_BLOB}",
                line=line_number,
            )
        return cls(name, blob[:4], blob[4:])


@dataclass(frozen=True, slots=True)
class Note:
    """A note as written: its text and every signature line, in order."""

    text: str
    signatures: tuple[Signature, ...]

    def to_text(self) -> str:
        """The note in wire form; parsing it gives back an equal Note."""
        return self.text + "\n" + "".join(s.line() for s in self.signatures)

    def encode(self) -> bytes:
        """The note in wire form, as UTF-8 bytes."""
        return self.to_text().encode()

    def with_signatures(self, lines: Sequence[Signature]) -> Note:
        """This note with more signatures appended (for example a witness's cosignatures)."""
        return Note(self.text, self.signatures + tuple(lines))


@dataclass(frozen=True, slots=True)
class OpenedNote:
    """A note whose known signatures all verified; unknown ones are kept, unchecked."""

    note: Note
    verified: tuple[Signature, ...]
    unverified: tuple[Signature, ...]

    @property
    def text(self) -> str:
        """The signed text."""
        return self.note.text

    def signed_by(self, verifier: NoteVerifier) -> Signature | None:
        """The verified signature of ``verifier``'s (name, key id), if any."""
        for sig in self.verified:
            if (sig.name, sig.key_id) == (verifier.name, verifier.key_id):
                return sig
        return None


# --- parsing -------------------------------------------------------------------------------------


def decode(data: bytes | str, what: str = "note") -> str:
    """UTF-8 text with no control characters but newline, as every C2SP text format requires."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInputError(f"{what} is not valid UTF-8 (byte {exc.start})") from exc
    else:
        text = data
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidInputError(f"{what} is not valid Unicode text") from exc
    bad = _CONTROL.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        code = ord(bad.group())
        raise InvalidInputError(f"{what} contains control character U+{code:04X}", line=line)
    return text


def parse_note(data: bytes | str) -> Note:
    """Parse a note's structure without checking any signature."""
    text = decode(data)
    split = text.rfind("\n\n")
    if split < 0:
        raise InvalidInputError("note has no blank line before its signatures")
    body, block = text[: split + 1], text[split + 2 :]
    if not block:
        raise InvalidInputError("note has no signature lines")
    if not block.endswith("\n"):
        raise InvalidInputError("note must end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise InvalidInputError(f"note has {len(lines)} signatures, at most {MAX_SIGNATURES}")
    first = body.count("\n") + 2
    sigs = tuple(Signature.from_line(ln, line_number=first + i) for i, ln in enumerate(lines))
    return Note(body, sigs)


def check_text(text: str) -> None:
    """A note text is non-empty valid text, ends in a newline and has no control characters."""
    decode(text, "note text")
    if not text.endswith("\n"):
        raise InvalidInputError("note text must end with a newline")


# --- signing and opening -------------------------------------------------------------------------


def sign_note(text: str, signers: Sequence[SigningKey]) -> Note:
    """Sign ``text`` with Ed25519 note keys (cosignatures need a time: see cosignature.cosign)."""
    check_text(text)
    if not signers:
        raise InvalidInputError("a note needs at least one signer")
    message = text.encode()
    sigs = []
    for signer in signers:
        if signer.type != ED25519:
            raise InvalidInputError(f"key {signer.name} is not an Ed25519 note key (0x01)")
        sigs.append(Signature(signer.name, signer.public().id, signer.sign(message)))
    return Note(text, tuple(sigs))


def open_note(
    data: bytes | str | Note, verifiers: Sequence[PublicKey | NoteVerifier]
) -> OpenedNote:
    """Parse a note and check it against known keys, by the signed-note verifier rules."""
    note = data if isinstance(data, Note) else parse_note(data)
    known = _index(verifiers)
    message = note.text.encode()
    verified: dict[tuple[str, bytes], Signature] = {}
    unverified: dict[Signature, None] = {}
    for sig in note.signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            unverified[sig] = None
        elif verifier.verify(message, sig.blob):
            verified.setdefault((sig.name, sig.key_id), sig)
        else:
            raise SignatureError(f"note: signature by {sig.name}+{sig.key_id_hex} does not verify")
    if not verified:
        raise SignatureError(f"note has no signature by a trusted key ({_describe(note)})")
    return OpenedNote(note, tuple(verified.values()), tuple(unverified))


def _index(verifiers: Sequence[PublicKey | NoteVerifier]) -> dict[tuple[str, bytes], NoteVerifier]:
    """Known keys by (name, key id); two keys with the same pair would make a note ambiguous."""
    known: dict[tuple[str, bytes], NoteVerifier] = {}
    for item in verifiers:
        verifier = verifier_for(item)
        pair = (verifier.name, verifier.key_id)
        if pair in known:
            raise InvalidInputError(f"ambiguous key {pair[0]}+{pair[1].hex()}: given twice")
        known[pair] = verifier
    return known


def _describe(note: Note) -> str:
    names = sorted({f"{s.name}+{s.key_id_hex}" for s in note.signatures})
    return "signed by " + ", ".join(names)
