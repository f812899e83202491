"""Ed25519 verdicts: libsodium's fast check never changes what OpenSSL decides.

``PublicKey.verify`` accepts on libsodium's word and asks OpenSSL (``cryptography``, the offline
verifier's library) about everything libsodium refuses. These tests hold the result to OpenSSL's
verdict on the cases where Ed25519 implementations are known to disagree: small-order and
non-canonical keys and R points, mixed-order keys (cofactored against cofactorless checks), and
scalars S at or above the group order.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st
from nacl import bindings as sodium
from nacl.exceptions import BadSignatureError

from parley.core import keys

L = keys.GROUP_ORDER

ORDER_8 = bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")
"""A point of order 8 (its multiples are the curve's whole small-order subgroup)."""

SMALL_ORDER_AND_ODD = [
    bytes.fromhex(h)
    for h in (
        "0100000000000000000000000000000000000000000000000000000000000000",  # identity
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # order 2
        "0000000000000000000000000000000000000000000000000000000000000000",  # order 4
        "0000000000000000000000000000000000000000000000000000000000000080",  # order 4
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  # order 8
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",  # order 8
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  # order 8
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",  # order 8
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # identity, y = p + 1
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",  # y = p, x sign set
        "0100000000000000000000000000000000000000000000000000000000000080",  # identity, x sign set
    )
]
"""Encodings Ed25519 implementations disagree about: the small-order points, and non-canonical
encodings (a y of p or more, a sign bit on x = 0)."""


def openssl(public: bytes, message: bytes, signature: bytes) -> bool:
    """OpenSSL's verdict alone."""
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def libsodium(public: bytes, message: bytes, signature: bytes) -> bool:
    """libsodium's verdict alone."""
    try:
        sodium.crypto_sign_open(signature + message, public)
    except BadSignatureError:
        return False
    return True


def parley(public: bytes, message: bytes, signature: bytes) -> bool:
    return keys.PublicKey("k", public).is_valid_signature(message, signature)


def _scalar(value: int) -> bytes:
    return value.to_bytes(32, "little")


def _k(r_point: bytes, public: bytes, message: bytes) -> int:
    return int.from_bytes(hashlib.sha512(r_point + public + message).digest(), "little") % L


def test_the_order_8_point_is_one() -> None:
    base = sodium.crypto_scalarmult_ed25519_base_noclamp(_scalar(7))
    point = base
    for times in range(1, 9):
        point = sodium.crypto_core_ed25519_add(point, ORDER_8)
        assert (point == base) == (times == 8)


def test_small_order_and_non_canonical_points_get_openssl_verdicts() -> None:
    accepted = 0
    for public in SMALL_ORDER_AND_ODD:
        for r_point in SMALL_ORDER_AND_ODD:
            for message in (b"", b"Article 1", b"m" * 100):
                signature = r_point + _scalar(0)
                verdict = openssl(public, message, signature)
                assert parley(public, message, signature) is verdict, (public, r_point)
                assert not libsodium(public, message, signature)
                accepted += verdict
    # OpenSSL accepts some that libsodium refuses: the second opinion decides them.
    assert accepted > 0


def _mixed_order_signature(want_multiple_of_8: bool) -> tuple[bytes, bytes, bytes]:
    """A key a·B + T (T of order 8) and a signature whose check passes cofactored and, only when
    k is a multiple of 8, cofactorless: the case cofactored and cofactorless checks split on."""
    a, r = 0x1234567 * 2**200 % L, 0x7654321 * 2**190 % L
    public = sodium.crypto_core_ed25519_add(
        sodium.crypto_scalarmult_ed25519_base_noclamp(_scalar(a)), ORDER_8
    )
    r_point = sodium.crypto_scalarmult_ed25519_base_noclamp(_scalar(r))
    for n in range(1000):
        message = f"Article {n}".encode()
        k = _k(r_point, public, message)
        if (k % 8 == 0) == want_multiple_of_8:
            return public, message, r_point + _scalar((r + k * a) % L)
    raise AssertionError("no message found")


@pytest.mark.parametrize("multiple_of_8", [True, False])
def test_mixed_order_keys_get_openssl_verdicts(multiple_of_8: bool) -> None:
    public, message, signature = _mixed_order_signature(multiple_of_8)
    assert openssl(public, message, signature) is multiple_of_8  # OpenSSL is cofactorless
    assert libsodium(public, message, signature) is multiple_of_8  # and so is libsodium
    assert parley(public, message, signature) is multiple_of_8


def test_a_scalar_at_or_above_the_order_is_refused_by_both() -> None:
    signer = keys.SigningKey.from_seed("PK", bytes(range(32)))
    message = b"Article 2"
    signature = signer.sign(message)
    s = int.from_bytes(signature[32:], "little")
    for bad in (s + L, L, L + 1):
        forged = signature[:32] + _scalar(bad)
        assert openssl(signer.public().key, message, forged) is False
        assert parley(signer.public().key, message, forged) is False


def _compat_open(signed: bytes, public: bytes) -> bytes:
    """libsodium as built with ``ED25519_COMPAT``: S is refused only for its top three bits."""
    if signed[63] & 0xE0:
        raise BadSignatureError("S out of range")
    s = int.from_bytes(signed[32:64], "little") % L
    return sodium.crypto_sign_open(signed[:32] + _scalar(s) + signed[64:], public)


@pytest.mark.parametrize(
    "lenient", [_compat_open, lambda signed, public: signed[64:]], ids=["compat", "yes"]
)
def test_a_lenient_libsodium_is_not_asked(monkeypatch: pytest.MonkeyPatch, lenient: Any) -> None:
    signer = keys.SigningKey.from_seed("PK", bytes(range(32)))
    assert keys.LIBSODIUM_FIRST  # the libsodium PyNaCl ships is strict
    monkeypatch.setattr(keys, "crypto_sign_open", lenient)
    assert not keys._libsodium_is_strict()
    monkeypatch.setattr(keys, "LIBSODIUM_FIRST", False)
    assert parley(signer.public().key, b"Article 4", bytes(64)) is False
    assert parley(signer.public().key, b"Article 4", signer.sign(b"Article 4")) is True


def test_a_good_signature_does_not_need_openssl(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = keys.SigningKey.from_seed("PK", bytes(range(32)))

    def unused(public: bytes) -> Ed25519PublicKey:
        raise AssertionError("OpenSSL was asked about a good signature")

    monkeypatch.setattr(keys, "_ed25519", unused)
    signer.public().verify(b"Article 3", signer.sign(b"Article 3"))


@given(
    seed=st.binary(min_size=32, max_size=32),
    message=st.binary(max_size=64),
    flip=st.tuples(st.sampled_from(["key", "message", "signature", "none"]), st.integers(0, 511)),
)
def test_any_change_gets_the_openssl_verdict(
    seed: bytes, message: bytes, flip: tuple[str, int]
) -> None:
    signer = keys.SigningKey.from_seed("PK", seed)
    parts = {"key": signer.public().key, "message": message, "signature": signer.sign(message)}
    where, bit = flip
    if where != "none" and parts[where]:
        changed = bytearray(parts[where])
        changed[bit // 8 % len(changed)] ^= 1 << (bit % 8)
        parts[where] = bytes(changed)
    expected = openssl(parts["key"], parts["message"], parts["signature"])
    assert parley(parts["key"], parts["message"], parts["signature"]) == expected
    assert expected == (where == "none" or (where == "message" and not message))
