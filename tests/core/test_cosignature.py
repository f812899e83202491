"""cosignature/v1: the zero-seed vector, the signed message, timestamp bounds, and verification."""

from __future__ import annotations

import base64
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.core import cosignature, keys, note
from parley.errors import InvalidInputError, SignatureError

# research/tlog.md §1.3: zero seed, t = 1700000000, the 8-leaf RFC 6962 root (checked against Go).
CHECKPOINT = "example.com/log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
VKEY = "witness.example/w0+651a78d0+BDtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
LINE = (
    "— witness.example/w0 ZRp40AAAAABlU/EA3YEJp0cE0HwUZcPfqRjNlIVH5/43rOjLhuHQxC9HAuwXr3uEw6qZZuQ"
    "PXd08fAKQgXzRQ+CUgaE1mAvlyfc3DQ==\n"
)
T = 1_700_000_000
ZERO = keys.SigningKey.from_seed("witness.example/w0", bytes(32), keys.COSIGNATURE_V1)


def _blob(line: str) -> bytes:
    return base64.b64decode(line.split(" ")[2])


def test_zero_seed_vector_is_reproduced_exactly() -> None:
    assert ZERO.public().vkey() == VKEY
    assert cosignature.cosign(CHECKPOINT, ZERO, T) == LINE


def test_blob_layout_is_key_id_time_signature() -> None:
    blob = _blob(LINE)
    assert len(blob) == 4 + cosignature.BLOB_SIZE == 76
    assert blob[:4].hex() == "651a78d0"
    assert struct.unpack(">Q", blob[4:12])[0] == T
    assert cosignature.timestamp_of(blob[4:]) == T


def test_signed_message_is_header_time_and_checkpoint_text() -> None:
    expected = b"cosignature/v1\ntime 1700000000\n" + CHECKPOINT.encode()
    assert cosignature.signed_message(CHECKPOINT, T) == expected
    ZERO.public().verify(expected, _blob(LINE)[12:])


def test_vector_verifies_through_note_open() -> None:
    logger = keys.SigningKey.from_seed("example.com/log", bytes(range(32)))
    signed = note.sign_note(CHECKPOINT, [logger]).with_signatures(
        [note.Signature.from_line(LINE[:-1])]
    )
    opened = note.open_note(signed.encode(), [logger.public(), keys.parse_vkey(VKEY)])
    assert [s.name for s in opened.verified] == ["example.com/log", "witness.example/w0"]


@pytest.mark.parametrize("bad", [0, -1, 2**63, 2**64])
def test_out_of_range_timestamps_are_refused(bad: int) -> None:
    with pytest.raises(InvalidInputError, match=r"1\.\.2"):
        cosignature.cosign(CHECKPOINT, ZERO, bad)


def test_largest_timestamp_is_accepted() -> None:
    line = cosignature.cosign(CHECKPOINT, ZERO, 2**63 - 1)
    verifier = cosignature.CosignatureVerifier.of(ZERO.public())
    assert verifier.verify(CHECKPOINT.encode(), _blob(line)[4:])


def test_verifier_rejects_zero_and_huge_times_even_when_signed() -> None:
    verifier = cosignature.CosignatureVerifier.of(ZERO.public())
    for stamp in (0, 2**63):
        message = b"cosignature/v1\ntime %d\n" % stamp + CHECKPOINT.encode()
        blob = struct.pack(">Q", stamp) + ZERO.sign(message)
        assert not verifier.verify(CHECKPOINT.encode(), blob)


def test_a_changed_time_or_text_fails() -> None:
    verifier = cosignature.CosignatureVerifier.of(ZERO.public())
    blob = _blob(LINE)[4:]
    later = struct.pack(">Q", T + 1) + blob[8:]
    assert verifier.verify(CHECKPOINT.encode(), blob)
    assert not verifier.verify(CHECKPOINT.encode(), later)
    assert not verifier.verify(CHECKPOINT.replace("8", "9", 1).encode(), blob)
    assert not verifier.verify(CHECKPOINT.encode(), blob[:-1])


def test_key_types_are_enforced() -> None:
    plain = ZERO.with_type(keys.ED25519)
    with pytest.raises(InvalidInputError, match="0x04"):
        cosignature.cosign(CHECKPOINT, plain, T)
    with pytest.raises(InvalidInputError, match="0x04"):
        cosignature.CosignatureVerifier.of(plain.public())
    with pytest.raises(InvalidInputError, match="newline"):
        cosignature.cosign(CHECKPOINT[:-1], ZERO, T)
    with pytest.raises(InvalidInputError, match=r"72 bytes"):
        cosignature.timestamp_of(b"short")


def test_an_ed25519_note_signature_is_not_a_cosignature() -> None:
    """The same seed as a 0x01 key has another key id, so it can never pass for a cosigner."""
    plain = ZERO.with_type(keys.ED25519)
    signed = note.sign_note(CHECKPOINT, [plain])
    with pytest.raises(SignatureError):
        note.open_note(signed.encode(), [ZERO.public()])


@given(stamp=st.integers(1, 2**63 - 1), seed=st.binary(min_size=32, max_size=32))
def test_cosignatures_verify_for_any_time_and_key(stamp: int, seed: bytes) -> None:
    key = keys.SigningKey.from_seed("w.example/x", seed, keys.COSIGNATURE_V1)
    blob = _blob(cosignature.cosign(CHECKPOINT, key, stamp))
    assert blob[:4] == key.public().id
    assert cosignature.timestamp_of(blob[4:]) == stamp
    assert cosignature.CosignatureVerifier.of(key.public()).verify(CHECKPOINT.encode(), blob[4:])
