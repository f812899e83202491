"""The conclusion policy: who must sign, witness and endorse before the agreement is in force.

Rules compose: ``all`` of, ``any`` of, ``k`` of. Atoms name a fact: a party signed (firmly, or ad
referendum and then ratified), a party's signature was witnessed by at least ``k`` of the listed
witnesses other than the signer, a guarantor endorsed. A key counts once: facts are counted by
the distinct keys that attested them, so one key can never fill two places of a threshold.

JSON form (in the charter)::

    {"all": [{"sign": "PK"}, {"witness": "PK", "by": ["QA", "TR"], "k": 1}, {"endorse": "QA"}]}
    {"any": [...]}      {"k": 2, "of": [...]}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from parley.core import canonical
from parley.core.text import check_code
from parley.errors import InvalidInputError


@dataclass(frozen=True, slots=True)
class Signed:
    """Party ``code`` has a valid, final signature on the final text."""

    code: str


@dataclass(frozen=True, slots=True)
class Witnessed:
    """Party ``code``'s signature is attested by at least ``k`` of ``by`` (never the signer)."""

    code: str
    by: tuple[str, ...]
    k: int = 1


@dataclass(frozen=True, slots=True)
class Endorsed:
    """Guarantor ``code`` has endorsed the final text and the party signatures."""

    code: str


@dataclass(frozen=True, slots=True)
class AllOf:
    """Every rule holds."""

    rules: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """At least one rule holds."""

    rules: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class KOf:
    """At least ``k`` rules hold, backed by distinct keys."""

    k: int
    rules: tuple[Rule, ...]


Rule = Signed | Witnessed | Endorsed | AllOf | AnyOf | KOf


@dataclass(frozen=True, slots=True)
class Attestations:
    """The valid attestations of a negotiation, by the keys that made them."""

    signed: Mapping[str, str] = field(default_factory=dict)
    """Party code → key id of its final signature (ad referendum ones only once ratified)."""
    witnessed: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Party code → {witness code → key id} for attestations of that party's signature."""
    endorsed: Mapping[str, str] = field(default_factory=dict)
    """Guarantor code → key id of its endorsement."""
    unratified: Mapping[str, str] = field(default_factory=dict)
    """Party code → key id of an ad referendum signature not yet ratified (it counts for
    nothing yet; the report says it is there)."""

    def once_ratified(self) -> Attestations:
        """The same facts as if every ad referendum signature were ratified: what would still
        be missing then is missing for another reason than a ratification."""
        return replace(self, signed={**self.unratified, **self.signed}, unratified={})


@dataclass(frozen=True, slots=True)
class Finding:
    """One requirement, whether it holds, and why, in words."""

    requirement: str
    holds: bool
    detail: str
    depth: int = 0


def evaluate(rule: Rule, facts: Attestations) -> tuple[bool, tuple[Finding, ...]]:
    """Whether ``rule`` holds over ``facts``, with a finding per requirement for the report."""
    holds, _keys, findings = _eval(rule, facts, 0)
    return holds, tuple(findings)


def _eval(
    rule: Rule, facts: Attestations, depth: int
) -> tuple[bool, frozenset[str], list[Finding]]:
    if isinstance(rule, Signed):
        return _signed(rule, facts, depth)
    if isinstance(rule, Witnessed):
        return _witnessed(rule, facts, depth)
    if isinstance(rule, Endorsed):
        return _endorsed(rule, facts, depth)
    return _combine(rule, facts, depth)


def _signed(
    rule: Signed, facts: Attestations, depth: int
) -> tuple[bool, frozenset[str], list[Finding]]:
    key = facts.signed.get(rule.code)
    detail = f"signed with key {key}" if key else _not_signed(rule.code, facts)
    finding = Finding(f"{rule.code} signs the final text", key is not None, detail, depth)
    return key is not None, frozenset({key} if key else ()), [finding]


def _witnessed(
    rule: Witnessed, facts: Attestations, depth: int
) -> tuple[bool, frozenset[str], list[Finding]]:
    signer_key = facts.signed.get(rule.code)
    attested = facts.witnessed.get(rule.code, {})
    valid = {
        code: key for code, key in attested.items()
        if code in rule.by and code != rule.code and key != signer_key
    }  # fmt: skip
    keys = frozenset(valid.values())
    holds = signer_key is not None and len(keys) >= rule.k
    who = ", ".join(sorted(valid)) or "nobody yet"
    pool = ", ".join(c for c in rule.by if c != rule.code)
    requirement = f"{rule.code}'s signature is witnessed by at least {rule.k} of {pool}"
    detail = f"witnessed by {who}" if signer_key else _not_signed(rule.code, facts, who)
    return holds, keys if holds else frozenset(), [Finding(requirement, holds, detail, depth)]


def _not_signed(code: str, facts: Attestations, witnessed_by: str | None = None) -> str:
    """Why ``code``'s signature does not count (yet): none, or one ad referendum unratified."""
    pending = facts.unratified.get(code)
    if pending is None:
        return "no valid signature yet" if witnessed_by is None else f"{code} has not signed yet"
    said = f"signed ad referendum with key {pending}, not yet ratified"
    return said if witnessed_by is None else f"{said}; witnessed by {witnessed_by}"


def _endorsed(
    rule: Endorsed, facts: Attestations, depth: int
) -> tuple[bool, frozenset[str], list[Finding]]:
    key = facts.endorsed.get(rule.code)
    detail = f"endorsed with key {key}" if key else "no endorsement yet"
    finding = Finding(f"{rule.code} endorses the agreement", key is not None, detail, depth)
    return key is not None, frozenset({key} if key else ()), [finding]


