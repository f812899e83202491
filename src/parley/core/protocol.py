"""The negotiation protocol as a pure fold: ``state = fold(events)``.

``apply(state, event)`` checks, in this order: the chain (negotiation, sequence, ``prev``, time),
the author (a participant of the charter who has joined) and their key (listed for them in the
charter, and the signature verifies), the rule for the move (``RULES``: phase, role, audience),
then the move's own preconditions; only then does it change anything. Every refusal is a
``ProtocolError`` (or ``ConflictError`` / ``SignatureError``) that says why in plain words.

The same code runs in the services, the CLI and the offline verifier. ``replay`` is ``apply``
over events a store already accepted, without verifying their signatures a second time.

A copy of the events in which some bodies are withheld (redacted for a participant outside the
audience, or left out of a bundle) still folds: the chain, signatures and rules are checked,
and the preconditions that need a withheld body are taken on trust from the participants who
could see it. Bodies of the moves that decide the outcome (``NEEDS_BODY``) can never be withheld.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeVar

from parley.core import charter as charters
from parley.core import policy
from parley.core import text as text_model
from parley.core.append_only import AppendOnly
from parley.core.charter import Charter, PenRule, Role
from parley.core.event import EventType, SignedEvent, parse_time
from parley.errors import (
    ConflictError,
    IllegalMoveError,
    InvalidInputError,
    PreconditionError,
    SignatureError,
    UnauthorizedMoveError,
)


class Phase(StrEnum):
    """Where a negotiation stands."""

    CONVENING = "convening"
    OPEN = "open"
    SUSPENDED = "suspended"
    SIGNING = "signing"
    IN_FORCE = "in_force"
    COLLAPSED = "collapsed"


class Mode(StrEnum):
    """An acceptance or signature is firm, or ad referendum (pending the capital's confirmation)."""

    FIRM = "firm"
    AD_REFERENDUM = "ad_referendum"


M, P, W, G = Role.MEDIATOR, Role.PARTY, Role.WITNESS, Role.GUARANTOR
TALKS = frozenset({Phase.OPEN})
LIVE = frozenset({Phase.CONVENING, Phase.OPEN, Phase.SUSPENDED, Phase.SIGNING, Phase.IN_FORCE})
CONCLUDING = frozenset({Phase.SIGNING, Phase.IN_FORCE})


@dataclass(frozen=True, slots=True)
class MoveRule:
    """One row of the rules table."""

    phases: frozenset[Phase]
    roles: frozenset[Role] | None
    """Roles that may make the move; None: any participant (observers included)."""
    public: bool
    """The body must be readable by everyone (audience ``all``)."""
    summary: str


RULES: Mapping[EventType, MoveRule] = MappingProxyType({
    EventType.JOIN: MoveRule(frozenset({Phase.CONVENING}), None, True,
                             "signs the charter hash; talks open when all have joined"),
    EventType.PROPOSE: MoveRule(TALKS, frozenset({M, P}), False,
                                "the pen holder publishes a version"),
    EventType.SEND: MoveRule(TALKS, frozenset({M, P}), True,
                             "the pen holder sends a version for review; the disclosure record"),
    EventType.AMEND: MoveRule(TALKS, frozenset({P}), False,
                              "a reviewer returns a new version against the version it was sent"),
    EventType.ACCEPT: MoveRule(TALKS, frozenset({P}), True,
                               "a party accepts a version, firm or ad referendum"),
    EventType.CONFIRM: MoveRule(TALKS, frozenset({P}), True,
                                "a party confirms its ad referendum acceptance"),
    EventType.REJECT: MoveRule(TALKS, frozenset({P}), True,
                               "a party rejects a version, with reasons"),
    EventType.INTEGRATE: MoveRule(TALKS, frozenset({M}), False,
                                  "a mediator merges returned amendments into a new version"),
    EventType.COMMENT: MoveRule(LIVE, None, False,
                                "a non-binding note anchored to a provision of a version"),
    EventType.STATEMENT: MoveRule(LIVE, None, False,
                                  "a unilateral declaration; never binding"),
    EventType.SUSPEND: MoveRule(TALKS, frozenset({M, P}), True,
                                "talks stall; a party suspending is walking out"),
    EventType.RESUME: MoveRule(frozenset({Phase.SUSPENDED}), frozenset({M, P}), True,
                               "a mediator, or the party that walked out, resumes the talks"),
    EventType.TERMINATE: MoveRule(frozenset({Phase.CONVENING, Phase.OPEN, Phase.SUSPENDED}),
                                  frozenset({M}), True, "a mediator ends the talks: collapsed"),
    EventType.FINALIZE: MoveRule(TALKS, frozenset({M}), True,
                                 "freezes a clean version that every party accepted firmly"),
    EventType.SIGN: MoveRule(CONCLUDING, frozenset({P}), True,
                             "a party signs the final text, firm or ad referendum"),
    EventType.RATIFY: MoveRule(CONCLUDING, frozenset({P}), True,
                               "a party ratifies its ad referendum signature"),
    EventType.WITNESS: MoveRule(CONCLUDING, frozenset({W}), True,
                                "a witness attests one specific party signature"),
    EventType.ENDORSE: MoveRule(CONCLUDING, frozenset({G}), True,
                                "a guarantor endorses the final text and the party signatures"),
})  # fmt: skip
"""The rules table: who may make which move in which phase. docs/protocol.md mirrors it."""

NEXT_PHASE: Mapping[EventType, str] = MappingProxyType({
    EventType.JOIN: "open, once every participant has joined",
    EventType.SUSPEND: "suspended",
    EventType.RESUME: "open",
    EventType.TERMINATE: "collapsed",
    EventType.FINALIZE: "signing",
    EventType.SIGN: "in force, once the policy holds",
    EventType.RATIFY: "in force, once the policy holds",
    EventType.WITNESS: "in force, once the policy holds",
    EventType.ENDORSE: "in force, once the policy holds",
})  # fmt: skip

NEEDS_BODY = frozenset({
    EventType.CHARTER, EventType.JOIN, EventType.ACCEPT, EventType.CONFIRM, EventType.REJECT,
    EventType.FINALIZE, EventType.SIGN, EventType.RATIFY, EventType.WITNESS, EventType.ENDORSE,
    EventType.SEND, EventType.SUSPEND,
})  # fmt: skip
"""Moves whose bodies decide the outcome: they may never be withheld."""


@dataclass(frozen=True, slots=True)
class Version:
    """What the record says about a version."""

    hash: str
    author: str
    event: str
    parents: tuple[str, ...]
    move: EventType
    audience: tuple[str, ...] | None = None
    """Who may read it (None: everyone), as the event that published it says."""
    time: str = ""
    """When it was published (its event's time), so that a list of versions needs no events."""


@dataclass(frozen=True, slots=True)
class Acceptance:
    """A party's standing acceptance of one version."""

    mode: Mode
    event: str
    confirmed_by: str | None = None
    withdrawn_by: str | None = None

    @property
    def firm(self) -> bool:
        """Firm now: accepted firmly, or ad referendum and confirmed; not withdrawn."""
        return self.withdrawn_by is None and (
            self.mode is Mode.FIRM or self.confirmed_by is not None
        )


@dataclass(frozen=True, slots=True)
class Attestation:
    """A sign, witness or endorse event and what it names."""

    move: EventType
    author: str
    event: str
    key: str
    time: str
    mode: Mode = Mode.FIRM
    names: str | None = None
    """For a witness: the sign event it attests."""
    ratified_by: str | None = None


@dataclass(frozen=True, slots=True)
class Statement:
    """A non-binding declaration (its text is None when withheld from this copy)."""

    author: str
    event: str
    time: str
    text: str | None


@dataclass(frozen=True, slots=True)
class Comment:
    """A remark on one provision of one version; its version, provision and words are None
    when its body is withheld from this copy."""

    author: str
    event: str
    time: str
    audience: tuple[str, ...] | None
    version: str | None
    provision: str | None
    text: str | None


@dataclass(frozen=True, slots=True)
class State:
    """Everything the events establish; built only by ``fold`` and ``apply``."""

    charter: Charter
    phase: Phase
    seq: int
    head: str
    time: str
    joined: frozenset[str] = frozenset()
    versions: Mapping[str, Version] = field(default_factory=dict)
    texts: Mapping[str, text_model.Text] = field(default_factory=dict)
    sent: Mapping[str, frozenset[str]] = field(default_factory=dict)
    responded: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Version → participants who amended, accepted or rejected it."""
    deadlines: Mapping[str, str] = field(default_factory=dict)
    """Version → the latest deadline it was sent with."""
    pen: frozenset[str] = frozenset()
    """Parties holding the pen under the alternating rule (mediators always hold it)."""
    acceptances: Mapping[str, Mapping[str, Acceptance]] = field(default_factory=dict)
    suspended_by: str | None = None
    final: str | None = None
    signatures: Mapping[str, Attestation] = field(default_factory=dict)
    witnesses: Mapping[str, Mapping[str, Attestation]] = field(default_factory=dict)
    endorsements: Mapping[str, Attestation] = field(default_factory=dict)
    statements: AppendOnly[Statement] = field(default_factory=AppendOnly)
    comments: AppendOnly[Comment] = field(default_factory=AppendOnly)
    withheld: int = 0

    @property
    def negotiation(self) -> str:
        """The negotiation id (the charter hash)."""
        return self.charter.id

    @property
    def final_text(self) -> text_model.Text | None:
        """The final text, once finalized."""
        return None if self.final is None else self.texts.get(self.final)

    @property
    def in_force(self) -> bool:
        """The policy holds over valid attestations of the final text."""
        return self.phase is Phase.IN_FORCE

    def attestations(self) -> policy.Attestations:
        """The facts the policy is evaluated on."""
        return _facts(self.signatures, self.witnesses, self.endorsements)


# --- the fold -----------------------------------------------------------------------------------


def fold(events: Iterable[SignedEvent]) -> State:
    """Apply every event in order from the charter; raise on the first one the rules refuse."""
    stream = iter(events)
    first = next(stream, None)
    if first is None:
        raise InvalidInputError("no events: a negotiation starts with its charter")
    draft = _Draft.start(first)
    for event in stream:
        draft.apply(event)
    return draft.freeze()


def start(event: SignedEvent) -> State:
    """The state after the charter event."""
    return _Draft.start(event).freeze()


def apply(state: State, event: SignedEvent) -> State:
    """The state after ``event``; ``state`` is unchanged and nothing changes if it is refused."""
    draft = _Draft.thaw(state)
    draft.apply(event)
    return draft.freeze()


def check_signature(state: State, event: SignedEvent) -> None:
    """Raise unless ``event`` is signed by its author with a key the charter lists for them,
    wherever it claims to sit (a verifier names an altered event by this)."""
    _Draft.thaw(state)._check_signature(event)


def replay(state: State | None, events: Iterable[SignedEvent]) -> State:
    """The state after events a store already accepted, from ``state`` (the charter if None).

    Only for a store's own events: every check of ``apply`` runs except verifying signatures
    and recomputing versions' hashes, since each was checked when its event was accepted.
    Those are most of the cost of a process catching up on events another process stored.
    Events from anywhere else (a server's answer, a bundle) go through ``apply`` and ``fold``.
    """
    stream = iter(events)
    if state is None:
        first = next(stream, None)
        if first is None:
            raise InvalidInputError("no events: a negotiation starts with its charter")
        draft = _Draft.start(first)
    else:
        draft = _Draft.thaw(state)
    for event in stream:
        draft.apply(event, verify=False)
    return draft.freeze()


def pen_holders(state: State) -> list[str]:
    """Who may propose and send now."""
    mediators = state.charter.codes(Role.MEDIATOR)
    return mediators + sorted(state.pen) if state.charter.pen is PenRule.ALTERNATING else mediators


def firm_acceptors(state: State, version: str) -> list[str]:
    """Parties whose firm acceptance of ``version`` stands."""
    return [
        p for p in state.charter.codes(Role.PARTY)
        if (a := state.acceptances.get(p, {}).get(version)) is not None and a.firm
    ]  # fmt: skip


def _facts(
    signatures: Mapping[str, Attestation],
    witnesses: Mapping[str, Mapping[str, Attestation]],
    endorsements: Mapping[str, Attestation],
) -> policy.Attestations:
    signed = {
        p: a.key for p, a in signatures.items() if a.mode is Mode.FIRM or a.ratified_by is not None
    }
    witnessed = {
        p: {w: x.key for w, x in witnesses.get(a.event, {}).items()} for p, a in signatures.items()
    }
    endorsed = {g: a.key for g, a in endorsements.items()}
    unratified = {p: a.key for p, a in signatures.items() if p not in signed}
    return policy.Attestations(signed, witnessed, endorsed, unratified)


# --- the mutable draft the fold works on --------------------------------------------------------


class _Draft:
    """Mutable working copy of a State: every handler checks first, then changes."""

    def __init__(self, charter: Charter, head: str, time: str) -> None:
        self.charter = charter
        self.phase = Phase.CONVENING
        self.seq = 1
        self.head = head
        self.time = time
        self.joined: set[str] = set()
        self.versions: dict[str, Version] = {}
        self.texts: dict[str, text_model.Text] = {}
        # Inner sets and maps are immutable, replaced when they change: a move copies only the
        # outer maps (thaw), never every entry, however many versions the negotiation has.
        self.sent: dict[str, frozenset[str]] = {}
        self.responded: dict[str, frozenset[str]] = {}
        self.deadlines: dict[str, str] = {}
        self.pen: set[str] = set()
        self.acceptances: dict[str, Mapping[str, Acceptance]] = {}
        self.suspended_by: str | None = None
        self.final: str | None = None
        self.signatures: dict[str, Attestation] = {}
        self.sign_events: dict[str, Attestation] = {}
        self.witnesses: dict[str, Mapping[str, Attestation]] = {}
        self.endorsements: dict[str, Attestation] = {}
        self.statements: AppendOnly[Statement] = AppendOnly()
        self.comments: AppendOnly[Comment] = AppendOnly()
        self.withheld = 0
        self.spent = False
        self.stored = False
        """Applying a store's own event (``replay``): its signature and version hash were
        checked when the store accepted it."""

    @classmethod
    def start(cls, event: SignedEvent) -> _Draft:
        env = event.envelope
        if env.type is not EventType.CHARTER or env.seq != 0:
            raise InvalidInputError(
                f"event {env.seq} is a {env.type}: the first event must be the charter"
            )
        if event.body is None:
            raise InvalidInputError("the charter's body is withheld, but every copy needs it")
        charter = charters.from_json(event.body)
        if env.negotiation != charter.id:
            raise InvalidInputError("the charter event names another negotiation than its own hash")
        author = charter.participant(env.author)
        if author is None or not author.has(Role.MEDIATOR):
            raise UnauthorizedMoveError(
                f"{env.author} cannot convene: only a mediator named in the charter can"
            )
        if env.audience is not None:
            raise InvalidInputError("the charter must be readable by everyone")
        draft = cls(charter, event.hash, env.time)
        draft._check_signature(event)
        return draft

    @classmethod
    def thaw(cls, s: State) -> _Draft:
        d = cls(s.charter, s.head, s.time)
        d.phase, d.seq, d.suspended_by, d.final = s.phase, s.seq, s.suspended_by, s.final
        d.joined, d.pen = set(s.joined), set(s.pen)
        d.versions, d.texts = _copy(s.versions), _copy(s.texts)
        d.sent, d.responded = _copy(s.sent), _copy(s.responded)
        d.deadlines = _copy(s.deadlines)
        d.acceptances = _copy(s.acceptances)
        d.signatures = _copy(s.signatures)
        d.sign_events = {a.event: a for a in s.signatures.values()}
        d.witnesses = _copy(s.witnesses)
        d.endorsements = _copy(s.endorsements)
        d.statements, d.comments, d.withheld = s.statements, s.comments, s.withheld
        return d

    def freeze(self) -> State:
        """The State this draft has become; the draft is spent (its maps now belong to the
        State, behind read-only views, so they are not copied a second time)."""
        self.spent = True
        return State(
            charter=self.charter, phase=self.phase, seq=self.seq, head=self.head, time=self.time,
            joined=frozenset(self.joined), versions=MappingProxyType(self.versions),
            texts=MappingProxyType(self.texts),
            sent=MappingProxyType(self.sent),
            responded=MappingProxyType(self.responded),
            deadlines=MappingProxyType(self.deadlines),
            pen=frozenset(self.pen),
            acceptances=MappingProxyType(self.acceptances),
            suspended_by=self.suspended_by, final=self.final,
            signatures=MappingProxyType(self.signatures),
            witnesses=MappingProxyType(self.witnesses),
            endorsements=MappingProxyType(self.endorsements),
            statements=self.statements, comments=self.comments, withheld=self.withheld,
        )  # fmt: skip

    # --- checks common to every move ---

    def apply(self, event: SignedEvent, verify: bool = True) -> None:
        assert not self.spent, "a frozen draft's maps belong to its State"
        env = event.envelope
        self._check_chain(event)
        self._check_signature(event, verify)
        self.stored = not verify
        if env.type is EventType.CHARTER:
            raise IllegalMoveError("a negotiation has exactly one charter, its first event")
        self._check_rule(event)
        if event.body is None and env.type in NEEDS_BODY:
            raise InvalidInputError(
                f"event {env.seq} ({env.type}) has its body withheld, but the outcome depends on it"
            )
        HANDLERS[env.type](self, event, event.body)
        self.seq, self.head, self.time = env.seq + 1, event.hash, env.time
        self.withheld += event.body is None

    def _check_chain(self, event: SignedEvent) -> None:
        env = event.envelope
        if env.negotiation != self.charter.id:
            raise InvalidInputError(f"event {env.seq} belongs to another negotiation")
        if env.seq != self.seq or env.prev != self.head:
            raise ConflictError(
                f"event {env.seq} was made after event {env.seq - 1} "
                f"({(env.prev or '')[:8]}…), but the negotiation is at event {self.seq - 1} "
                f"({self.head[:8]}…): someone moved first"
            )
        if env.moment < parse_time(self.time):
            raise InvalidInputError(
                f"event {env.seq} is dated {env.time}, before the event it follows"
            )

    def _check_signature(self, event: SignedEvent, verify: bool = True) -> None:
        env = event.envelope
        if self.charter.participant(env.author) is None:
            raise UnauthorizedMoveError(f"{env.author} is not a participant in this negotiation")
        key = self.charter.key(env.author, env.key)
        if key is None:
            raise UnauthorizedMoveError(
                f"event {env.seq} ({env.type} by {env.author}): key {env.key} is not one of "
                f"{env.author}'s keys in the charter"
            )
        if not verify:
            return
        try:
            key.verify(env.signed_bytes(), event.signature)
        except SignatureError as exc:
            raise SignatureError(f"event {env.seq} ({env.type} by {env.author}): {exc}") from exc

    def _check_rule(self, event: SignedEvent) -> None:
        env = event.envelope
        rule = RULES[env.type]
        move = _VERBS.get(env.type, str(env.type))
        if env.author not in self.joined and env.type is not EventType.JOIN:
            raise IllegalMoveError(f"{env.author} cannot {move}: it has not joined the negotiation")
        if env.author in self.joined and env.type is EventType.JOIN:
            raise IllegalMoveError(f"{env.author} has already joined")
        if self.phase not in rule.phases:
            raise IllegalMoveError(
                f"{env.author} cannot {move} while the negotiation is {_said(self.phase)}"
            )
        if rule.roles is not None:
            me = self.charter.participant(env.author)
            if me is None or not any(me.has(r) for r in rule.roles):
                who = " or ".join(f"a {r}" for r in sorted(rule.roles))
                raise UnauthorizedMoveError(f"{env.author} cannot {move}: only {who} can")
        self._check_audience(event, rule)

    def _check_audience(self, event: SignedEvent, rule: MoveRule) -> None:
        env = event.envelope
        if env.audience is None:
            return
        if rule.public:
            raise IllegalMoveError(f"a {env.type} must be readable by everyone (audience 'all')")
        unknown = [c for c in env.audience if self.charter.participant(c) is None]
        if unknown:
            raise InvalidInputError(f"the audience names {', '.join(unknown)}, not participants")
        missing = [m for m in self.charter.codes(Role.MEDIATOR) if m not in env.audience]
        if missing:
            raise IllegalMoveError(
                f"the audience must include the mediators ({', '.join(missing)})"
            )

    # --- helpers for the handlers ---

    def party_codes(self) -> list[str]:
        return self.charter.codes(Role.PARTY)

    def holds_pen(self, code: str) -> bool:
        me = self.charter.participant(code)
        if me is not None and me.has(Role.MEDIATOR):
            return True
        return self.charter.pen is PenRule.ALTERNATING and code in self.pen

    def known(self, version: str, author: str, move: str) -> None:
        if version not in self.versions and self.withheld == 0:
            raise PreconditionError(
                f"{author} cannot {move} version {version[:8]}…: no such version"
            )

    def add_version(
        self, event: SignedEvent, body: dict[str, Any], parents: tuple[str, ...]
    ) -> None:
        text = text_model.from_json(body.get("text"))
        version = _str(body, "version")
        # a store's own event (replay) was hashed and checked when the store accepted it (and
        # was read as it is, whatever later rules say), as it was verified
        if not self.stored and text_model.version_hash(text) != version:
            raise InvalidInputError(
                f"event {event.envelope.seq}: the text's hash is not the version it names"
            )
        if not self.stored:
            text_model.check_visible(text, f"the version of event {event.envelope.seq}")
        for parent in parents:
            self.known(parent, event.envelope.author, str(event.envelope.type))
        env = event.envelope
        self.versions[version] = Version(
            version, env.author, event.hash, parents, env.type, env.audience, env.time
        )
        self.texts[version] = text

    def update_force(self) -> None:
        facts = _facts(self.signatures, self.witnesses, self.endorsements)
        holds, _ = policy.evaluate(self.charter.policy, facts)
        self.phase = Phase.IN_FORCE if holds else Phase.SIGNING


_VERBS = {EventType.STATEMENT: "make a statement", EventType.CHARTER: "convene"}
"""A move named as a verb where its type is no verb ("PK cannot make a statement")."""


def _said(phase: Phase) -> str:
    return "in force" if phase is Phase.IN_FORCE else str(phase)


K = TypeVar("K")
V = TypeVar("V")


def _copy(mapping: Mapping[K, V]) -> dict[K, V]:
    """A mutable copy; a State's read-only views copy at C speed (``dict()`` of one does not)."""
    if isinstance(mapping, MappingProxyType):
        return mapping.copy()
    return dict(mapping)


def _with(inner: Mapping[str, V] | None, key: str, value: V) -> Mapping[str, V]:
    """A new read-only map: ``inner`` with ``key`` set to ``value``."""
    return MappingProxyType({**(inner or {}), key: value})


def _added(inner: frozenset[str] | None, *codes: str) -> frozenset[str]:
    return (inner or frozenset()).union(codes)


def _str(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"the body's {key!r} must be a non-empty string")
    return value


def _strs(body: Mapping[str, Any], key: str) -> list[str]:
    value = body.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInputError(f"the body's {key!r} must be a list of strings")
    return value


def _mode(body: Mapping[str, Any]) -> Mode:
    value = body.get("mode", "firm")
    if not isinstance(value, str) or value not in Mode._value2member_map_:
        raise InvalidInputError(f"mode must be 'firm' or 'ad_referendum', found {value!r}")
    return Mode(value)


# --- the moves ----------------------------------------------------------------------------------

Body = dict[str, Any] | None
Handler = Callable[[_Draft, SignedEvent, Body], None]


def _join(d: _Draft, ev: SignedEvent, body: Body) -> None:
    author = ev.envelope.author
    if body is None or body.get("charter") != d.charter.id:
        raise PreconditionError(f"{author}'s join does not sign this charter's hash")
    d.joined.add(author)
    if len(d.joined) == len(d.charter.participants):
        d.phase = Phase.OPEN


def _propose(d: _Draft, ev: SignedEvent, body: Body) -> None:
    author = ev.envelope.author
    if not d.holds_pen(author):
        raise IllegalMoveError(f"{author} cannot propose: {_pen_rule(d)}")
    if body is not None:
        d.add_version(ev, body, tuple(_strs(body, "parents")))


def _send(d: _Draft, ev: SignedEvent, body: Body) -> None:
    assert body is not None
    author = ev.envelope.author
    if not d.holds_pen(author):
        raise IllegalMoveError(f"{author} cannot send: {_pen_rule(d)}")
    version, to = _str(body, "version"), _strs(body, "to")
    d.known(version, author, "send")
    strangers = [c for c in to if d.charter.participant(c) is None]
    if strangers:
        codes = ", ".join(d.charter.codes())
        raise PreconditionError(f"{', '.join(strangers)}: not in the charter ({codes})")
    if not to or author in to:
        raise PreconditionError("a send names one or more other participants in 'to'")
    if "deadline" in body:
        parse_time(_str(body, "deadline"))
        d.deadlines[version] = _str(body, "deadline")
    d.sent[version] = _added(d.sent.get(version), *to)
    if d.charter.pen is PenRule.ALTERNATING:
        d.pen = {c for c in to if c in d.party_codes()} or d.pen


def _amend(d: _Draft, ev: SignedEvent, body: Body) -> None:
    if body is None:
        return
    author, base = ev.envelope.author, _str(body, "base")
    d.known(base, author, "amend")
    known = d.versions.get(base)
    if known is not None and known.author != author and author not in d.sent.get(base, set()):
        raise PreconditionError(
            f"{author} cannot amend version {base[:8]}…: it was not sent to {author}"
        )
    if body.get("version") == base:
        raise PreconditionError(
            f"{author}'s amendment changes nothing in version {base[:8]}…: to agree to it, "
            "accept it"
        )
    d.add_version(ev, body, (base,))
    d.responded[base] = _added(d.responded.get(base), author)


def _accept(d: _Draft, ev: SignedEvent, body: Body) -> None:
    assert body is not None
    author, version, mode = ev.envelope.author, _str(body, "version"), _mode(body)
    d.known(version, author, "accept")
    held = d.acceptances.get(author, {}).get(version)
    if held is not None and held.withdrawn_by is None and (held.firm or mode is Mode.AD_REFERENDUM):
        raise IllegalMoveError(f"{author} has already accepted version {version[:8]}…")
    d.acceptances[author] = _with(d.acceptances.get(author), version, Acceptance(mode, ev.hash))
    d.responded[version] = _added(d.responded.get(version), author)


def _confirm(d: _Draft, ev: SignedEvent, body: Body) -> None:
    assert body is not None
    author, version = ev.envelope.author, _str(body, "version")
    held = d.acceptances.get(author, {}).get(version)
    if held is None or held.mode is not Mode.AD_REFERENDUM or held.withdrawn_by is not None:
        raise PreconditionError(
            f"{author} has no ad referendum acceptance of {version[:8]}… to confirm"
        )
    if held.confirmed_by is not None:
        raise IllegalMoveError(f"{author} has already confirmed its acceptance of {version[:8]}…")
    confirmed = Acceptance(held.mode, held.event, confirmed_by=ev.hash)
    d.acceptances[author] = _with(d.acceptances[author], version, confirmed)


def _reject(d: _Draft, ev: SignedEvent, body: Body) -> None:
    assert body is not None
    author, version = ev.envelope.author, _str(body, "version")
    d.known(version, author, "reject")
    if not str(body.get("reasons", "")).strip():
        raise PreconditionError("a rejection must give its reasons")
    d.responded[version] = _added(d.responded.get(version), author)
    held = d.acceptances.get(author, {}).get(version)
    if held is not None:
        withdrawn = Acceptance(held.mode, held.event, held.confirmed_by, ev.hash)
        d.acceptances[author] = _with(d.acceptances[author], version, withdrawn)


def _integrate(d: _Draft, ev: SignedEvent, body: Body) -> None:
    if body is None:
        return
    base, returns = _str(body, "base"), tuple(_strs(body, "returns"))
    if not returns:
        raise PreconditionError("an integration names the returned versions it merges")
    d.add_version(ev, body, (base, *returns))


def _comment(d: _Draft, ev: SignedEvent, body: Body) -> None:
    env = ev.envelope
    version = provision = words = None
    if body is not None:
        version, provision = _str(body, "version"), _str(body, "provision")
        d.known(version, env.author, "comment on")
        text = d.texts.get(version)
        if text is not None and text_model.find(text, provision) is None:
            raise PreconditionError(f"version {version[:8]}… has no provision {provision!r}")
        words = _str(body, "text")
    said = Comment(env.author, ev.hash, env.time, env.audience, version, provision, words)
    d.comments = d.comments.plus(said)


def _statement(d: _Draft, ev: SignedEvent, body: Body) -> None:
    words = None if body is None else _str(body, "text")
    # grows in place of a copy: every other move passes the statements on untouched
    said = Statement(ev.envelope.author, ev.hash, ev.envelope.time, words)
    d.statements = d.statements.plus(said)


def _suspend(d: _Draft, ev: SignedEvent, body: Body) -> None:
    assert body is not None
    author = ev.envelope.author
    me = d.charter.participant(author)
    walks_out = me is not None and not me.has(Role.MEDIATOR)
    if walks_out and not str(body.get("reason", "")).strip():
        raise PreconditionError(f"{author} must give a reason to walk out")
    d.suspended_by = author if walks_out else None
    d.phase = Phase.SUSPENDED


def _resume(d: _Draft, ev: SignedEvent, body: Body) -> None:
    author = ev.envelope.author
    me = d.charter.participant(author)
    if not (me and me.has(Role.MEDIATOR)) and author != d.suspended_by:
        raise UnauthorizedMoveError(
            f"{author} cannot resume: only a mediator or the party that walked out can"
        )
    d.suspended_by = None
    d.phase = Phase.OPEN


def _terminate(d: _Draft, ev: SignedEvent, body: Body) -> None:
    d.phase = Phase.COLLAPSED


def _finalize(d: _Draft, ev: SignedEvent, body: Body) -> None:
    assert body is not None
    version = _str(body, "version")
    text = text_model.from_json(body.get("text"))
    if text_model.version_hash(text) != version:
        raise InvalidInputError("the finalize event's text is not the version it names")
    _check_clean(version, text)
    missing = [p for p in d.party_codes() if p not in _firm(d, version)]
    if missing:
        raise PreconditionError(
            f"version {version[:8]}… is not accepted firmly by {_describe(d, missing, version)}"
        )
    d.texts[version] = text
    d.final = version
    d.phase = Phase.SIGNING


def _firm(d: _Draft, version: str) -> set[str]:
    return {p for p, held in d.acceptances.items() if (a := held.get(version)) and a.firm}


def _describe(d: _Draft, missing: list[str], version: str) -> str:
    parts = []
    for p in missing:
        a = d.acceptances.get(p, {}).get(version)
        if a is None:
            parts.append(f"{p} (no acceptance)")
        elif a.withdrawn_by:
            parts.append(f"{p} (acceptance withdrawn by a rejection)")
        else:
            parts.append(f"{p} (accepted ad referendum, not yet confirmed)")
    return ", ".join(parts)


def _check_clean(version: str, text: text_model.Text) -> None:
    st = text_model.status(text)
    if st.clean:
        return
    held = []
    for what, n in (
        ("bracket", st.brackets),
        ("option group", st.options),
        ("reservation", st.reservations),
    ):
        if n:
            held.append(f"{n} {what}{'s' if n > 1 else ''}")
    where = ", ".join(st.open_ids[:5]) + ("…" if len(st.open_ids) > 5 else "")
    raise PreconditionError(
        f"version {version[:8]}… is not clean: {' and '.join(held)} remain in {where}"
    )


def _attest(ev: SignedEvent, mode: Mode = Mode.FIRM, names: str | None = None) -> Attestation:
    env = ev.envelope
    return Attestation(env.type, env.author, ev.hash, env.key, env.time, mode, names)


def _sign(d: _Draft, ev: SignedEvent, body: Body) -> None:
    assert body is not None
    author = ev.envelope.author
    if _str(body, "version") != d.final:
        raise PreconditionError(f"{author} can only sign the final text {str(d.final)[:8]}…")
    if author in d.signatures:
        raise IllegalMoveError(f"{author} has already signed")
    a = _attest(ev, _mode(body))
    d.signatures[author] = d.sign_events[ev.hash] = a
    d.update_force()


def _ratify(d: _Draft, ev: SignedEvent, body: Body) -> None:
    assert body is not None
    author, sign = ev.envelope.author, _str(body, "sign")
    held = d.signatures.get(author)
    if held is None or held.event != sign or held.mode is not Mode.AD_REFERENDUM:
        raise PreconditionError(f"{author} has no ad referendum signature {sign[:8]}… to ratify")
    if held.ratified_by is not None:
        raise IllegalMoveError(f"{author} has already ratified its signature")
    d.signatures[author] = d.sign_events[sign] = Attestation(
        held.move, held.author, held.event, held.key, held.time, held.mode, None, ev.hash
    )
    d.update_force()


def _witness(d: _Draft, ev: SignedEvent, body: Body) -> None:
    assert body is not None
    author, sign = ev.envelope.author, _str(body, "sign")
    signed = d.sign_events.get(sign)
    if signed is None:
        raise PreconditionError(
            f"{author} cannot witness {sign[:8]}…: it is not a party's signature"
        )
    if signed.author == author:
        raise IllegalMoveError(f"{author} cannot witness its own signature")
    if author in d.witnesses.get(sign, {}):
        raise IllegalMoveError(f"{author} has already witnessed {signed.author}'s signature")
    d.witnesses[sign] = _with(d.witnesses.get(sign), author, _attest(ev, names=sign))
    d.update_force()


def _endorse(d: _Draft, ev: SignedEvent, body: Body) -> None:
    assert body is not None
    author = ev.envelope.author
    if _str(body, "version") != d.final:
        raise PreconditionError(f"{author} can only endorse the final text {str(d.final)[:8]}…")
    unsigned = [p for p in d.party_codes() if p not in d.signatures]
    if unsigned:
        raise PreconditionError(f"{author} cannot endorse yet: {', '.join(unsigned)} still to sign")
    expected = sorted(d.signatures[p].event for p in d.party_codes())
    if sorted(_strs(body, "signs")) != expected:
        raise PreconditionError(
            f"{author}'s endorsement must name exactly the parties' sign events"
        )
    if author in d.endorsements:
        raise IllegalMoveError(f"{author} has already endorsed")
    d.endorsements[author] = _attest(ev)
    d.update_force()


def _pen_rule(d: _Draft) -> str:
    if d.charter.pen is PenRule.MEDIATOR:
        return "under the mediator pen rule only a mediator holds the pen"
    holders = ", ".join(sorted(d.pen)) or "no party yet"
    return f"the pen is with the mediators and {holders}"


HANDLERS: Mapping[EventType, Handler] = MappingProxyType({
    EventType.JOIN: _join, EventType.PROPOSE: _propose, EventType.SEND: _send,
    EventType.AMEND: _amend, EventType.ACCEPT: _accept, EventType.CONFIRM: _confirm,
    EventType.REJECT: _reject, EventType.INTEGRATE: _integrate, EventType.COMMENT: _comment,
    EventType.STATEMENT: _statement, EventType.SUSPEND: _suspend, EventType.RESUME: _resume,
    EventType.TERMINATE: _terminate, EventType.FINALIZE: _finalize, EventType.SIGN: _sign,
    EventType.RATIFY: _ratify, EventType.WITNESS: _witness, EventType.ENDORSE: _endorse,
})  # fmt: skip
