"""Ed25519 keys named the C2SP way: key ids, verifier keys (vkeys), signer keys, key files.

One key type serves participants (signing events), logs (signing checkpoints, type 0x01) and log
witnesses (cosignatures, type 0x04). A key's *name* is part of its id, so the same key material
under two names has two ids, as in C2SP signed-note.

Formats (c2sp.org/signed-note and golang.org/x/mod/sumdb/note):

* key id  = SHA-256(name || "\\n" || type || public key)[:4]
* vkey    = ``<name>+<hex key id>+<base64(type || public key)>``
* skey    = ``PRIVATE+KEY+<name>+<hex key id>+<base64(type || seed)>``

A key file is JSON (``parley/key/v1``): the name, the vkey (readable without a passphrase), and
the secret either as the skey string or encrypted with scrypt + AES-256-GCM under a passphrase.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from parley.core.json_fields import parse_json
from parley.errors import InvalidInputError, SignatureError

ED25519 = 0x01
"""Signature type of an Ed25519 note signature (checkpoints, events)."""
COSIGNATURE_V1 = 0x04
"""Signature type of a timestamped Ed25519 cosignature (c2sp.org/tlog-cosignature)."""
KNOWN_TYPES = (ED25519, COSIGNATURE_V1)

GROUP_ORDER = 2**252 + 27742317777372353535851937790883648493
"""The order of the Ed25519 base point: a signature's scalar S must be below it."""

KEY_FILE_FORMAT = "parley/key/v1"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1


def check_name(name: str) -> None:
    """Key names: non-empty, valid text, no white space, no '+' (c2sp.org/signed-note)."""
    if not name:
        raise InvalidInputError("key name is empty")
    if "+" in name or any(c.isspace() or unicodedata.category(c) == "Cc" for c in name):
        raise InvalidInputError(f"key name {name!r} must not contain spaces, '+' or controls")


@lru_cache(maxsize=4096)
def _ed25519(public: bytes) -> Ed25519PublicKey:
    """The key object for raw public key bytes, built once (verifying is the hot path)."""
    try:
        return Ed25519PublicKey.from_public_bytes(public)
    except ValueError as exc:
        raise SignatureError("not a valid Ed25519 public key") from exc


def _libsodium_accepts(public: bytes, message: bytes, signature: bytes) -> bool:
    """libsodium's Ed25519 check, the fast path (38 µs a check against OpenSSL's 61 µs
    on the benchmark machine).

    It is stricter than OpenSSL's and otherwise the same equation (cofactorless, over the same
    bytes): it also refuses small-order and non-canonical keys and R points. So whatever it
    accepts OpenSSL accepts too, and whatever it refuses is left to OpenSSL
    (``PublicKey.verify``): the verdict is always OpenSSL's (``LIBSODIUM_FIRST`` first makes sure
    this libsodium is the strict kind). ``tests/core/test_keys_verdict``
    holds the two to that on the edge cases where Ed25519 implementations are known to differ.
    """
    if len(public) != 32 or len(signature) != 64:
        return False
    try:
        crypto_sign_open(signature + message, public)
    except BadSignatureError:
        return False
    return True


def _libsodium_is_strict() -> bool:
    """Whether this libsodium refuses what OpenSSL refuses where libsodium builds are known to
    differ: a scalar S above the group order (a build with ``ED25519_COMPAT`` checks only its top
    three bits, which are clear in this S + L) and a small-order key (libsodium before 1.0.16 took
    it). If not, ``PublicKey.verify`` asks OpenSSL alone, however PyNaCl was built."""
    signer = Ed25519PrivateKey.from_private_bytes(bytes(32))
    public = signer.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    signature = signer.sign(b"")
    above = (int.from_bytes(signature[32:], "little") + GROUP_ORDER).to_bytes(32, "little")
    identity = (1).to_bytes(32, "little")
    return not (
        _libsodium_accepts(public, b"", signature[:32] + above)
        or _libsodium_accepts(identity, b"", identity + bytes(32))
    )


LIBSODIUM_FIRST = _libsodium_is_strict()
"""Whether ``PublicKey.verify`` may take libsodium's yes without asking OpenSSL."""


