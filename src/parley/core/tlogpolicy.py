"""Transparency log trust policies (c2sp.org/tlog-policy): which logs, which witnesses, what quorum.

    log <vkey> [<url>]
    witness <name> <vkey> [<url>]
    group <name> <k|all|any> <member>...
    quorum <name|none>

Fields are separated by spaces and tabs; ``#`` starts a comment line. A group or the quorum may
only name witnesses and groups defined on earlier lines, each member at most once, so there are no
cycles and every witness contributes to a group in one way only. A public key may appear on one
log line and one witness line at most ("a key counts once"). Logs sign with Ed25519 note keys
(type 0x01), witnesses with cosignature keys (type 0x04).

Parley reads policy files as UTF-8 (the spec allows opaque high-bit octets but strongly recommends
UTF-8); every other rule of the spec is enforced, with the line number in each error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from parley.core.checkpoint import parse_decimal
from parley.core.keys import COSIGNATURE_V1, ED25519, PublicKey, parse_vkey
from parley.errors import InvalidInputError

NONE = "none"
"""The predefined quorum name that requires no cosignature."""
MAX_ENTRIES = 1024
"""Logs, witnesses and groups each; the spec asks implementations to support at least 32."""

_FORBIDDEN = re.compile(r"[^\t\n\x20-\x7e\x80-\U0010ffff]|[\ud800-\udfff]")
_FIELD_SEPARATOR = re.compile(r"[ \t]+")

Threshold = int | Literal["all", "any"]


@dataclass(frozen=True, slots=True)
class PolicyLog:
    """A trusted log: its key (whose name is the log's origin) and an optional URL."""

    key: PublicKey
    url: str | None = None


@dataclass(frozen=True, slots=True)
class PolicyWitness:
    """A named witness and its cosignature key."""

    name: str
    key: PublicKey
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Group:
    """At least ``k`` of ``members`` (witnesses or earlier groups) must have witnessed."""

    name: str
    threshold: Threshold
    members: tuple[str, ...]

    @property
    def k(self) -> int:
        """The numeric threshold: ``any`` is 1, ``all`` is every member."""
        if self.threshold == "all":
            return len(self.members)
        if self.threshold == "any":
            return 1
        return self.threshold


@dataclass(frozen=True, slots=True)
class Policy:
    """A parsed policy file."""

    logs: tuple[PolicyLog, ...]
    witnesses: tuple[PolicyWitness, ...]
    groups: tuple[Group, ...]
    quorum: str

    @property
    def log_keys(self) -> tuple[PublicKey, ...]:
        """The keys of the trusted logs."""
        return tuple(log.key for log in self.logs)

    @property
    def witness_keys(self) -> tuple[PublicKey, ...]:
        """The keys of every listed witness."""
        return tuple(w.key for w in self.witnesses)

    def witness_names(self, keys: Iterable[PublicKey]) -> frozenset[str]:
        """Policy names of the witnesses owning ``keys`` (for example verified cosigners)."""
        wanted = set(keys)
        return frozenset(w.name for w in self.witnesses if w.key in wanted)

    def to_text(self) -> str:
        """The policy as a file, one definition per line, in a canonical order."""
        lines = [_join("log", log.key.vkey(), log.url) for log in self.logs]
        lines += [_join("witness", w.name, w.key.vkey(), w.url) for w in self.witnesses]
        lines += [" ".join(["group", g.name, str(g.threshold), *g.members]) for g in self.groups]
        lines.append(f"quorum {self.quorum}")
        return "\n".join(lines) + "\n"


def _join(*fields: str | None) -> str:
    return " ".join(f for f in fields if f is not None)


@dataclass(frozen=True, slots=True)
class QuorumResult:
    """Whether the quorum is met, and why, in words."""

    satisfied: bool
    explanation: str


# --- parsing -------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Builder:
    logs: list[PolicyLog] = field(default_factory=list)
    witnesses: dict[str, PolicyWitness] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    quorum: str | None = None

    def defined(self, name: str) -> bool:
        return name in self.witnesses or name in self.groups

    def policy(self) -> Policy:
        if self.quorum is None:
            raise InvalidInputError("policy has no quorum line")
        witnesses, groups = tuple(self.witnesses.values()), tuple(self.groups.values())
        return Policy(tuple(self.logs), witnesses, groups, self.quorum)


def parse_policy(data: bytes | str) -> Policy:
    """Parse a policy file strictly; errors name the line."""
    text = _decode(data)
    builder = _Builder()
    for number, raw in enumerate(text.split("\n"), start=1):
        fields = _FIELD_SEPARATOR.split(raw.strip(" \t"))
        if not fields[0] or fields[0].startswith("#"):
            continue
        try:
            _parse_line(builder, fields)
        except InvalidInputError as exc:
            raise InvalidInputError(exc.reason, line=number) from exc
    return builder.policy()


def _decode(data: bytes | str) -> str:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInputError(f"policy is not UTF-8 (byte {exc.start})") from exc
    bad = _FORBIDDEN.search(data)
    if bad:
        line = data.count("\n", 0, bad.start()) + 1
        raise InvalidInputError(f"character U+{ord(bad.group()):04X} not allowed", line=line)
    return data


def _parse_line(builder: _Builder, fields: list[str]) -> None:
    keyword, args = fields[0], fields[1:]
    if keyword == "log":
        _add_log(builder, args)
    elif keyword == "witness":
        _add_witness(builder, args)
    elif keyword == "group":
        _add_group(builder, args)
    elif keyword == "quorum":
        _set_quorum(builder, args)
    else:
        raise InvalidInputError(f"unknown keyword {keyword!r} (log, witness, group, quorum)")


def _add_log(builder: _Builder, args: list[str]) -> None:
    if len(args) not in (1, 2):
        raise InvalidInputError("expected 'log <vkey> [<url>]'")
    key = _key(args[0], ED25519, "log")
    if any(log.key.key == key.key for log in builder.logs):
        raise InvalidInputError(f"duplicate log key {key.name}")
    _limit(builder.logs, "logs")
    builder.logs.append(PolicyLog(key, args[1] if len(args) == 2 else None))


def _add_witness(builder: _Builder, args: list[str]) -> None:
    if len(args) not in (2, 3):
        raise InvalidInputError("expected 'witness <name> <vkey> [<url>]'")
    name = _new_name(builder, args[0])
    key = _key(args[1], COSIGNATURE_V1, "witness")
    if any(w.key.key == key.key for w in builder.witnesses.values()):
        raise InvalidInputError(f"duplicate witness key {key.name}")
    _limit(builder.witnesses, "witnesses")
    builder.witnesses[name] = PolicyWitness(name, key, args[2] if len(args) == 3 else None)


def _add_group(builder: _Builder, args: list[str]) -> None:
    if len(args) < 3:
        raise InvalidInputError("expected 'group <name> <k|all|any> <member>...'")
    name = _new_name(builder, args[0])
    members = tuple(args[2:])
    for i, member in enumerate(members):
        if member == NONE or not builder.defined(member):
            raise InvalidInputError(f"group {name}: {member!r} is not defined on an earlier line")
        if member in members[:i]:
            raise InvalidInputError(f"group {name}: {member!r} is listed twice")
    _limit(builder.groups, "groups")
    builder.groups[name] = Group(name, _threshold(args[1], len(members)), members)


def _threshold(text: str, n: int) -> Threshold:
    if text in ("all", "any"):
        return "all" if text == "all" else "any"
    k = parse_decimal(text, "group threshold")
    if not 1 <= k <= n:
        raise InvalidInputError(f"group threshold must be in 1..{n}, found {k}")
    return k


def _set_quorum(builder: _Builder, args: list[str]) -> None:
    if len(args) != 1:
        raise InvalidInputError("expected 'quorum <name>'")
    if builder.quorum is not None:
        raise InvalidInputError("a policy has exactly one quorum line")
    if args[0] != NONE and not builder.defined(args[0]):
        raise InvalidInputError(f"quorum {args[0]!r} is not defined on an earlier line")
    builder.quorum = args[0]


def _new_name(builder: _Builder, name: str) -> str:
    if name == NONE:
        raise InvalidInputError("'none' is predefined and cannot be redefined")
    if builder.defined(name):
        raise InvalidInputError(f"name {name!r} is already defined")
    return name


def _key(vkey: str, key_type: int, role: str) -> PublicKey:
    key = parse_vkey(vkey)
    if key.type != key_type:
        raise InvalidInputError(f"{role} key {key.name} must have signature type 0x{key_type:02x}")
    return key


def _limit(entries: list[PolicyLog] | Mapping[str, object], what: str) -> None:
    if len(entries) >= MAX_ENTRIES:
        raise InvalidInputError(f"too many {what} (at most {MAX_ENTRIES})")


# --- evaluation ----------------------------------------------------------------------------------


def evaluate(policy: Policy, verified_witness_names: Iterable[str]) -> QuorumResult:
    """Is the quorum met by these witnesses (policy names)? Each counts once, however listed."""
    if policy.quorum == NONE:
        return QuorumResult(True, "quorum none: no cosignature required")
    verified = frozenset(verified_witness_names)
    met = {w.name: w.name in verified for w in policy.witnesses}
    counts: dict[str, int] = {}
    for group in policy.groups:  # members are defined earlier, so one pass in order suffices
        counts[group.name] = sum(1 for member in group.members if met[member])
        met[group.name] = counts[group.name] >= group.k
    ok = met[policy.quorum]
    words = [f"quorum {policy.quorum} {'met' if ok else 'not met'}"]
    needed = _reachable(policy, policy.quorum)
    for group in policy.groups:
        if group.name in needed:
            count, n = counts[group.name], len(group.members)
            words.append(f"{group.name}: {count} of {n} witnessed, needs {group.k}")
    cosigned = sorted(name for name in verified if name in met and name not in counts)
    words.append("cosigned by " + (", ".join(cosigned) if cosigned else "no listed witness"))
    return QuorumResult(ok, "; ".join(words))


def _reachable(policy: Policy, name: str) -> frozenset[str]:
    """The groups the quorum depends on, directly or through other groups."""
    seen = {name}
    for group in reversed(policy.groups):  # a group only names earlier ones
        if group.name in seen:
            seen.update(group.members)
    return frozenset(seen)
