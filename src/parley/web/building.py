"""Building moves to sign: each form becomes a body, and the envelope the browser signs.

The server only proposes: ``signing.js`` recomputes the body hash and refuses to sign a body
it was not shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from parley.core import (
    integration,
    moves,
    textformat,
)
from parley.core import text as text_model
from parley.core.charter import Role
from parley.core.event import (
    Envelope,
    EventType,
    body_hash,
    check_envelope,
    parse_time,
)
from parley.core.protocol import Mode
from parley.core.report import human_time
from parley.errors import (
    InvalidInputError,
    PreconditionError,
)
from parley.web.amending import check_as_author, parse_ops, working_text
from parley.web.caller import Room, form_version
from parley.web.forms import Form
from parley.web.integrating import merge_returns
from parley.web.site import short


@dataclass(frozen=True, slots=True)
class Proposal:
    """A body to sign, who may read it, and what it means in words."""

    body: dict[str, Any]
    audience: tuple[str, ...] | None
    summary: str


def _audience(room: Room, form: Form) -> tuple[str, ...] | None:
    if form.get("audience") != "caucus":
        return None
    return tuple(sorted({room.me.code, *room.state.charter.codes(Role.MEDIATOR)}))


def _mode(form: Form) -> Mode:
    value = form.get("mode", Mode.FIRM.value)
    if value not in (Mode.FIRM.value, Mode.AD_REFERENDUM.value):
        raise InvalidInputError(f"mode must be firm or ad_referendum, found {value!r}")
    return Mode(value)


def _mode_words(mode: Mode) -> str:
    return (
        "ad referendum (pending your capital's confirmation)"
        if mode is Mode.AD_REFERENDUM
        else "firmly"
    )


def _join(room: Room, form: Form) -> Proposal:
    return Proposal(
        moves.join(room.state),
        None,
        f"Join the negotiation: sign the charter's hash {short(room.nid)}",
    )


def _accept(room: Room, form: Form) -> Proposal:
    version, mode = form_version(room, form), _mode(form)
    return Proposal(
        moves.accept(version, mode), None, f"Accept version {short(version)} {_mode_words(mode)}"
    )


def _confirm(room: Room, form: Form) -> Proposal:
    version = form_version(room, form)
    return Proposal(
        moves.confirm(version), None, f"Confirm your ad referendum acceptance of {short(version)}"
    )


def _reject(room: Room, form: Form) -> Proposal:
    version = form_version(room, form)
    reasons = form.words("reasons", "the reasons for rejecting")
    return Proposal(
        moves.reject(version, reasons), None, f"Reject version {short(version)}: {reasons}"
    )


def _comment(room: Room, form: Form) -> Proposal:
    version = form_version(room, form)
    provision = form.required("provision", "the provision the comment is about")
    if text_model.find(room.text(version), provision) is None:
        raise InvalidInputError(f"version {short(version)} has no provision {provision!r}")
    words = form.words("text", "the comment")
    audience = moves.comment_audience(room.state, version) or _audience(room, form)
    return Proposal(
        moves.comment(version, provision, words),
        audience,
        f"Comment on {provision} (not binding): {words}",
    )


def _statement(room: Room, form: Form) -> Proposal:
    words = form.words("text", "the statement")
    return Proposal(
        moves.statement(words),
        _audience(room, form),
        f"Make a unilateral statement (recorded, never binding): {words}",
    )


def _send(room: Room, form: Form) -> Proposal:
    version = form_version(room, form)
    to = sorted(set(form.getlist("to")))
    if not to:
        raise InvalidInputError("choose at least one participant to send the version to")
    deadline = _deadline(form.get("deadline").strip())
    body = moves.send(version, to, deadline, room.ctx.services.now())
    due = f", reply by {human_time(deadline)}" if deadline else ""
    return Proposal(body, None, f"Send version {short(version)} to {', '.join(to)}{due}")


def _deadline(value: str) -> str | None:
    """A datetime-local value read as UTC (``2026-11-29T09:30``) as an event time."""
    if not value:
        return None
    stamp = value if value.endswith("Z") else value + (":00Z" if len(value) == 16 else "Z")
    parse_time(stamp)
    return stamp


def _suspend(room: Room, form: Form) -> Proposal:
    reason = " ".join(form.get("reason").split())
    if not room.me.has(Role.MEDIATOR) and not reason:
        raise InvalidInputError("give a reason to walk out: it goes on the record")
    what = "Suspend the talks" if room.me.has(Role.MEDIATOR) else "Walk out (suspend the talks)"
    return Proposal(moves.suspend(reason), None, f"{what}: {reason or 'no reason given'}")


def _resume(room: Room, form: Form) -> Proposal:
    note = " ".join(form.get("note").split())
    return Proposal(moves.resume(note), None, "Resume the talks" + (f": {note}" if note else ""))


def _terminate(room: Room, form: Form) -> Proposal:
    reason = form.words("reason", "the reason for ending the talks")
    return Proposal(moves.terminate(reason), None, f"End the talks for good: {reason}")


def _finalize(room: Room, form: Form) -> Proposal:
    version = form_version(room, form)
    return Proposal(
        moves.finalize(room.text(version)),
        None,
        f"Finalize version {short(version)}: it becomes the final text",
    )


def _sign(room: Room, form: Form) -> Proposal:
    final, mode = _final(room), _mode(form)
    return Proposal(
        moves.sign(final, mode), None, f"Sign the final text {short(final)} {_mode_words(mode)}"
    )


def _final(room: Room) -> str:
    if room.state.final is None:
        raise PreconditionError("there is no final text yet")
    return room.state.final


def _ratify(room: Room, form: Form) -> Proposal:
    mine = room.state.signatures.get(room.me.code)
    if mine is None:
        raise PreconditionError("you have not signed, so there is nothing to ratify")
    return Proposal(moves.ratify(mine.event), None, "Ratify your ad referendum signature")


def _witness(room: Room, form: Form) -> Proposal:
    sign = form.required("sign", "the signature to witness")
    party = next((p for p, a in room.state.signatures.items() if a.event == sign), None)
    if party is None:
        raise PreconditionError(f"{short(sign)} is not a party's signature")
    return Proposal(moves.witness(sign), None, f"Witness {party}'s signature (event {short(sign)})")


def _endorse(room: Room, form: Form) -> Proposal:
    final = _final(room)
    signs = [a.event for a in room.state.signatures.values()]
    return Proposal(
        moves.endorse(final, signs), None, "Endorse the agreement and the parties' signatures"
    )


def _amend(room: Room, form: Form) -> Proposal:
    base = form_version(room, form, "base")
    text = working_text(room, base, parse_ops(form.get("ops", "[]")))
    if text == room.text(base):
        raise InvalidInputError("nothing has changed: make a change before signing an amendment")
    note = " ".join(form.get("note").split())
    version = text_model.version_hash(text)
    return Proposal(
        moves.amend(base, text, note),
        _audience(room, form),
        f"Return amended version {short(version)} against {short(base)}",
    )


def _propose(room: Room, form: Form) -> Proposal:
    if form.get("source").strip():
        text = textformat.parse(form.get("source"))
        readable = [room.text(v) for v in room.state.versions if v in room.state.texts]
        check_as_author(room, readable, text)  # drafted from any version the caller can read
        parents = (form_version(room, form, "base"),) if form.get("base").strip() else ()
        version = text_model.version_hash(text)
        if version in room.state.versions:
            raise InvalidInputError(f"version {short(version)} is already on the record")
        drafted = f", drafted from {short(parents[0])}" if parents else ""
        return Proposal(
            moves.propose(text, parents),
            _audience(room, form),
            f"Propose version {short(version)}{drafted}",
        )
    base = form_version(room, form, "base")
    text = working_text(room, base, parse_ops(form.get("ops", "[]")))
    version = text_model.version_hash(text)
    if version in room.state.versions:
        raise InvalidInputError(f"version {short(version)} is already on the record")
    return Proposal(
        moves.propose(text, (base,)),
        _audience(room, form),
        f"Propose version {short(version)}, drafted from {short(base)}",
    )


def _integrate(room: Room, form: Form) -> Proposal:
    merged = merge_returns(room, form)
    if not merged.returns:
        raise InvalidInputError("choose the returned amendments to integrate")
    body = moves.integrate(merged.base, merged.returns, merged.text, merged.decisions)
    version = text_model.version_hash(merged.text)
    audience = _audience(room, form)
    count = f"{len(merged.returns)} return{'s' if len(merged.returns) != 1 else ''}"
    summary = f"Integrate {count} into version {short(version)}"
    notes = integration.published(room.state.versions, merged.returns, audience)
    return Proposal(body, audience, ". Note: ".join([summary, *notes]))


Builder = Callable[[Room, Form], Proposal]


BUILDERS: Mapping[EventType, Builder] = {
    EventType.JOIN: _join,
    EventType.ACCEPT: _accept,
    EventType.CONFIRM: _confirm,
    EventType.REJECT: _reject,
    EventType.COMMENT: _comment,
    EventType.STATEMENT: _statement,
    EventType.SEND: _send,
    EventType.SUSPEND: _suspend,
    EventType.RESUME: _resume,
    EventType.TERMINATE: _terminate,
    EventType.FINALIZE: _finalize,
    EventType.SIGN: _sign,
    EventType.RATIFY: _ratify,
    EventType.WITNESS: _witness,
    EventType.ENDORSE: _endorse,
    EventType.AMEND: _amend,
    EventType.PROPOSE: _propose,
    EventType.INTEGRATE: _integrate,
}

"""Every move a page can prepare on a negotiation (a charter is prepared by ``convene``)."""


def envelope_for(room: Room, move: EventType, proposal: Proposal) -> Envelope:
    """The next event's envelope, on the state the caller sees (its own time never earlier)."""
    state = room.state
    time = room.ctx.services.now()
    if parse_time(time) < parse_time(state.time):
        time = state.time
    envelope = Envelope(
        negotiation=state.negotiation,
        seq=state.seq,
        prev=state.head,
        type=move,
        author=room.me.code,
        key=room.key.id_hex,
        time=time,
        audience=proposal.audience,
        body=body_hash(proposal.body),
    )
    check_envelope(envelope)
    return envelope
