"""The agreement bundle: one file to verify a concluded agreement offline, and its verifier.

A bundle holds every event envelope of the negotiation from the charter on (so the hash chain is
whole), the bodies of the events that decide the outcome (charter, joins, sends, acceptances,
finalize, signatures, witness attestations, endorsements, public statements), and, when the log
is available, a c2sp.org/tlog-proof for each event against one checkpoint cosigned by log
witnesses. Draft texts and caucus bodies stay out: their envelopes and body hashes are enough.

``check_bundle`` replays the rules over the events (``protocol.fold``), evaluates the conclusion
policy and the log proofs, and returns a ``Report`` a non-technical reader can follow. It never
raises for bad input: a malformed or tampered bundle is a report that says what failed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from parley.core import policy, protocol, report_data, tlogpolicy
from parley.core import text as text_model
from parley.core.charter import Role
from parley.core.event import EventType, SignedEvent, event_from_json
from parley.core.json_fields import parse_json
from parley.core.log_evidence import LogEvidence, check_log
from parley.core.report import Line, human_time
from parley.errors import (
    EquivocationError,
    InvalidInputError,
    LimitExceededError,
    NotFoundError,
    ParleyError,
    ProofError,
    ProtocolError,
    SignatureError,
    VerificationError,
)

BUNDLE_FORMAT = "parley/bundle/v1"
TRUST = (
    "Who holds each key below is as the charter says, and the charter is what the convener "
    "wrote: compare the negotiation id, or the keys, with those the parties gave you themselves. "
    "Each time below is the one its author wrote into the event: the log proves the order of the "
    "events, not their times."
)
"""What a bundle cannot prove, said beside every report that names the participants."""
MAX_BUNDLE_BYTES = 64 * 2**20


class Verdict(StrEnum):
    """The bottom line of a verification; the CLI's exit codes are 0, 1 and 2."""

    IN_FORCE = "in_force"
    NOT_IN_FORCE = "not_in_force"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class Report:
    """What a verifier needs to know, in words and as data."""

    verdict: Verdict
    title: str = ""
    negotiation: str = ""
    final_version: str | None = None
    problem: str | None = None
    parties: tuple[Line, ...] = ()
    requirements: tuple[Line, ...] = ()
    attestations: tuple[Line, ...] = ()
    statements: tuple[Line, ...] = ()
    log: tuple[Line, ...] = ()
    events: int = 0
    final_text: text_model.Text | None = field(default=None, compare=False)
    last_event: str = ""
    """When the record in the file ends, as a reader writes it (its last event's time)."""
    sha256: str = ""
    """The SHA-256 of the file's bytes, as a finding cites the file it is about."""
    size: int = 0
    acts: tuple[dict[str, Any], ...] = field(default=(), compare=False)
    """Each act that decides the outcome, as data (``report_data.acts``)."""
    checkpoint: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def as_of(self) -> str:
        """What every verdict is about: the record as far as the file holds it."""
        if not self.events or not self.last_event:
            return ""
        return (
            f"The file holds the record up to event {self.events - 1} ({self.last_event}). It "
            "cannot show that no later event exists (a statement or a withdrawal, say): a bundle "
            "of this negotiation exported later, by a participant or from its server, would."
        )

    @property
    def verifier(self) -> str:
        """What checked the file (this program and its version)."""
        return report_data.VERIFIER

    def to_json(self) -> dict[str, Any]:
        """The same report as data (``parley verify --json``)."""

        def lines(xs: tuple[Line, ...]) -> list[dict[str, Any]]:
            return [
                {
                    "text": x.text,
                    "holds": x.holds,
                    "caution": x.caution,
                    "detail": x.detail,
                    "depth": x.depth,
                }
                for x in xs
            ]

        return {
            "format": report_data.REPORT_FORMAT, "verifier": self.verifier,
            "bundle": {"sha256": self.sha256, "bytes": self.size},
            "verdict": self.verdict.value, "title": self.title, "negotiation": self.negotiation,
            "final_version": self.final_version, "problem": self.problem, "events": self.events,
            "as_of": self.as_of, "trust": TRUST if self.parties else None,
            "participants": lines(self.parties), "requirements": lines(self.requirements),
            "attestations": lines(self.attestations), "statements": lines(self.statements),
            "log": lines(self.log), "acts": list(self.acts), "checkpoint": self.checkpoint,
        }  # fmt: skip


# --- building -----------------------------------------------------------------------------------

KEEP_BODY = protocol.NEEDS_BODY | {EventType.FINALIZE}


def build_bundle(events: Sequence[SignedEvent], proofs: Sequence[str] | None = None) -> bytes:
    """Serialize a bundle: all envelopes, outcome bodies and public statements, optional proofs.

    ``proofs`` are tlog-proof texts, one per event, in event order.
    """
    if proofs is not None and len(proofs) != len(events):
        raise InvalidInputError(f"{len(proofs)} log proofs for {len(events)} events")
    doc: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "negotiation": events[0].envelope.negotiation if events else "",
        "events": [e.to_json(with_body=_keeps_body(e)) for e in events],
    }
    if proofs is not None:
        doc["proofs"] = list(proofs)
    return (json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=True) + "\n").encode()


