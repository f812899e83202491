"""Keys: C2SP key ids, vkeys and signer keys against published vectors; key files."""

from __future__ import annotations

import base64
import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.core import keys
from parley.errors import InvalidInputError, SignatureError

# golang.org/x/mod sumdb/note fixed-key vector (research/tlog.md §2.4 B).
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_TEXT = (
    b"If you think cryptography is the answer to your problem,\n"
    b"then you don't know what your problem is.\n"
)
PETER_SIG = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
ZERO_COSIGNER_VKEY = "witness.example/w0+651a78d0+BDtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"


def test_signer_key_vector_reproduces_vkey_and_signature() -> None:
    signer = keys.parse_skey(PETER_SKEY)
    assert signer.skey() == PETER_SKEY
    assert signer.public().vkey() == PETER_VKEY
    blob = base64.b64decode(PETER_SIG)
    assert blob[:4] == signer.public().id
    assert signer.sign(PETER_TEXT) == blob[4:]


def test_c2sp_example_vkey_parses_with_matching_id() -> None:
    key = keys.parse_vkey(C2SP_VKEY)
    assert (key.name, key.id_hex, key.type) == ("example.com/foo", "530d903a", keys.ED25519)
    assert key.vkey() == C2SP_VKEY


def test_cosignature_key_id_for_zero_seed() -> None:
    signer = keys.SigningKey.from_seed("witness.example/w0", bytes(32), keys.COSIGNATURE_V1)
    assert signer.public().vkey() == ZERO_COSIGNER_VKEY


def test_every_truncation_and_byte_increment_of_a_vkey_is_rejected() -> None:
    for cut in range(len(PETER_VKEY)):
        with pytest.raises(InvalidInputError):
            keys.parse_vkey(PETER_VKEY[:cut])
    for i in range(len(PETER_VKEY)):
        mangled = PETER_VKEY[:i] + chr(ord(PETER_VKEY[i]) + 1) + PETER_VKEY[i + 1 :]
        try:
            key = keys.parse_vkey(mangled)
        except InvalidInputError:
            continue
        assert key.vkey() != PETER_VKEY  # only a different, self-consistent name could pass


@pytest.mark.parametrize(
    "bad",
    [
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "",
    ],
)
def test_bad_vkeys_are_rejected(bad: str) -> None:
    with pytest.raises(InvalidInputError):
        keys.parse_vkey(bad)


def test_signature_errors_name_the_key() -> None:
    signer = keys.SigningKey.from_seed("PK", bytes(range(32)))
    with pytest.raises(SignatureError, match="PK"):
        signer.public().verify(b"message", bytes(64))


@given(
    seed=st.binary(min_size=32, max_size=32),
    name=st.from_regex(r"[a-z][a-z0-9./-]{0,20}", fullmatch=True),
)
def test_key_strings_round_trip(seed: bytes, name: str) -> None:
    signer = keys.SigningKey.from_seed(name, seed)
    assert keys.parse_skey(signer.skey()) == signer
    assert keys.parse_vkey(signer.public().vkey()) == signer.public()


def test_key_file_plain_and_encrypted_round_trip() -> None:
    signer = keys.SigningKey.from_seed("AF", bytes(range(32)))
    plain = keys.key_file_bytes(signer)
    assert keys.read_key_file(plain) == signer
    assert not keys.is_encrypted(plain)
    sealed = keys.key_file_bytes(
        signer, passphrase="correct horse", salt=b"s" * 16, nonce=b"n" * 12
    )
    assert keys.is_encrypted(sealed)
    assert b"PRIVATE" not in sealed
    assert keys.key_file_vkey(sealed) == signer.public()
    assert keys.read_key_file(sealed, passphrase="correct horse") == signer
    with pytest.raises(InvalidInputError, match="wrong passphrase"):
        keys.read_key_file(sealed, passphrase="wrong")
    with pytest.raises(InvalidInputError, match="passphrase is required"):
        keys.read_key_file(sealed)


@given(st.binary(max_size=200))
def test_key_file_parser_only_raises_invalid_input(data: bytes) -> None:
    with contextlib.suppress(InvalidInputError):
        keys.read_key_file(data)
