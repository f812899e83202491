"""Signed events: the envelope every move travels in, its signature, and its hash.

The author signs the *envelope*, which carries the SHA-256 of the body rather than the body, so a
body can be withheld from participants outside the event's audience (a redacted event) while the
hash chain and every signature still verify.

* signed bytes = ``"parley/v1/event\\n" || RFC8785(envelope)``
* body hash    = SHA-256(``"parley/v1/body\\n" || RFC8785(body)``)
* event hash   = SHA-256(``"parley/v1/signed-event\\n" || RFC8785({"envelope", "signature"})``),
  the leaf appended to the transparency log.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from parley.core import canonical
from parley.core.json_fields import read_object, read_string
from parley.core.keys import SigningKey, strict_b64decode
from parley.core.text import CODE_RE
from parley.errors import InvalidInputError

EVENT_FORMAT = "parley/event/v1"
ALL = "all"
_HASH_RE = re.compile(r"[0-9a-f]{64}")
_KEY_ID_RE = re.compile(r"[0-9a-f]{8}")
_PLAIN_RE = re.compile(r"[0-9A-Za-z:.\-]*")
"""Characters that JSON writes as they are and Unicode normalization leaves alone."""
_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z")


class EventType(StrEnum):
    """Every move of the protocol is one event type."""

    CHARTER = "charter"
    JOIN = "join"
    PROPOSE = "propose"
    SEND = "send"
    AMEND = "amend"
    ACCEPT = "accept"
    CONFIRM = "confirm"
    REJECT = "reject"
    INTEGRATE = "integrate"
    COMMENT = "comment"
    STATEMENT = "statement"
    SUSPEND = "suspend"
    RESUME = "resume"
    TERMINATE = "terminate"
    FINALIZE = "finalize"
    SIGN = "sign"
    RATIFY = "ratify"
    WITNESS = "witness"
    ENDORSE = "endorse"


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the author signs: where the event sits, who made it, who may read its body."""

    negotiation: str
    seq: int
    prev: str | None
    type: EventType
    author: str
    key: str
    """Hex key id of the author's key, as listed in the charter."""
    time: str
    """RFC 3339, UTC (``2026-11-29T09:30:00Z``)."""
    audience: tuple[str, ...] | None
    """None means everyone; otherwise the sorted codes that may read the body."""
    body: str
    """Hex SHA-256 of the tagged canonical body."""
    _canonical: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def to_json(self) -> dict[str, canonical.JsonValue]:
        """The canonical JSON object that is signed."""
        return {
            "format": EVENT_FORMAT,
            "negotiation": self.negotiation,
            "seq": self.seq,
            "prev": self.prev,
            "type": self.type.value,
            "author": self.author,
            "key": self.key,
            "time": self.time,
            "audience": ALL if self.audience is None else list(self.audience),
            "body": self.body,
        }

    def canonical(self) -> bytes:
        """The envelope's canonical JSON, made once: the signature and the event hash cover it."""
        made = self._canonical
        if made is None:
            made = _plain_canonical(self) or canonical.canonical_json(self.to_json())
            object.__setattr__(self, "_canonical", made)
        return made

    def signed_bytes(self) -> bytes:
        """The exact bytes the author's key signs."""
        return canonical.prefix(canonical.Tag.EVENT) + self.canonical()

    @property
    def moment(self) -> datetime:
        """The event time as an aware datetime."""
        return parse_time(self.time)

    def can_read(self, code: str) -> bool:
        """True when participant ``code`` may read the body."""
        return self.audience is None or code in self.audience


def _plain_canonical(env: Envelope) -> bytes | None:
    """The canonical JSON of an envelope whose strings need no escaping and no normalizing (hex,
    codes, times: every well-formed envelope), written directly with its members in RFC 8785
    order; None for any other envelope (``canonical_json`` then says what is wrong with it).
    ``tests/core/test_event.py`` proves it equal to the reference canonicalization."""
    audience = env.audience or ()
    plain = (env.negotiation, env.prev or "", env.type.value, env.author, env.key, env.time,
             env.body, *audience)  # fmt: skip
    if not (
        type(env.seq) is int
        and 0 <= env.seq <= canonical.MAX_SAFE_INTEGER
        and _PLAIN_RE.fullmatch("".join(plain))
    ):
        return None
    listed = ",".join(f'"{code}"' for code in audience)
    shown = f'"{ALL}"' if env.audience is None else f"[{listed}]"
    prev = "null" if env.prev is None else f'"{env.prev}"'
    return (
        f'{{"audience":{shown},"author":"{env.author}","body":"{env.body}",'
        f'"format":"{EVENT_FORMAT}","key":"{env.key}","negotiation":"{env.negotiation}",'
        f'"prev":{prev},"seq":{env.seq},"time":"{env.time}","type":"{env.type.value}"}}'
    ).encode("ascii")


