"""What each participant still has to do, derived from the state (for status pages and commands).

Nothing here is a rule: the protocol decides what is allowed. The agenda only reads the state and
says, in words, what is waiting for whom, so a delegation sees at a glance what waits for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from parley.core import policy
from parley.core.charter import Role
from parley.core.event import EventType
from parley.core.integration import integrated, is_return_of
from parley.core.protocol import Mode, Phase, State, Version, firm_acceptors, pen_holders


@dataclass(frozen=True, slots=True)
class Task:
    """One thing a participant is expected to do."""

    code: str
    what: str
    deadline: str | None = None


def agenda(state: State) -> list[Task]:
    """Every open task, by participant in charter order."""
    tasks: list[Task] = []
    if state.phase is Phase.CONVENING:
        tasks += [
            Task(c, "join the negotiation") for c in state.charter.codes() if c not in state.joined
        ]
    elif state.phase is Phase.OPEN:
        tasks += _drafting(state) + _reviews(state) + _integrations(state)
        tasks += _confirmations(state) + _finalize(state)
    elif state.phase is Phase.SUSPENDED:
        who = [state.suspended_by] if state.suspended_by else state.charter.codes(Role.MEDIATOR)
        tasks += [Task(c, "resume the talks when ready") for c in who]
    elif state.phase is Phase.SIGNING:
        tasks += _signing(state)
    order = {c: i for i, c in enumerate(state.charter.codes())}
    return sorted(tasks, key=lambda t: order.get(t.code, 99))


def tabled(state: State) -> Version | None:
    """The latest negotiating text: proposed or integrated, not a delegation's return."""
    versions = [v for v in state.versions.values() if v.move is not EventType.AMEND]
    return versions[-1] if versions else None


def _drafting(state: State) -> list[Task]:
    """For whoever holds the pen: the first draft, or sending the latest text for review."""
    latest = tabled(state)
    if latest is None:
        return [Task(c, "propose the first draft") for c in pen_holders(state)]
    if latest.hash in state.sent or state.responded.get(latest.hash):
        return []
    what = f"send version {latest.hash[:8]}… for review"
    return [Task(c, what) for c in pen_holders(state)]


def _reviews(state: State) -> list[Task]:
    return [
        Task(code, f"review version {v[:8]}…: amend, accept or reject", state.deadlines.get(v))
        for v, code in pending_reviews(state)
    ]


def pending_reviews(state: State) -> list[tuple[str, str]]:
    """(version, participant) for each version sent and not yet answered, while the talks are
    open; a version is superseded, for a participant, once a later one was sent to it or
    answered by it."""
    if state.phase is not Phase.OPEN:
        return []
    order = {version: i for i, version in enumerate(state.versions)}
    latest: dict[str, int] = {}
    for table in (state.sent, state.responded):
        for version, codes in table.items():
            for code in codes:
                latest[code] = max(latest.get(code, -1), order.get(version, -1))
    return [
        (version, code)
        for version, recipients in state.sent.items()
        for code in sorted(recipients - state.responded.get(version, frozenset()))
        if order.get(version, -1) >= latest.get(code, -1)
    ]


def _integrations(state: State) -> list[Task]:
    """Returns to a version every recipient has answered, not yet integrated: for the
    mediators who hold the pen. Returns to a version sent before the latest version sent are
    superseded by it (the table moved on), as reviews are by a later version sent."""
    merged = integrated(state.versions.values())
    order = {version: i for i, version in enumerate(state.versions)}
    current = max((order.get(version, -1) for version in state.sent), default=-1)
    out = []
    for version, recipients in state.sent.items():
        if order.get(version, -1) < current:
            continue  # superseded
        if recipients - state.responded.get(version, frozenset()):
            continue  # answers are still due: the reviews say whose
        returns = [
            v for v in state.versions.values() if is_return_of(v, version) and v.hash not in merged
        ]
        if returns:
            by = ", ".join(sorted({v.author for v in returns}))
            out += [
                Task(c, f"integrate the returns to version {version[:8]}… ({by})")
                for c in _mediators_with_pen(state)
            ]
    return out


def _mediators_with_pen(state: State) -> list[str]:
    return [c for c in pen_holders(state) if c in state.charter.codes(Role.MEDIATOR)]


def _confirmations(state: State) -> list[Task]:
    out = []
    for party, held in state.acceptances.items():
        for version, acc in held.items():
            if (
                acc.mode is Mode.AD_REFERENDUM
                and acc.confirmed_by is None
                and acc.withdrawn_by is None
            ):
                out.append(Task(party, f"confirm the ad referendum acceptance of {version[:8]}…"))
    return out


def _finalize(state: State) -> list[Task]:
    parties = state.charter.codes(Role.PARTY)
    for version in state.versions:
        if len(firm_acceptors(state, version)) == len(parties):
            return [
                Task(c, f"finalize version {version[:8]}…, accepted by every party")
                for c in _mediators_with_pen(state)
            ]
    return []


def _signing(state: State) -> list[Task]:
    out = []
    for party in state.charter.codes(Role.PARTY):
        held = state.signatures.get(party)
        if held is None:
            out.append(Task(party, "sign the final text"))
        elif held.mode is Mode.AD_REFERENDUM and held.ratified_by is None:
            out.append(Task(party, "ratify the ad referendum signature"))
    out += _witnessing(state)
    if all(p in state.signatures for p in state.charter.codes(Role.PARTY)):
        out += [
            Task(g, "endorse the agreement and the parties' signatures")
            for g in state.charter.codes(Role.GUARANTOR)
            if g not in state.endorsements
        ]
    return out


def _witnessing(state: State) -> list[Task]:
    out = []
    for party in unwitnessed(state):
        done = state.witnesses.get(state.signatures[party].event, {})
        out += [
            Task(w, f"witness {party}'s signature")
            for w in state.charter.codes(Role.WITNESS)
            if w != party and w not in done
        ]
    return out


def unwitnessed(state: State) -> list[str]:
    """Parties whose signature the conclusion policy still wants witnessed (an ad referendum
    signature not yet ratified counts here: what it lacks is its ratification, not witnesses)."""
    _, findings = policy.evaluate(state.charter.policy, state.attestations().once_ratified())
    return [
        party for party in state.signatures
        if any(not f.holds and f.requirement.startswith(f"{party}'s signature") for f in findings)
    ]  # fmt: skip
