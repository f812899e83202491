"""Timestamped Ed25519 cosignatures, ``cosignature/v1`` (c2sp.org/tlog-cosignature@v1.0.1).

A log witness states "as of time t, this is the largest consistent tree head I have seen for this
origin" by signing, with an Ed25519 key of signature type 0x04,

    cosignature/v1\\n
    time <t>\\n
    <the checkpoint note text, extension lines and final newline included>

and publishing the note signature line ``— <name> base64(key id ‖ u64 BE t ‖ 64-byte signature)``.
The statement does not name the cosigner, so each witness identity needs its own key (spec).
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass

from parley.core.keys import COSIGNATURE_V1, PublicKey, SigningKey
from parley.errors import InvalidInputError

HEADER = b"cosignature/v1\n"
MAX_TIMESTAMP = 2**63 - 1
"""Timestamps are POSIX seconds and must fit in a signed 64-bit integer (spec)."""
SIGNATURE_SIZE = 64
BLOB_SIZE = 8 + SIGNATURE_SIZE
"""The blob after the key id: the u64 timestamp and the Ed25519 signature."""


def check_timestamp(timestamp: int) -> None:
    """A cosignature time is 1 … 2**63-1: zero would omit the time (tlog-witness forbids it)."""
    if not 0 < timestamp <= MAX_TIMESTAMP:
        raise InvalidInputError(f"cosignature time must be in 1..2^63-1, found {timestamp}")


def signed_message(checkpoint_text: str | bytes, timestamp: int) -> bytes:
    """The exact bytes a cosigner signs for ``checkpoint_text`` at ``timestamp``."""
    check_timestamp(timestamp)
    text = checkpoint_text.encode() if isinstance(checkpoint_text, str) else checkpoint_text
    return HEADER + b"time %d\n" % timestamp + text


def cosign(checkpoint_text: str, key: SigningKey, timestamp: int) -> str:
    """A cosignature line (newline included) by ``key`` on ``checkpoint_text`` at ``timestamp``."""
    if key.type != COSIGNATURE_V1:
        raise InvalidInputError(f"key {key.name} is not a cosignature key (type 0x04)")
    if not checkpoint_text.endswith("\n"):
        raise InvalidInputError("checkpoint text must end with a newline")
    signature = key.sign(signed_message(checkpoint_text, timestamp))
    blob = key.public().id + struct.pack(">Q", timestamp) + signature
    return f"— {key.name} {base64.b64encode(blob).decode()}\n"


def timestamp_of(blob: bytes) -> int:
    """The time in a cosignature blob (the part after the key id)."""
    if len(blob) != BLOB_SIZE:
        raise InvalidInputError(f"a cosignature is {BLOB_SIZE} bytes, found {len(blob)}")
    timestamp: int = struct.unpack(">Q", blob[:8])[0]
    return timestamp


@dataclass(frozen=True, slots=True)
class CosignatureVerifier:
    """A ``note.NoteVerifier`` for type 0x04 cosignatures."""

    name: str
    key_id: bytes
    key: PublicKey

    @classmethod
    def of(cls, key: PublicKey) -> CosignatureVerifier:
        """Wrap a cosignature (0x04) public key."""
        if key.type != COSIGNATURE_V1:
            raise InvalidInputError(f"key {key.name} is not a cosignature key (type 0x04)")
        return cls(key.name, key.id, key)

    def verify(self, text: bytes, signature: bytes) -> bool:
        """True for a well-formed blob whose time is in range and whose signature verifies."""
        if len(signature) != BLOB_SIZE:
            return False
        timestamp = timestamp_of(signature)
        if not 0 < timestamp <= MAX_TIMESTAMP:
            return False
        message = signed_message(text, timestamp)
        return self.key.is_valid_signature(message, signature[8:])