def _keeps_body(event: SignedEvent) -> bool:
    env = event.envelope
    if env.type in KEEP_BODY:
        return True
    return env.type is EventType.STATEMENT and env.audience is None


# --- checking -----------------------------------------------------------------------------------


def parse_bundle(data: bytes) -> tuple[list[SignedEvent], list[str] | None]:
    """Parse a bundle's events and proofs strictly; raise InvalidInputError naming the fault."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise InvalidInputError(
            f"the bundle is larger than {MAX_BUNDLE_BYTES:,} bytes, the most a bundle may be"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"the bundle is not UTF-8 text (byte {exc.start})") from None
    doc = parse_json(text, "the bundle")
    if not isinstance(doc, dict) or doc.get("format") != BUNDLE_FORMAT:
        raise InvalidInputError(
            f"not a Parley agreement bundle (expected format {BUNDLE_FORMAT!r})"
        )
    extra = set(doc) - {"format", "negotiation", "events", "proofs"}
    if extra:
        raise InvalidInputError(f"bundle has unexpected fields: {', '.join(sorted(extra))}")
    raw = doc.get("events")
    if not isinstance(raw, list) or not raw:
        raise InvalidInputError("bundle.events must be a non-empty list")
    events = [_event(e, i) for i, e in enumerate(raw)]
    if doc.get("negotiation") != events[0].envelope.negotiation:
        raise InvalidInputError("bundle.negotiation does not match its events")
    _check_chain(events)
    proofs = doc.get("proofs")
    if proofs is not None and (
        not isinstance(proofs, list) or not all(isinstance(p, str) for p in proofs)
    ):
        raise InvalidInputError("bundle.proofs must be a list of tlog-proof texts")
    return events, proofs


def _check_chain(events: Sequence[SignedEvent]) -> None:
    """The events are the whole chain from the charter, in order: each the next number, each
    naming the one before it (the rules then check everything else about them)."""
    for i, event in enumerate(events):
        env = event.envelope
        if env.seq != i:
            raise InvalidInputError(
                f"the file's event {i} is numbered {env.seq}: an event is missing, repeated or "
                "out of order"
            )
        if i and env.prev != events[i - 1].hash:
            # an altered event is the fault to name: an earlier one, or this one
            protocol.check_signature(protocol.fold(events[:i]), event)
            before = events[i - 1].envelope
            raise InvalidInputError(
                f"event {i} ({env.type} by {env.author}) follows another event {i - 1} than the "
                f"file's ({before.type} by {before.author}, validly signed): one of the two was "
                "replaced"
            )


def _event(obj: object, i: int) -> SignedEvent:
    try:
        return event_from_json(obj)
    except InvalidInputError as exc:
        said = str(exc)
        where = "" if said.startswith((f"event {i}:", f"event {i} (")) else f"event {i}: "
        raise InvalidInputError(where + said) from exc


def check_bundle(
    data: bytes, *, witness_policy: str | None = None, negotiation: str | None = None
) -> Report:
    """Verify a bundle completely; a report, never an exception.

    ``negotiation`` is the id (or its start) of the negotiation the verifier expects, as they
    learned it from a source of their own: a bundle of any other is refused, however valid.
    """
    report = _checked(data, witness_policy, negotiation)
    return replace(report, sha256=hashlib.sha256(data).hexdigest(), size=len(data))


def _checked(data: bytes, witness_policy: str | None, negotiation: str | None) -> Report:
    if witness_policy is not None:
        try:
            tlogpolicy.parse_policy(witness_policy)
        except InvalidInputError as exc:
            return Report(Verdict.INVALID, problem=f"your witness policy cannot be used: {exc}")
    try:
        events, proofs = parse_bundle(data)
        state = protocol.fold(events)
        evidence = check_log(state.charter, events, proofs, witness_policy)
        if negotiation is not None and not state.negotiation.startswith(negotiation.lower()):
            return Report(Verdict.INVALID, state.charter.title, state.negotiation,
                          problem=f"this is negotiation {state.negotiation}, not the one you "
                          f"expect ({negotiation})", events=len(events))  # fmt: skip
        return _report(state, events, evidence)
    except (ParleyError, RecursionError) as exc:
        return Report(Verdict.INVALID, problem=_plain(exc))
    except Exception as exc:  # a fault of ours a crafted file found: still a verdict, not a crash
        return Report(Verdict.INVALID, problem=f"cannot be checked: {type(exc).__name__} ({exc})")


def _plain(exc: BaseException) -> str:
    """What is wrong, for a person: what kind of fault, then where and what."""
    if isinstance(exc, RecursionError):
        return "the bundle nests too deeply to be read"
    kind = next((said for cls, said in FAULTS if isinstance(exc, cls)), "invalid")
    return f"{kind}: {exc}"


FAULTS: tuple[tuple[type[ParleyError], str], ...] = (
    (InvalidInputError, "malformed or altered"),
    (SignatureError, "a signature does not verify"),
    (ProofError, "a log proof does not verify"),
    (EquivocationError, "the log signed two histories"),
    (VerificationError, "does not verify"),
    (ProtocolError, "against the negotiation's rules"),
    (NotFoundError, "incomplete"),
    (LimitExceededError, "cannot be read"),
)
"""The kind of fault a bundle has, by the error that found it (the first that applies)."""


def _report(state: protocol.State, events: list[SignedEvent], evidence: LogEvidence) -> Report:
    if state.final is None:  # an authentic record of talks that have not (yet) agreed a text
        return Report(Verdict.NOT_IN_FORCE, state.charter.title, state.negotiation,
                      problem="no text has been finalized: this record holds no agreement (yet)",
                      parties=tuple(_participants(state)),
                      statements=tuple(_statement_lines(state)), log=evidence.lines,
                      events=len(events), last_event=human_time(state.time),
                      checkpoint=evidence.checkpoint)  # fmt: skip
    holds, findings = policy.evaluate(state.charter.policy, state.attestations())
    verdict = Verdict.IN_FORCE if holds and evidence.holds else Verdict.NOT_IN_FORCE
    unmet = None if holds else _unmet(state)
    problem = evidence.problem or (None if unmet is None else f"not yet met: {unmet}")
    return Report(
        verdict=verdict,
        title=state.charter.title,
        negotiation=state.negotiation,
        final_version=state.final,
        problem=problem,
        parties=tuple(_participants(state)),
        requirements=tuple(Line(f.requirement, f.holds, f.detail, f.depth) for f in findings),
        attestations=tuple(_attestation_lines(state)),
        statements=tuple(_statement_lines(state)),
        log=evidence.lines,
        events=len(events),
        final_text=state.final_text,
        last_event=human_time(state.time),
        acts=tuple(report_data.acts(state, events)),
        checkpoint=evidence.checkpoint,
    )


def _unmet(state: protocol.State) -> str | None:
    """What is still missing, in words: each ad referendum signature awaiting its ratification,
    then the requirements not met even once those are ratified, those that have none below them
    (not "all of the following")."""
    facts = state.attestations()
    _, findings = policy.evaluate(state.charter.policy, facts.once_ratified())
    unmet = [f"{party} ratifies its ad referendum signature" for party in facts.unratified]
    unmet += [
        found.requirement
        for i, found in enumerate(findings)
        if not found.holds and (i + 1 == len(findings) or findings[i + 1].depth <= found.depth)
    ]
    return "; ".join(unmet) or None


def _participants(state: protocol.State) -> list[Line]:
    out = []
    for p in state.charter.participants:
        roles = ", ".join(r.value for r in p.roles)
        joined = p.code in state.joined
        keys = ", ".join(k.vkey() for k in p.keys)
        said = "joined" if joined else "never joined"
        out.append(Line(f"{p.code} — {p.name} ({roles})", joined, f"{said}; key {keys}"))
    return out


def _attestation_lines(state: protocol.State) -> list[Line]:
    out: list[Line] = []
    final = state.final or ""
    for party in state.charter.codes(Role.PARTY):
        acc = state.acceptances.get(party, {}).get(final)
        if acc is not None:
            how = "firmly" if acc.mode is protocol.Mode.FIRM else "ad referendum, then confirmed"
            out.append(Line(f"{party} accepted the final text {how}", acc.firm))
        sig = state.signatures.get(party)
        if sig is None:
            out.append(Line(f"{party} has not signed", False))
            continue
        out.append(_signature_line(party, sig))
        for w, att in sorted(state.witnesses.get(sig.event, {}).items()):
            out.append(
                Line(f"{w} witnessed {party}'s signature", True, f"on {human_time(att.time)}", 1)
            )
    for g, att in sorted(state.endorsements.items()):
        out.append(
            Line(
                f"{g} endorsed the agreement and the parties' signatures",
                True,
                f"on {human_time(att.time)}",
            )
        )
    return out


def _on(time: str) -> str:
    return f"on {human_time(time)}"


def _signature_line(party: str, sig: protocol.Attestation) -> Line:
    if sig.mode is protocol.Mode.AD_REFERENDUM:
        ratified = sig.ratified_by is not None
        detail = "ratified" if ratified else "ad referendum, not yet ratified"
        return Line(f"{party} signed on {human_time(sig.time)} (key {sig.key})", ratified, detail)
    return Line(f"{party} signed on {human_time(sig.time)} (key {sig.key})", True, "firm")


def _statement_lines(state: protocol.State) -> list[Line]:
    return [_statement_line(s) for s in state.statements]


def _statement_line(statement: protocol.Statement) -> Line:
    said = f"“{statement.text}”" if statement.text is not None else (
        "a statement whose words are not in this file"
    )  # fmt: skip
    return Line(f"{statement.author} on {human_time(statement.time)}: {said}", True, "not binding")
