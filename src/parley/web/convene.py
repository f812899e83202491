"""Convening in the browser: a mediator's form becomes the exact charter event to sign.

The server checks every field and answers a fault with the field it concerns, so the page can
say it in words beside that field. A good form becomes a charter with the default conclusion
policy and this deployment's log (so bundles verify against the log that records them), and the
envelope of its charter event (seq 0, no prev). The browser recomputes the body hash and the
negotiation id before it signs; nothing here signs anything.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from parley.core import charter as charters
from parley.core.charter import Charter, LogConfig, Participant, PenRule, Role
from parley.core.event import Envelope, EventType, body_hash, check_envelope
from parley.core.keys import ED25519, PublicKey, parse_vkey
from parley.core.text import check_code
from parley.errors import InvalidInputError
from parley.web.forms import Form

ROWS = 4
"""Participant rows the page starts with (more can be added on the page)."""
MAX_ROWS = 32
ROLES = tuple(r.value for r in Role)


class FieldError(InvalidInputError):
    """A fault in one field of the form, named so the page can show it beside that field."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.field = name


@dataclass(frozen=True, slots=True)
class Row:
    """One participant row as typed (kept so the page can show it again)."""

    index: int
    code: str = ""
    name: str = ""
    vkey: str = ""
    roles: tuple[str, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not (self.code or self.name or self.vkey or self.roles)


def start_rows(key: PublicKey | None) -> list[Row]:
    """The rows a new form starts with: the convening mediator first, with this session's key."""
    first = Row(0, key.name, "", key.vkey(), (Role.MEDIATOR.value,)) if key else Row(0)
    return [first, *(Row(i) for i in range(1, ROWS))]


def rows_of(form: Form) -> list[Row]:
    """The participant rows of a posted form, in order (``code-0``, ``name-0``, ``role-0``…)."""
    return [
        Row(
            i,
            form.get(f"code-{i}").strip().upper(),
            _words(form.get(f"name-{i}")),
            form.get(f"vkey-{i}").strip(),
            tuple(form.getlist(f"role-{i}")),
        )
        for i in range(MAX_ROWS)
        if any(f"{k}-{i}" in form.fields for k in ("code", "name", "vkey", "role"))
    ]


def charter_from_form(form: Form, log: LogConfig | None) -> Charter:
    """The charter the form describes; a FieldError names the first field at fault."""
    title = _words(form.get("title"))
    if not title:
        raise FieldError("title", "give the negotiation a title")
    pen = form.get("pen", PenRule.MEDIATOR.value)
    if pen not in PenRule._value2member_map_:
        raise FieldError("pen", f"the pen rule must be mediator or alternating, found {pen!r}")
    participants = _participants([r for r in rows_of(form) if not r.empty])
    charter = Charter(
        title=title,
        nonce=secrets.token_hex(16),
        participants=participants,
        pen=PenRule(pen),
        policy=charters.default_policy(participants),
        log=log,
    )
    try:
        charters.check(charter)
    except InvalidInputError as exc:
        raise FieldError("participants", str(exc)) from exc
    return charter


def _words(value: str) -> str:
    return unicodedata.normalize("NFC", " ".join(value.split()))


def _participants(rows: list[Row]) -> tuple[Participant, ...]:
    if len(rows) < 2:
        raise FieldError("participants", "a charter needs at least two participants")
    out: list[Participant] = []
    codes: set[str] = set()
    keys: set[bytes] = set()
    for row in rows:
        p = _participant(row)
        if p.code in codes:
            raise FieldError(f"code-{row.index}", f"{p.code} is already the code of a participant")
        if p.keys[0].key in keys:
            raise FieldError(f"vkey-{row.index}", "this key already belongs to another participant")
        codes.add(p.code)
        keys.add(p.keys[0].key)
        out.append(p)
    return tuple(out)


def _participant(row: Row) -> Participant:
    n = row.index
    try:
        check_code(row.code, "the code")
    except InvalidInputError as exc:
        raise FieldError(f"code-{n}", str(exc)) from exc
    if not row.name:
        raise FieldError(f"name-{n}", f"give {row.code}'s name")
    if not row.roles or any(r not in ROLES for r in row.roles):
        raise FieldError(f"role-{n}", f"choose at least one role for {row.code}")
    return Participant(row.code, row.name, tuple(Role(r) for r in row.roles), (_key(row),))


def _key(row: Row) -> PublicKey:
    where = f"vkey-{row.index}"
    if not row.vkey:
        raise FieldError(where, f"paste {row.code}'s vkey (shown on its Keys page)")
    try:
        key = parse_vkey(row.vkey)
    except InvalidInputError as exc:
        raise FieldError(where, f"this is not a vkey: {exc}") from exc
    if key.type != ED25519:
        raise FieldError(where, "a participant's key must be an Ed25519 key")
    if key.name != row.code:
        raise FieldError(
            where, f"this is {key.name}'s key, not {row.code}'s (a key carries its code)"
        )
    return key


def convener(charter: Charter, key: PublicKey) -> Participant:
    """The mediator this session's key belongs to: only a mediator named in it convenes."""
    for p in charter.participants:
        if p.has(Role.MEDIATOR) and any(k.key == key.key for k in p.keys):
            return p
    raise FieldError(
        "participants",
        f"your key ({key.name}, {key.id_hex}) must be the vkey of a mediator in this charter",
    )


def charter_envelope(charter: Charter, author: Participant, key: PublicKey, time: str) -> Envelope:
    """The envelope of the charter event: the first event, with nothing before it."""
    envelope = Envelope(
        negotiation=charter.id,
        seq=0,
        prev=None,
        type=EventType.CHARTER,
        author=author.code,
        key=key.id_hex,
        time=time,
        audience=None,
        body=body_hash(charter.to_json()),
    )
    check_envelope(envelope)
    return envelope


def summary(charter: Charter) -> str:
    """What signing the charter means, in one sentence."""
    who = ", ".join(
        f"{p.code} ({', '.join(r.value for r in p.roles)})" for p in charter.participants
    )
    pen = "only mediators hold the pen" if charter.pen is PenRule.MEDIATOR else "the pen alternates"
    return f"Convene “{charter.title}” with {who}; {pen}"


def proposal(charter: Charter, envelope: Envelope) -> dict[str, Any]:
    """The answer the page shows and signs: envelope, body, sentence, negotiation id."""
    return {
        "envelope": envelope.to_json(),
        "body": charter.to_json(),
        "summary": summary(charter),
        "negotiation": charter.id,
    }