@dataclass(frozen=True, slots=True)
class SignedEvent:
    """An envelope, the author's signature, and the body unless it is withheld."""

    envelope: Envelope
    signature: bytes
    body: dict[str, Any] | None
    hash: str
    """Hex event hash (see the module docstring); the log leaf."""
    _body_canonical: bytes | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def redacted(self) -> bool:
        """True when the body is withheld from this copy."""
        return self.body is None

    def to_json(self, *, with_body: bool = True) -> dict[str, canonical.JsonValue]:
        """Wire form: envelope, base64 signature, and the body (omitted when withheld)."""
        obj: dict[str, canonical.JsonValue] = {
            "envelope": self.envelope.to_json(),
            "signature": base64.b64encode(self.signature).decode(),
        }
        if with_body and self.body is not None:
            obj["body"] = self.body
        return obj

    def canonical_body(self) -> bytes | None:
        """The body's canonical JSON (None when withheld), made once: hashed, then stored."""
        if self.body is None:
            return None
        made = self._body_canonical
        if made is None:
            made = canonical.canonical_json(self.body)
            object.__setattr__(self, "_body_canonical", made)
        return made

    def without_body(self) -> SignedEvent:
        """The redacted copy a participant outside the audience receives."""
        return SignedEvent(self.envelope, self.signature, None, self.hash)


def body_hash(body: dict[str, Any]) -> str:
    """Hex SHA-256 of a body's tagged canonical bytes."""
    return canonical.hex_digest(canonical.Tag.BODY, body)


_SIGNED_EVENT_OPEN = canonical.prefix(canonical.Tag.SIGNED_EVENT) + b'{"envelope":'


def event_hash(envelope: Envelope, signature: bytes) -> str:
    """Hex hash of a signed envelope: of the tagged canonical ``{"envelope", "signature"}``.

    That object's canonical form is put together from the envelope's own canonical bytes (its
    members sorted, no spaces, the base64 signature a plain ASCII string), so the envelope is
    serialized once; ``tests/core/test_event.py`` proves it equal to canonicalizing it whole.
    """
    signature64 = base64.b64encode(signature)
    return _hex_sha256(
        _SIGNED_EVENT_OPEN, envelope.canonical(), b',"signature":"', signature64, b'"}'
    )


def _hex_sha256(*parts: bytes) -> str:
    return hashlib.sha256(b"".join(parts)).hexdigest()


def sign_event(
    key: SigningKey,
    *,
    negotiation: str,
    seq: int,
    prev: str | None,
    type: EventType,
    author: str,
    time: str,
    body: dict[str, Any],
    audience: tuple[str, ...] | None = None,
) -> SignedEvent:
    """Build the envelope for ``body`` and sign it with the author's ``key``."""
    envelope = Envelope(
        negotiation=negotiation, seq=seq, prev=prev, type=type, author=author,
        key=key.public().id_hex, time=time,
        audience=None if audience is None else tuple(sorted(set(audience))),
        body=body_hash(body),
    )  # fmt: skip
    check_envelope(envelope)
    signature = key.sign(envelope.signed_bytes())
    return SignedEvent(envelope, signature, body, event_hash(envelope, signature))


def parse_time(value: str) -> datetime:
    """Parse an RFC 3339 UTC time strictly (``Z`` suffix required)."""
    if not _TIME_RE.fullmatch(value):
        raise InvalidInputError(
            f"time must be RFC 3339 UTC like 2026-11-29T09:30:00Z, found {value!r}"
        )
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInputError(f"time {value!r} is not a real date and time") from exc


