"""The charter: the genesis record every participant joins by signing its hash.

It names the participants, their roles and public keys, the pen rule, the conclusion policy and,
optionally, the transparency log (its verifier key and log-witness policy) the parties agree to
trust. The negotiation id is the charter's hash, so nobody can be added later without a new
charter that every party joins again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from parley.core import canonical, policy
from parley.core.json_fields import read_object, read_string
from parley.core.keys import ED25519, PublicKey, parse_vkey
from parley.core.text import check_code
from parley.errors import InvalidInputError

CHARTER_FORMAT = "parley/charter/v1"


class Role(StrEnum):
    """What a participant may do; one participant may hold several roles."""

    PARTY = "party"
    MEDIATOR = "mediator"
    WITNESS = "witness"
    GUARANTOR = "guarantor"
    OBSERVER = "observer"


class PenRule(StrEnum):
    """Who may propose and send versions."""

    MEDIATOR = "mediator"
    """Single negotiating text: only mediators hold the pen."""
    ALTERNATING = "alternating"
    """Direct exchange: the pen passes to whoever a version was last sent to (mediators keep it)."""


@dataclass(frozen=True, slots=True)
class Participant:
    """A delegation: short code, name, roles and the public keys that may act for it."""

    code: str
    name: str
    roles: tuple[Role, ...]
    keys: tuple[PublicKey, ...]

    def has(self, role: Role) -> bool:
        """True when the participant holds ``role``."""
        return role in self.roles


@dataclass(frozen=True, slots=True)
class LogConfig:
    """The transparency log the participants agree to trust."""

    vkey: str
    """The log's verifier key (its name is the log origin)."""
    witness_policy: str | None = None
    """A c2sp.org/tlog-policy text naming the log witnesses and their quorum."""


@dataclass(frozen=True)
class Charter:
    """Title, participants, pen rule, conclusion policy, log; identified by its hash.

    Not slotted, so the id and key index can be computed once and kept (``cached_property``).
    """

    title: str
    nonce: str
    participants: tuple[Participant, ...]
    pen: PenRule
    policy: policy.Rule
    log: LogConfig | None = None

    @cached_property
    def id(self) -> str:
        """The negotiation id: hex SHA-256 of the tagged canonical charter."""
        return canonical.hex_digest(canonical.Tag.CHARTER, self.to_json())

    @cached_property
    def _by_code(self) -> dict[str, Participant]:
        return {p.code: p for p in self.participants}

    @cached_property
    def _keys(self) -> dict[tuple[str, str], PublicKey]:
        return {(p.code, k.id_hex): k for p in self.participants for k in p.keys}

    def participant(self, code: str) -> Participant | None:
        """The participant with this code, or None."""
        return self._by_code.get(code)

    def codes(self, role: Role | None = None) -> list[str]:
        """Participant codes in charter order, optionally only those holding ``role``."""
        return [p.code for p in self.participants if role is None or p.has(role)]

    def key(self, code: str, key_id: str) -> PublicKey | None:
        """The key with hex id ``key_id`` if it belongs to participant ``code``."""
        return self._keys.get((code, key_id))

    def to_json(self) -> dict[str, canonical.JsonValue]:
        """The canonical body of the charter event."""
        obj: dict[str, canonical.JsonValue] = {
            "format": CHARTER_FORMAT,
            "title": self.title,
            "nonce": self.nonce,
            "participants": [_participant_json(p) for p in self.participants],
            "pen": self.pen.value,
            "policy": policy.to_json(self.policy),
        }
        if self.log is not None:
            log: dict[str, canonical.JsonValue] = {"vkey": self.log.vkey}
            if self.log.witness_policy is not None:
                log["witness_policy"] = self.log.witness_policy
            obj["log"] = log
        return obj


def _participant_json(p: Participant) -> canonical.JsonValue:
    return {
        "code": p.code,
        "name": p.name,
        "roles": [r.value for r in p.roles],
        "keys": [k.vkey() for k in p.keys],
    }