def key_id(name: str, key_type: int, public: bytes) -> bytes:
    """The 4-byte C2SP key id."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public).digest()[:4]


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A named Ed25519 public key of one signature type."""

    name: str
    key: bytes
    type: int = ED25519

    @property
    def id(self) -> bytes:
        """The 4-byte key id."""
        return key_id(self.name, self.type, self.key)

    @property
    def id_hex(self) -> str:
        """The key id as 8 lowercase hex digits."""
        return self.id.hex()

    def vkey(self) -> str:
        """The verifier-key string."""
        b64 = base64.b64encode(bytes([self.type]) + self.key).decode()
        return f"{self.name}+{self.id_hex}+{b64}"

    def verify(self, message: bytes, signature: bytes) -> None:
        """Raise SignatureError unless ``signature`` is this key's signature on ``message``."""
        if LIBSODIUM_FIRST and _libsodium_accepts(self.key, message, signature):
            return
        try:
            _ed25519(self.key).verify(signature, message)
        except InvalidSignature as exc:
            raise SignatureError(
                f"signature by {self.name} ({self.id_hex}) does not verify"
            ) from exc

    def is_valid_signature(self, message: bytes, signature: bytes) -> bool:
        """True when ``signature`` verifies; never raises for a bad signature."""
        try:
            self.verify(message, signature)
        except SignatureError:
            return False
        return True


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A named Ed25519 private key (its 32-byte seed) of one signature type."""

    name: str
    seed: bytes
    type: int = ED25519

    @classmethod
    def from_seed(cls, name: str, seed: bytes, key_type: int = ED25519) -> SigningKey:
        """Make a key from 32 random bytes the caller obtained (the core does no I/O)."""
        check_name(name)
        if len(seed) != 32:
            raise InvalidInputError(f"an Ed25519 seed is 32 bytes, found {len(seed)}")
        if key_type not in KNOWN_TYPES:
            raise InvalidInputError(f"unknown key type 0x{key_type:02x}")
        return cls(name, seed, key_type)

    def public(self) -> PublicKey:
        """The matching public key."""
        raw = self._private().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return PublicKey(self.name, raw, self.type)

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        return self._private().sign(message)

    def skey(self) -> str:
        """The signer-key string (secret!)."""
        b64 = base64.b64encode(bytes([self.type]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.public().id_hex}+{b64}"

    def with_type(self, key_type: int) -> SigningKey:
        """The same seed and name used for another signature type (a different key id)."""
        return SigningKey.from_seed(self.name, self.seed, key_type)

    def _private(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)


_VKEY_RE = re.compile(r"([^+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)")


def parse_vkey(vkey: str) -> PublicKey:
    """Parse a verifier-key string strictly; raise InvalidInputError naming the fault."""
    m = _VKEY_RE.fullmatch(vkey)
    if not m:
        raise InvalidInputError(f"malformed vkey {vkey!r}: expected <name>+<hex8 id>+<base64 key>")
    name, hex_id, b64 = m.groups()
    check_name(name)
    raw = strict_b64decode(b64, "vkey key")
    if len(raw) != 33 or raw[0] not in KNOWN_TYPES:
        raise InvalidInputError(f"vkey {name}: expected type 0x01 or 0x04 and 32 key bytes")
    key = PublicKey(name, raw[1:], raw[0])
    if key.id_hex != hex_id:
        raise InvalidInputError(
            f"vkey {name}: key id {hex_id} does not match the key ({key.id_hex})"
        )
    return key


def parse_skey(skey: str) -> SigningKey:
    """Parse a signer-key string strictly."""
    parts = skey.split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise InvalidInputError("malformed signer key: expected PRIVATE+KEY+<name>+<id>+<key>")
    name, hex_id, b64 = parts[2:]
    raw = strict_b64decode(b64, "signer key")
    if len(raw) != 33:
        raise InvalidInputError(f"signer key {name}: expected a type byte and a 32-byte seed")
    key = SigningKey.from_seed(name, raw[1:], raw[0])
    if key.public().id_hex != hex_id:
        raise InvalidInputError(f"signer key {name}: key id {hex_id} does not match the key")
    return key


def strict_b64decode(s: str, what: str) -> bytes:
    """Standard padded base64 that must re-encode to itself (no silently dropped characters)."""
    try:
        raw = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInputError(f"{what}: invalid base64") from exc
    if base64.b64encode(raw).decode() != s:
        raise InvalidInputError(f"{what}: base64 is not in canonical form")
    return raw


# --- key files ----------------------------------------------------------------------------------


def key_file_bytes(key: SigningKey, *, passphrase: str | None = None, salt: bytes = b"",
                   nonce: bytes = b"") -> bytes:  # fmt: skip
    """Serialize a key file; a passphrase needs a 16-byte ``salt`` and a 12-byte ``nonce``."""
    doc: dict[str, object] = {
        "format": KEY_FILE_FORMAT,
        "name": key.name,
        "vkey": key.public().vkey(),
    }
    if passphrase is None:
        doc["skey"] = key.skey()
    else:
        if len(salt) != 16 or len(nonce) != 12:
            raise InvalidInputError("encrypting a key needs a 16-byte salt and a 12-byte nonce")
        sealed = AESGCM(_derive(passphrase, salt)).encrypt(nonce, key.skey().encode(), None)
        doc["encrypted"] = {
            "kdf": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
            "salt": _b64(salt), "cipher": "aes-256-gcm", "nonce": _b64(nonce), "data": _b64(sealed),
        }  # fmt: skip
    return (json.dumps(doc, indent=2) + "\n").encode()


def read_key_file(data: bytes, *, passphrase: str | None = None) -> SigningKey:
    """Load a key file; raise InvalidInputError if malformed or the passphrase is wrong/missing."""
    doc = _key_doc(data)
    key = parse_skey(str(doc["skey"])) if "skey" in doc else _decrypt(doc, passphrase)
    if key.public().vkey() != doc.get("vkey"):
        raise InvalidInputError("key file: the vkey does not match the secret key")
    return key


def key_file_vkey(data: bytes) -> PublicKey:
    """The public key of a key file, readable without the passphrase."""
    return parse_vkey(str(_key_doc(data).get("vkey", "")))


def is_encrypted(data: bytes) -> bool:
    """True when the key file needs a passphrase."""
    return "encrypted" in _key_doc(data)


def _key_doc(data: bytes) -> dict[str, object]:
    try:
        doc = parse_json(data.decode("utf-8"), "the key file")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"the key file is not UTF-8 text (byte {exc.start})") from None
    if not isinstance(doc, dict) or doc.get("format") != KEY_FILE_FORMAT:
        raise InvalidInputError(f"not a Parley key file (expected format {KEY_FILE_FORMAT!r})")
    return doc


def _decrypt(doc: dict[str, object], passphrase: str | None) -> SigningKey:
    enc = doc.get("encrypted")
    if not isinstance(enc, dict):
        raise InvalidInputError("key file has neither 'skey' nor 'encrypted'")
    if passphrase is None:
        raise InvalidInputError("this key file is encrypted: a passphrase is required")
    if (enc.get("kdf"), enc.get("cipher")) != ("scrypt", "aes-256-gcm"):
        raise InvalidInputError("key file: unsupported encryption")
    salt = strict_b64decode(str(enc.get("salt")), "key file salt")
    nonce = strict_b64decode(str(enc.get("nonce")), "key file nonce")
    sealed = strict_b64decode(str(enc.get("data")), "key file data")
    params = (enc.get("n"), enc.get("r"), enc.get("p"))
    if params != (SCRYPT_N, SCRYPT_R, SCRYPT_P):
        raise InvalidInputError("key file: unsupported scrypt parameters")
    try:
        skey = AESGCM(_derive(passphrase, salt)).decrypt(nonce, sealed, None)
    except InvalidTag as exc:
        raise InvalidInputError("wrong passphrase for this key file") from exc
    return parse_skey(skey.decode())


def _derive(passphrase: str, salt: bytes) -> bytes:
    kdf = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return kdf.derive(unicodedata.normalize("NFC", passphrase).encode())


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
