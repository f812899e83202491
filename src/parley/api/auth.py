"""Login without passwords: a participant proves it holds a key by signing a server challenge.

1. ``POST /api/login/challenge`` returns a challenge string.
2. The client signs ``canonical.tagged(Tag.LOGIN, {"server": ORIGIN, "challenge": CHALLENGE,
   "vkey": VKEY})`` with its Ed25519 participant key (the tag keeps this signature from ever
   passing for an event or anything else) and posts vkey, challenge and signature.
3. ``POST /api/login`` answers with a session token: a bearer token for the command line, and
   the same token in an HttpOnly, SameSite=Strict cookie for the browser.

Challenges and tokens are stateless and tamper-evident: a JSON payload with its expiry, then an
HMAC-SHA256 under a key derived from the server secret (one derived key per kind, so a challenge
is never taken for a session). Any process holding the secret can check them, so login works
across API processes with nothing stored. A session names a public key, never a participant: the
caller is a participant of a negotiation when that key is in its charter (``parley.api.access``),
and every move still needs the author's own signature on the event.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from parley.api.errors import unauthenticated
from parley.api.login import login_payload
from parley.core.keys import ED25519, PublicKey, parse_vkey
from parley.errors import InvalidInputError

TOKEN_VERSION = "v1"
CHECKED_SESSIONS = 4096
"""How many checked session tokens a process keeps (see ``Sessions.session``)."""
Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Challenge:
    """A challenge to sign, the origin to sign it for, and when it stops being accepted."""

    value: str
    server: str
    expires: int


@dataclass(frozen=True, slots=True)
class Session:
    """Who is calling (a public key) and until when; ``token`` is what the caller presents."""

    token: str
    vkey: str
    key: PublicKey
    expires: int


class Sessions:
    """Issues and checks challenges and session tokens under one server secret."""

    def __init__(
        self,
        secret: bytes,
        origin: str,
        *,
        session_seconds: int,
        challenge_seconds: int,
        clock: Clock = time.time,
    ) -> None:
        self._challenge_key = _derive(secret, b"challenge")
        self._session_key = _derive(secret, b"session")
        self.origin = origin
        self.session_seconds = session_seconds
        self.challenge_seconds = challenge_seconds
        self._clock = clock
        self._checked: dict[str, Session] = {}

    def challenge(self) -> Challenge:
        """A fresh challenge, valid for a short while."""
        expires = int(self._clock()) + self.challenge_seconds
        payload = {"exp": expires, "nonce": secrets.token_hex(16)}
        return Challenge(_seal(self._challenge_key, payload), self.origin, expires)

    def login(self, vkey: str, challenge: str, signature: str) -> Session:
        """A session for ``vkey`` if the challenge is ours and current and the signature holds."""
        _open(self._challenge_key, challenge, self._now(), "challenge")
        key = parse_vkey(vkey)
        if key.type != ED25519:
            raise InvalidInputError("log in with an Ed25519 participant key, not a cosigner key")
        raw = _b64(signature, "signature")
        if not key.is_valid_signature(login_payload(self.origin, challenge, vkey), raw):
            raise unauthenticated(
                f"the login signature does not verify for {key.name} ({key.id_hex}) at "
                f"{self.origin}: sign the challenge for this server with that key"
            )
        expires = self._now() + self.session_seconds
        token = _seal(self._session_key, {"vkey": vkey, "exp": expires})
        return Session(token, vkey, key, expires)

    def session(self, token: str) -> Session:
        """The session a token stands for; 401 if expired, tampered or malformed.

        A token's MAC is checked once: every request of a session presents the same token, so
        the sessions seen lately are kept (at most ``CHECKED_SESSIONS``) and only their expiry is
        looked at again.
        """
        known = self._checked.get(token)
        if known is not None and known.expires > self._now():
            return known
        session = self._check(token)
        if len(self._checked) >= CHECKED_SESSIONS:
            self._checked.clear()  # a crude bound, rarely reached: the next requests check again
        self._checked[token] = session
        return session

    def _check(self, token: str) -> Session:
        payload = _open(self._session_key, token, self._now(), "session")
        vkey = payload.get("vkey")
        if not isinstance(vkey, str):
            raise unauthenticated("malformed session token: log in again")
        try:
            key = parse_vkey(vkey)
        except InvalidInputError as exc:
            raise unauthenticated("malformed session token: log in again") from exc
        return Session(token, vkey, key, int(payload["exp"]))

    def _now(self) -> int:
        return int(self._clock())


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return hmac.new(secret, b"parley/v1/api-" + purpose, hashlib.sha256).digest()


def _seal(key: bytes, payload: dict[str, Any]) -> str:
    data = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    mac = hmac.new(key, data, hashlib.sha256).digest()
    return f"{TOKEN_VERSION}.{_b64url(data)}.{_b64url(mac)}"


def _open(key: bytes, sealed: str, now: int, what: str) -> dict[str, Any]:
    """The payload of a sealed value, if the MAC holds and it has not expired."""
    parts = sealed.split(".")
    if len(parts) != 3 or parts[0] != TOKEN_VERSION:
        raise unauthenticated(f"malformed {what}: get a new one")
    try:
        data = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        mac = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
    except (binascii.Error, ValueError) as exc:
        raise unauthenticated(f"malformed {what}: get a new one") from exc
    if not hmac.compare_digest(mac, hmac.new(key, data, hashlib.sha256).digest()):
        raise unauthenticated(f"this {what} was not issued by this server (or was altered)")
    payload = json.loads(data)
    if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int):
        raise unauthenticated(f"malformed {what}: get a new one")
    if payload["exp"] <= now:
        raise unauthenticated(f"this {what} has expired: log in again")
    return payload


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInputError(f"{what} must be standard base64") from exc