def from_json(obj: object) -> Charter:
    """Parse and check a charter body; raise InvalidInputError naming the first fault."""
    d = read_object(
        obj, "charter", {"format", "title", "nonce", "participants", "pen"}, {"policy", "log"}
    )
    if d["format"] != CHARTER_FORMAT:
        raise InvalidInputError(f"charter.format: expected {CHARTER_FORMAT!r}")
    pen = read_string(d["pen"], "charter.pen")
    if pen not in PenRule._value2member_map_:
        raise InvalidInputError(f"charter.pen must be 'mediator' or 'alternating', found {pen!r}")
    raw = d["participants"]
    if not isinstance(raw, list):
        raise InvalidInputError("charter.participants must be a list")
    participants = tuple(_participant(p, f"charter.participants[{i}]") for i, p in enumerate(raw))
    charter = Charter(
        title=read_string(d["title"], "charter.title"),
        nonce=read_string(d["nonce"], "charter.nonce"),
        participants=participants,
        pen=PenRule(pen),
        policy=policy.from_json(d["policy"]) if "policy" in d else default_policy(participants),
        log=_log(d["log"]) if "log" in d else None,
    )
    check(charter)
    return charter


def default_policy(participants: tuple[Participant, ...]) -> policy.Rule:
    """Every party signs, witnessed by a witness other than itself; every guarantor endorses."""

    def codes(role: Role) -> list[str]:
        return [p.code for p in participants if p.has(role)]

    return policy.default(codes(Role.PARTY), codes(Role.WITNESS), codes(Role.GUARANTOR))


def check(charter: Charter) -> None:
    """Raise InvalidInputError unless the charter is complete and consistent."""
    if not charter.title.strip():
        raise InvalidInputError("charter.title is empty")
    if not 8 <= len(charter.nonce) <= 128:
        raise InvalidInputError("charter.nonce must be 8 to 128 characters")
    _check_participants(charter.participants)
    if not charter.codes(Role.PARTY) or not charter.codes(Role.MEDIATOR):
        raise InvalidInputError("a charter needs at least one party and one mediator")
    _check_policy_roles(charter)


def _check_participants(participants: tuple[Participant, ...]) -> None:
    if len(participants) < 2:
        raise InvalidInputError("a charter needs at least two participants")
    codes = [p.code for p in participants]
    if len(set(codes)) != len(codes):
        raise InvalidInputError("charter.participants: a code appears twice")
    seen: set[bytes] = set()
    for p in participants:
        for key in p.keys:
            if key.key in seen:
                raise InvalidInputError(f"charter: a key of {p.code} also belongs to another entry")
            seen.add(key.key)


def _check_policy_roles(charter: Charter) -> None:
    named = policy.codes(charter.policy)
    needed = {"party": Role.PARTY, "witness": Role.WITNESS, "guarantor": Role.GUARANTOR}
    for kind, role in needed.items():
        for code in sorted(named[kind]):
            p = charter.participant(code)
            if p is None or not p.has(role):
                raise InvalidInputError(
                    f"charter.policy names {code} as a {kind}, but it is not one"
                )


def _participant(obj: object, path: str) -> Participant:
    d = read_object(obj, path, {"code", "name", "roles", "keys"}, set())
    code = read_string(d["code"], f"{path}.code")
    check_code(code, f"{path}.code")
    name = read_string(d["name"], f"{path}.name")
    if not name.strip():
        raise InvalidInputError(f"{path}.name is empty")
    roles = _list(d["roles"], f"{path}.roles")
    if not roles or len(set(roles)) != len(roles):
        raise InvalidInputError(f"{path}.roles must be a non-empty list without repeats")
    for r in roles:
        if r not in Role._value2member_map_:
            raise InvalidInputError(f"{path}.roles: unknown role {r!r}")
    keys = tuple(parse_vkey(v) for v in _list(d["keys"], f"{path}.keys"))
    if not keys:
        raise InvalidInputError(f"{path}.keys: a participant needs at least one key")
    for key in keys:
        if key.name != code or key.type != ED25519:
            raise InvalidInputError(f"{path}.keys: each key must be an Ed25519 key named {code!r}")
    return Participant(code, name, tuple(Role(r) for r in roles), keys)


def _log(obj: object) -> LogConfig:
    d = read_object(obj, "charter.log", {"vkey"}, {"witness_policy"})
    vkey = read_string(d["vkey"], "charter.log.vkey")
    parse_vkey(vkey)
    wp = d.get("witness_policy")
    return LogConfig(vkey, None if wp is None else read_string(wp, "charter.log.witness_policy"))


def _list(value: object, path: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInputError(f"{path} must be a list of strings")
    return value
