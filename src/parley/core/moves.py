"""Making moves: the body of each move, and the signed event that carries it.

A client (CLI, browser, demo, test) builds a move from its own view of the state: the next event
goes at ``state.seq`` after ``state.head``. If someone moved first, the protocol refuses it with a
``ConflictError`` and the client rebuilds it on the new state.
"""

from __future__ import annotations

from typing import Any

from parley.core import charter as charters
from parley.core import text as text_model
from parley.core.charter import Charter, PenRule
from parley.core.event import EventType, SignedEvent, parse_time, sign_event
from parley.core.keys import SigningKey
from parley.core.protocol import Mode, State
from parley.core.report import human_time
from parley.errors import InvalidInputError

Body = dict[str, Any]

SALT = "salt"
"""The body field that holds a restricted body's random salt (``salted``)."""


def salted(body: Body, audience: tuple[str, ...] | None, salt: str) -> Body:
    """``body`` with ``salt`` (random hex from the caller: 128 bits or more) when its audience is
    restricted. Every participant's copy of the envelope holds the body's hash; without something
    random in the body, one outside the audience could test guesses of its words against it
    (which option of a bracket a caucus return chose, a short statement). Public bodies carry
    none: everyone reads them anyway."""
    return body if audience is None else {**body, SALT: salt}


def convene(charter: Charter, key: SigningKey, author: str, time: str) -> SignedEvent:
    """The charter event that opens a negotiation (seq 0)."""
    charters.check(charter)
    return sign_event(
        key, negotiation=charter.id, seq=0, prev=None, type=EventType.CHARTER,
        author=author, time=time, body=charter.to_json(),
    )  # fmt: skip


def make(
    state: State,
    key: SigningKey,
    author: str,
    move: EventType,
    body: Body,
    time: str,
    audience: tuple[str, ...] | None = None,
) -> SignedEvent:
    """Sign the next event of the negotiation in ``state``."""
    return sign_event(
        key, negotiation=state.negotiation, seq=state.seq, prev=state.head, type=move,
        author=author, time=time, body=body, audience=audience,
    )  # fmt: skip


def join(state: State) -> Body:
    """Join: sign the charter's hash."""
    return {"charter": state.negotiation}


def version_body(text: text_model.Text) -> Body:
    """The fields every move that publishes a version carries (a new version may hold no
    invisible character that hides or reorders words: ``text.check_visible``)."""
    text_model.check_visible(text)
    return {"version": text_model.version_hash(text), "text": text_model.to_json(text)}


def propose(text: text_model.Text, parents: tuple[str, ...] = ()) -> Body:
    """Publish a version (its parents are the versions it was drafted from)."""
    return {**version_body(text), "parents": list(parents)}


def send(version: str, to: list[str], deadline: str | None = None, now: str | None = None) -> Body:
    """Send a version for review to ``to``; the disclosure record. A deadline already past at
    ``now`` (when the sender acts) is refused: nobody could meet it. (The rules do not check it
    when an event is applied: the time of reading is not the time of sending.)"""
    body: Body = {"version": version, "to": sorted(to)}
    if deadline is not None:
        if now is not None and parse_time(deadline) <= parse_time(now):
            raise InvalidInputError(
                f"the deadline {human_time(deadline)} has passed (it is {human_time(now)}): "
                "give a later one"
            )
        body["deadline"] = deadline
    return body


def returns_in_caucus(charter: Charter) -> bool:
    """Whether a return goes to the mediators alone unless its author says otherwise: in
    mediated talks, where the mediators forward what they choose (a caucus with each party)."""
    return charter.pen is PenRule.MEDIATOR


def amend(base: str, text: text_model.Text, note: str = "") -> Body:
    """Return an amended version against ``base``."""
    body = {**version_body(text), "base": base}
    if note:
        body["note"] = note
    return body


def accept(version: str, mode: Mode = Mode.FIRM) -> Body:
    """Accept a version, firmly or ad referendum."""
    return {"version": version, "mode": mode.value}


def confirm(version: str) -> Body:
    """Confirm an ad referendum acceptance."""
    return {"version": version}


def reject(version: str, reasons: str) -> Body:
    """Reject a version, with reasons."""
    return {"version": version, "reasons": reasons}


def integrate(
    base: str, returns: list[str], text: text_model.Text, decisions: list[dict[str, str]]
) -> Body:
    """Merge returned amendments into a new version, recording per-provision decisions."""
    return {**version_body(text), "base": base, "returns": returns, "decisions": decisions}


def comment(version: str, provision: str, words: str) -> Body:
    """A non-binding note anchored to a provision of a version."""
    return {"version": version, "provision": provision, "text": words}


def comment_audience(state: State, version: str) -> tuple[str, ...] | None:
    """Who a comment on ``version`` is for: the readers of a confidential version (a public
    comment names its hash, which lets everyone test guesses of its text), else everyone."""
    registered = state.versions.get(version)
    return None if registered is None else registered.audience


def statement(words: str) -> Body:
    """A unilateral, non-binding declaration."""
    return {"text": words}


def suspend(reason: str) -> Body:
    """Suspend the talks (a party suspending walks out)."""
    return {"reason": reason}


def resume(note: str = "") -> Body:
    """Resume the talks."""
    return {"note": note} if note else {}


def terminate(reason: str) -> Body:
    """End the talks."""
    return {"reason": reason}


def finalize(text: text_model.Text) -> Body:
    """Freeze the final text."""
    return version_body(text)


def sign(version: str, mode: Mode = Mode.FIRM) -> Body:
    """Sign the final text."""
    return {"version": version, "mode": mode.value}


def ratify(sign_event_hash: str) -> Body:
    """Ratify an ad referendum signature."""
    return {"sign": sign_event_hash}


def witness(sign_event_hash: str) -> Body:
    """Attest one specific party signature."""
    return {"sign": sign_event_hash}


def endorse(version: str, sign_events: list[str]) -> Body:
    """Endorse the final text and the parties' signatures."""
    return {"version": version, "signs": sorted(sign_events)}