def _combine(
    rule: AllOf | AnyOf | KOf, facts: Attestations, depth: int
) -> tuple[bool, frozenset[str], list[Finding]]:
    results = [_eval(r, facts, depth + 1) for r in rule.rules]
    findings = [f for _, _, fs in results for f in fs]
    if isinstance(rule, AllOf):
        holds = all(h for h, _, _ in results)
        title = "all of the following"
    elif isinstance(rule, AnyOf):
        holds = any(h for h, _, _ in results)
        title = "any of the following"
    else:
        holds = _distinct_count([k for h, k, _ in results if h]) >= rule.k
        title = f"at least {rule.k} of the following, by distinct keys"
    keys = frozenset().union(*(k for h, k, _ in results if h)) if holds else frozenset()
    head = Finding(title, holds, "holds" if holds else "does not hold", depth)
    return holds, keys, [head, *findings]


def _distinct_count(key_sets: list[frozenset[str]]) -> int:
    """How many satisfied rules can each be backed by a key of their own (a key counts once).

    A maximum bipartite matching between rules and keys (augmenting paths; the sets are tiny).
    """
    owner: dict[str, int] = {}

    def augment(i: int, seen: set[str]) -> bool:
        for key in sorted(key_sets[i] - seen):
            seen.add(key)
            if key not in owner or augment(owner[key], seen):
                owner[key] = i
                return True
        return False

    return sum(augment(i, set()) for i in range(len(key_sets)))


# --- JSON ---------------------------------------------------------------------------------------


def to_json(rule: Rule) -> canonical.JsonValue:
    """The charter form of a rule."""
    if isinstance(rule, Signed):
        return {"sign": rule.code}
    if isinstance(rule, Witnessed):
        return {"witness": rule.code, "by": list(rule.by), "k": rule.k}
    if isinstance(rule, Endorsed):
        return {"endorse": rule.code}
    if isinstance(rule, AllOf):
        return {"all": [to_json(r) for r in rule.rules]}
    if isinstance(rule, AnyOf):
        return {"any": [to_json(r) for r in rule.rules]}
    return {"k": rule.k, "of": [to_json(r) for r in rule.rules]}


def from_json(obj: object, path: str = "policy", depth: int = 0) -> Rule:
    """Parse a rule strictly; raise InvalidInputError naming the fault and where."""
    if depth > 16:
        raise InvalidInputError(f"{path}: rules nest too deeply (at most 16 levels)")
    if not isinstance(obj, dict) or not obj:
        raise InvalidInputError(f"{path}: expected a rule object like {{'sign': 'PK'}}")
    keys = set(obj)
    if keys == {"sign"}:
        return Signed(_code(obj["sign"], f"{path}.sign"))
    if keys == {"endorse"}:
        return Endorsed(_code(obj["endorse"], f"{path}.endorse"))
    if keys == {"witness", "by", "k"}:
        return _witness_rule(obj, path)
    if keys in ({"all"}, {"any"}):
        name = next(iter(keys))
        rules = _rules(obj[name], f"{path}.{name}", depth)
        return AllOf(rules) if name == "all" else AnyOf(rules)
    if keys == {"k", "of"}:
        rules = _rules(obj["of"], f"{path}.of", depth)
        return KOf(_count(obj["k"], f"{path}.k", len(rules)), rules)
    raise InvalidInputError(f"{path}: unknown rule with keys {sorted(keys)}")


def _witness_rule(obj: dict[str, object], path: str) -> Witnessed:
    by = obj["by"]
    if not isinstance(by, list) or not by:
        raise InvalidInputError(f"{path}.by: expected a non-empty list of witness codes")
    codes = tuple(_code(c, f"{path}.by") for c in by)
    if len(set(codes)) != len(codes):
        raise InvalidInputError(f"{path}.by: a witness is listed twice")
    return Witnessed(
        _code(obj["witness"], f"{path}.witness"), codes, _count(obj["k"], f"{path}.k", len(codes))
    )


def _rules(value: object, path: str, depth: int) -> tuple[Rule, ...]:
    if not isinstance(value, list) or not value:
        raise InvalidInputError(f"{path}: expected a non-empty list of rules")
    return tuple(from_json(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value))


def _code(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"{path}: expected a participant code")
    check_code(value, path)
    return value


def _count(value: object, path: str, most: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= most:
        raise InvalidInputError(
            f"{path}: expected a whole number from 1 to {most}, found {value!r}"
        )
    return value


def codes(rule: Rule) -> dict[str, set[str]]:
    """Which codes the rule names as signers, witnesses and guarantors (to check against roles)."""
    out: dict[str, set[str]] = {"party": set(), "witness": set(), "guarantor": set()}
    _collect(rule, out)
    return out


def _collect(rule: Rule, out: dict[str, set[str]]) -> None:
    if isinstance(rule, Signed):
        out["party"].add(rule.code)
    elif isinstance(rule, Witnessed):
        out["party"].add(rule.code)
        out["witness"].update(rule.by)
    elif isinstance(rule, Endorsed):
        out["guarantor"].add(rule.code)
    else:
        for r in rule.rules:
            _collect(r, out)


def default(parties: list[str], witnesses: list[str], guarantors: list[str]) -> Rule:
    """Every party signs; each signature witnessed by one witness other than the signer; every
    guarantor endorses."""
    rules: list[Rule] = [Signed(p) for p in parties]
    for p in parties:
        pool = tuple(w for w in witnesses if w != p)
        if pool:
            rules.append(Witnessed(p, pool, 1))
    rules.extend(Endorsed(g) for g in guarantors)
    return AllOf(tuple(rules))
