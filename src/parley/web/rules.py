"""The rules table as the pages need it: which moves to offer, and which to refuse early."""

from __future__ import annotations

from typing import Any

from parley.core import protocol
from parley.core import text as text_model
from parley.core.agenda import pending_reviews, unwitnessed
from parley.core.charter import Role
from parley.core.event import EventType
from parley.core.protocol import Mode, Phase
from parley.errors import (
    IllegalMoveError,
    UnauthorizedMoveError,
)
from parley.web.caller import Room


def allowed(room: Room, move: EventType) -> bool:
    """The rules table allows the caller this move now (its own preconditions aside)."""
    rule = protocol.RULES[move]
    if room.state.phase not in rule.phases:
        return False
    if move is not EventType.JOIN and room.me.code not in room.state.joined:
        return False
    if move in PEN_MOVES and room.me.code not in protocol.pen_holders(room.state):
        return False
    return rule.roles is None or any(room.me.has(r) for r in rule.roles)


PEN_MOVES = frozenset({EventType.PROPOSE, EventType.SEND})
"""The moves only whoever holds the pen makes."""


def check_rule(room: Room, move: EventType) -> None:
    rule = protocol.RULES[move]
    phase = "in force" if room.state.phase is Phase.IN_FORCE else room.state.phase.value
    if room.state.phase not in rule.phases:
        raise IllegalMoveError(f"you cannot {move} while the negotiation is {phase}")
    if move is not EventType.JOIN and room.me.code not in room.state.joined:
        raise IllegalMoveError(f"join the negotiation before you {move}")
    if rule.roles is not None and not any(room.me.has(r) for r in rule.roles):
        who = " or ".join(f"a {r}" for r in sorted(rule.roles))
        raise UnauthorizedMoveError(f"{room.me.code} cannot {move}: only {who} can")
    holders = protocol.pen_holders(room.state)
    if move in PEN_MOVES and room.me.code not in holders:
        raise IllegalMoveError(
            f"{room.me.code} cannot {move}: the pen is with {', '.join(holders)}"
        )


def sent_to_me(room: Room) -> list[str]:
    """Versions waiting for the caller's review (answered and superseded ones are not)."""
    state, me = room.state, room.me.code
    return [v for v, code in pending_reviews(state) if code == me and v in state.texts]


def pending_confirmations(room: Room) -> list[str]:
    held = room.state.acceptances.get(room.me.code, {})
    return [
        v
        for v, a in held.items()
        if a.mode is Mode.AD_REFERENDUM and a.confirmed_by is None and a.withdrawn_by is None
    ]


def finalizable(room: Room) -> list[str]:
    parties = room.state.charter.codes(Role.PARTY)
    return [
        v
        for v in room.state.versions
        if v in room.state.texts
        and text_model.is_clean(room.state.texts[v])
        and len(protocol.firm_acceptors(room.state, v)) == len(parties)
    ]


def attestation_moves(room: Room) -> dict[str, Any]:
    """Which of sign, ratify, witness and endorse the caller may make now."""
    state, code = room.state, room.me.code
    signing = state.phase in (Phase.SIGNING, Phase.IN_FORCE)
    mine = state.signatures.get(code)
    parties = state.charter.codes(Role.PARTY)
    wanted = unwitnessed(state)
    witnessable = [
        {"party": p, "event": a.event, "needed": p in wanted}
        for p, a in state.signatures.items()
        if p != code and code not in state.witnesses.get(a.event, {})
    ]
    moves: dict[str, Any] = {
        "sign": signing and room.me.has(Role.PARTY) and mine is None,
        "ratify": bool(mine and mine.mode is Mode.AD_REFERENDUM and mine.ratified_by is None),
        "witness": witnessable if signing and room.me.has(Role.WITNESS) else [],
        "endorse": signing
        and room.me.has(Role.GUARANTOR)
        and code not in state.endorsements
        and all(p in state.signatures for p in parties),
    }
    # an attestation the policy no longer needs is offered as optional, not as a task
    moves["due"] = bool(
        moves["sign"] or moves["ratify"] or moves["endorse"]
        or any(w["needed"] for w in moves["witness"])
    )  # fmt: skip
    return moves