def format_time(moment: datetime) -> str:
    """Format an aware datetime as RFC 3339 UTC with whole seconds or microseconds."""
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def check_envelope(env: Envelope) -> None:
    """Raise InvalidInputError unless every envelope field is well formed."""
    if not _HASH_RE.fullmatch(env.negotiation):
        raise InvalidInputError("envelope.negotiation must be 64 lowercase hex digits")
    if env.seq < 0 or env.seq > canonical.MAX_SAFE_INTEGER:
        found = str(env.seq) if abs(env.seq) < 10**20 else f"a number of {len(str(env.seq))} digits"
        raise InvalidInputError(f"envelope.seq must be a non-negative integer, found {found}")
    if (env.seq == 0) != (env.prev is None):
        raise InvalidInputError("envelope.prev must be null for the first event and only then")
    if env.prev is not None and not _HASH_RE.fullmatch(env.prev):
        raise InvalidInputError("envelope.prev must be 64 lowercase hex digits")
    if not CODE_RE.fullmatch(env.author):
        raise InvalidInputError(f"envelope.author must be a participant code, found {env.author!r}")
    if not _KEY_ID_RE.fullmatch(env.key):
        raise InvalidInputError("envelope.key must be an 8-hex-digit key id")
    parse_time(env.time)
    if not _HASH_RE.fullmatch(env.body):
        raise InvalidInputError("envelope.body must be 64 lowercase hex digits")
    _check_audience(env.audience, env.author)


def _check_audience(audience: tuple[str, ...] | None, author: str) -> None:
    if audience is None:
        return
    if not audience or list(audience) != sorted(set(audience)):
        raise InvalidInputError("envelope.audience must be 'all' or a sorted list of unique codes")
    for code in audience:
        if not CODE_RE.fullmatch(code):
            raise InvalidInputError(f"envelope.audience holds {code!r}, not a participant code")
    if author not in audience:
        raise InvalidInputError("envelope.audience must include the author")


def event_from_json(obj: object) -> SignedEvent:
    """Parse a signed event's wire form strictly; the signature is checked by the protocol."""
    d = read_object(obj, "event", {"envelope", "signature"}, {"body"})
    envelope = envelope_from_json(d["envelope"])
    signature = strict_b64decode(read_string(d["signature"], "event.signature"), "event.signature")
    if len(signature) != 64:
        raise InvalidInputError(f"event.signature must be 64 bytes, found {len(signature)}")
    body = d.get("body")
    if body is not None:
        body = read_object(body, "event.body", set(), None)
    event = SignedEvent(envelope, signature, body, event_hash(envelope, signature))
    raw = event.canonical_body()
    if raw is not None and _hex_sha256(canonical.prefix(canonical.Tag.BODY), raw) != envelope.body:
        raise InvalidInputError(
            f"event {envelope.seq} ({envelope.type} by {envelope.author}): the body does not "
            "match the hash its envelope signs"
        )
    return event


def envelope_from_json(obj: object) -> Envelope:
    """Parse an envelope strictly."""
    fields = {"format", "negotiation", "seq", "prev", "type", "author", "key", "time", "audience",
              "body"}  # fmt: skip
    d = read_object(obj, "envelope", fields, set())
    if d["format"] != EVENT_FORMAT:
        raise InvalidInputError(
            f"envelope.format: expected {EVENT_FORMAT!r}, found {d['format']!r}"
        )
    kind = read_string(d["type"], "envelope.type")
    if kind not in EventType._value2member_map_:
        raise InvalidInputError(f"envelope.type: unknown move {kind!r}")
    seq = d["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise InvalidInputError("envelope.seq must be an integer")
    prev = d["prev"]
    envelope = Envelope(
        negotiation=read_string(d["negotiation"], "envelope.negotiation"),
        seq=seq,
        prev=None if prev is None else read_string(prev, "envelope.prev"),
        type=EventType(kind),
        author=read_string(d["author"], "envelope.author"),
        key=read_string(d["key"], "envelope.key"),
        time=read_string(d["time"], "envelope.time"),
        audience=_audience(d["audience"]),
        body=read_string(d["body"], "envelope.body"),
    )
    check_envelope(envelope)
    return envelope


def _audience(value: object) -> tuple[str, ...] | None:
    if value == ALL:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInputError("envelope.audience must be 'all' or a list of participant codes")
    return tuple(value)
