"""A realistic mediated negotiation, played through the services: the demo and an end-to-end test.

Two parties (PK, AF) and two mediators who also witness and guarantee (QA, TR) negotiate the
bundled draft agreement on ending cross-border attacks: a first mediator draft, conflicting returns
that become bracketed options, a walk-out and a resumption, a non-binding statement, a compromise
text, an ad referendum acceptance confirmed a day later, finalize, signatures, witness
attestations, endorsements, and log checkpoints cosigned by two local log witnesses.

Every step is a real signed event checked by the real rules; ``steps`` yields one ``Step`` per move
so the caller can narrate it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources

from parley import services as svc
from parley.core import charter as charters
from parley.core import edit, integration, moves, textformat
from parley.core import text as text_model
from parley.core.charter import Charter, Participant, PenRule, Role
from parley.core.event import EventType as T
from parley.core.event import format_time
from parley.core.keys import SigningKey
from parley.core.protocol import Mode
from parley.core.text import Bracket, Options, Run, Text

DELEGATIONS = {
    "PK": ("Islamic Republic of Pakistan", (Role.PARTY,)),
    "AF": ("Afghanistan", (Role.PARTY,)),
    "QA": ("State of Qatar", (Role.MEDIATOR, Role.WITNESS, Role.GUARANTOR)),
    "TR": ("Republic of Türkiye", (Role.MEDIATOR, Role.WITNESS, Role.GUARANTOR)),
}
START = datetime(2026, 10, 15, 9, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Step:
    """One move of the scenario, for narration."""

    when: datetime
    who: str
    what: str
    detail: str = ""


class ScenarioClock:
    """The scenario's own time: it moves forward as the talks do."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=30)
        return self.now

    def advance(self, **delta: float) -> None:
        """Let time pass (days, hours…)."""
        self.now += timedelta(**delta)


def draft(name: str = "draft-v1.txt") -> Text:
    """A bundled example text."""
    data = resources.files("parley.examples").joinpath(name).read_bytes()
    return textformat.parse_bytes(data)


@dataclass
class Scenario:
    """The services to play into, each delegation's key, and the scenario clock."""

    services: svc.Services
    keys: dict[str, SigningKey]
    clock: ScenarioClock
    negotiation: str = ""
    versions: dict[str, str] = field(default_factory=dict)

    def act(
        self, code: str, move: T, body: dict[str, object], audience: tuple[str, ...] | None = None
    ) -> svc.Receipt:
        """Make a move as ``code``."""
        return self.services.act(self.negotiation, code, self.keys[code], move, body, audience)


def charter(keys: dict[str, SigningKey], log: svc.LogSetup | None, nonce: str) -> Charter:
    """The charter the mediators propose and every delegation joins."""
    participants = tuple(
        Participant(code, name, roles, (keys[code].public(),))
        for code, (name, roles) in DELEGATIONS.items()
    )
    return Charter(
        "Agreement on Ending Cross-Border Attacks and Restoring Good-Neighbourly Relations",
        nonce,
        participants,
        PenRule.MEDIATOR,
        charters.default_policy(participants),
        log.charter_log() if log else None,
    )


def steps(sc: Scenario, nonce: str) -> Iterator[Step]:
    """Play the whole negotiation, yielding each move as it is recorded."""
    yield from _convene(sc, nonce)
    yield from _first_round(sc)
    yield from _walk_out(sc)
    yield from _integration(sc)
    yield from _second_round(sc)
    yield from _conclusion(sc)


def _step(sc: Scenario, who: str, what: str, detail: str = "") -> Step:
    return Step(sc.clock.now, who, what, detail)


def _convene(sc: Scenario, nonce: str) -> Iterator[Step]:
    receipt = sc.services.open_negotiation(
        charter(sc.keys, sc.services.log_setup, nonce), sc.keys["QA"], "QA"
    )
    sc.negotiation = receipt.state.negotiation
    yield _step(
        sc, "QA", "convenes the talks", f"negotiation {sc.negotiation[:12]}…, pen rule: mediator"
    )
    for code in DELEGATIONS:
        sc.act(code, T.JOIN, moves.join(sc.services.state(sc.negotiation)))
    yield _step(sc, "PK, AF, QA, TR", "join, each signing the charter's hash", "the talks are open")


def _first_round(sc: Scenario) -> Iterator[Step]:
    v1 = draft()
    sc.versions["v1"] = version = text_model.version_hash(v1)
    st = text_model.status(v1)
    sc.clock.advance(days=1)
    sc.act("QA", T.PROPOSE, moves.propose(v1))
    yield _step(
        sc,
        "QA",
        "proposes the first mediator draft",
        f"v1 {version[:8]}…: {st.provisions} provisions, {st.brackets} brackets, "
        f"{st.options} option group, "
        f"{st.reservations} reservation",
    )
    deadline = sc.clock.now + timedelta(days=4)
    sc.act("QA", T.SEND, moves.send(version, ["AF", "PK"], format_time(deadline)))
    yield _step(sc, "QA", "sends v1 to PK and AF for review", f"replies due {deadline:%d %B}")
    caucus = {code: (code, "QA", "TR") for code in ("AF", "PK")}
    sc.clock.advance(days=2)
    af = _afghan_return(v1)
    sc.versions["af"] = text_model.version_hash(af)
    sc.act(
        "AF", T.AMEND, moves.amend(version, af, "Our changes to Articles 2, 3 and 8."), caucus["AF"]
    )
    yield _step(
        sc, "AF", "returns amendments in caucus with the mediators", f"{sc.versions['af'][:8]}…"
    )
    sc.clock.advance(days=1)
    pk = _pakistani_return(v1)
    sc.versions["pk"] = text_model.version_hash(pk)
    sc.act("PK", T.AMEND, moves.amend(version, pk, "Pakistan's amendments."), caucus["PK"])
    yield _step(
        sc, "PK", "returns amendments in caucus with the mediators", f"{sc.versions['pk'][:8]}…"
    )


def _walk_out(sc: Scenario) -> Iterator[Step]:
    sc.clock.advance(hours=5)
    reason = "Shelling of villages in Kunar province overnight; the delegation returns to Kabul."
    sc.act("AF", T.SUSPEND, moves.suspend(reason))
    yield _step(sc, "AF", "walks out; the talks are suspended", reason)
    sc.clock.advance(days=2)
    sc.act("TR", T.RESUME, moves.resume("Both delegations return after shuttle consultations."))
    yield _step(sc, "TR", "resumes the talks after shuttle consultations")


def _integration(sc: Scenario) -> Iterator[Step]:
    services, nid = sc.services, sc.negotiation
    v1 = services.version(nid, sc.versions["v1"])
    returns = [
        integration.Return("AF", services.version(nid, sc.versions["af"])),
        integration.Return("PK", services.version(nid, sc.versions["pk"])),
    ]
    result = integration.integrate(v1, returns, "TR")
    sc.versions["v2"] = v2 = text_model.version_hash(result.text)
    body = moves.integrate(
        sc.versions["v1"],
        [sc.versions["af"], sc.versions["pk"]],
        result.text,
        list(result.decisions),
    )
    sc.act("TR", T.INTEGRATE, body)
    where = ", ".join(sorted({c.provision or "text" for c in result.conflicts}))
    yield _step(
        sc,
        "TR",
        "integrates both returns into one negotiating text",
        f"v2 {v2[:8]}…: {len(result.conflicts)} clash(es) became bracketed options ({where})",
    )
    sc.act("TR", T.SEND, moves.send(v2, ["AF", "PK"]))
    yield _step(sc, "TR", "sends v2 to PK and AF")
    sc.clock.advance(hours=20)
    sc.act(
        "PK",
        T.COMMENT,
        moves.comment(
            v2,
            "art-water.2",
            "Pakistan can accept a notification duty only for works that appreciably "
            "reduce the flow.",
        ),
    )
    yield _step(sc, "PK", "comments on Article 8(2)", "non-binding, anchored to the provision")
    words = (
        "The Government of Afghanistan declares that it will not allow any group to use "
        "Afghan soil against Pakistan."
    )
    sc.act("AF", T.STATEMENT, moves.statement(words))
    yield _step(sc, "AF", "makes a unilateral statement", "recorded and shown, never binding")


def _second_round(sc: Scenario) -> Iterator[Step]:
    v2 = sc.services.version(sc.negotiation, sc.versions["v2"])
    v3 = compromise(v2)
    sc.versions["v3"] = version = text_model.version_hash(v3)
    sc.clock.advance(days=2)
    sc.act("QA", T.PROPOSE, moves.propose(v3, (sc.versions["v2"],)))
    yield _step(
        sc,
        "QA",
        "proposes a compromise text with every bracket resolved",
        f"v3 {version[:8]}… is clean",
    )
    sc.act("QA", T.SEND, moves.send(version, ["AF", "PK"]))
    sc.clock.advance(hours=6)
    sc.act("PK", T.ACCEPT, moves.accept(version))
    yield _step(sc, "PK", "accepts v3 firmly")
    sc.act("AF", T.ACCEPT, moves.accept(version, Mode.AD_REFERENDUM))
    yield _step(sc, "AF", "accepts v3 ad referendum", "pending approval in Kabul")
    sc.clock.advance(days=1)
    sc.act("AF", T.CONFIRM, moves.confirm(version))
    yield _step(
        sc,
        "AF",
        "confirms its acceptance a day later",
        "nothing is agreed until everything is agreed",
    )


def _conclusion(sc: Scenario) -> Iterator[Step]:
    version = sc.versions["v3"]
    final = sc.services.version(sc.negotiation, version)
    sc.clock.advance(days=2)
    sc.act("QA", T.FINALIZE, moves.finalize(final))
    yield _step(sc, "QA", "finalizes v3: the final text is frozen", f"{version}")
    signs = {p: sc.act(p, T.SIGN, moves.sign(version)).event.hash for p in ("PK", "AF")}
    yield _step(sc, "PK, AF", "sign the final text with their own keys")
    sc.act("QA", T.WITNESS, moves.witness(signs["PK"]))
    sc.act("TR", T.WITNESS, moves.witness(signs["AF"]))
    yield _step(
        sc, "QA, TR", "witness the signatures", "QA attests PK's signature, TR attests AF's"
    )
    for g in ("QA", "TR"):
        sc.act(g, T.ENDORSE, moves.endorse(version, list(signs.values())))
    state = sc.services.state(sc.negotiation)
    yield _step(
        sc,
        "QA, TR",
        "endorse the agreement as guarantors",
        f"the agreement is {state.phase.value.replace('_', ' ')}",
    )
    stored = sc.services.publish()
    if stored is not None:
        yield _step(
            sc,
            "log",
            "checkpoint signed and cosigned by both local log witnesses",
            f"{stored.size} entries",
        )


# --- the delegations' drafting ------------------------------------------------------------------


def _withdrawal(text: Text, kilometres: int) -> Text:
    """Article 2(3) with the distance a delegation wants, the days still bracketed by PK."""
    body = (
        Run(
            "Each Party shall withdraw its heavy weapons to a distance of not less than "
            f"{kilometres} kilometres from the common border within "
        ),
        Bracket("30", ("PK",)),
        Run(" days of the entry into force of this Agreement."),
    )
    return edit.set_body(text, "art-cessation.3", body)


def _afghan_return(v1: Text) -> Text:
    t = _withdrawal(v1, 10)
    t = edit.set_words(
        t,
        "art-territory.2",
        "Each Party shall take effective measures against armed "
        "groups present on its territory that threaten the security of the other Party.",
    )
    t = edit.replace_words(t, "art-water.2", "would significantly reduce", "would reduce")
    return edit.replace_words(t, "art-trade.1", "within seven days", "within forty-eight hours")


def _pakistani_return(v1: Text) -> Text:
    t = _withdrawal(v1, 30)
    t = edit.replace_words(
        t, "art-water.2", "would significantly reduce", "would appreciably reduce"
    )
    t = edit.agree_bracket(t, "art-reporting.1")
    return edit.replace_words(t, "art-incidents.1", "seventy-two hours", "forty-eight hours")


def compromise(v2: Text) -> Text:
    """The mediators' compromise: every clash settled, every bracket and reservation lifted."""
    t = edit.set_words(
        v2,
        "art-cessation.3",
        "Each Party shall withdraw its heavy weapons to a "
        "distance of not less than 20 kilometres from the common border within 30 "
        "days of the entry into force of this Agreement.",
    )
    t = edit.set_words(
        t,
        "art-water.2",
        "Neither Party shall undertake works on the Kabul River or "
        "its tributaries that would appreciably reduce the flow of water to the other "
        "Party without prior notification and consultation.",
    )
    t = edit.release(t, "art-water", "PK")
    t = edit.set_words(
        t,
        "art-final.4",
        "Done at Doha on 29 October 2026, in two originals in the "
        "Pashto, Urdu and English languages, all texts being equally authentic. In "
        "case of divergence of interpretation, the English text shall prevail.",
    )
    return settle_rest(t)


def settle_rest(text: Text) -> Text:
    """Agree every remaining bracket (keeping its words), take the first wording of each options
    group, and lift every reservation, one at a time until the text is clean."""
    while (open_ := _first_open(text)) is not None:
        text = _settle(text, open_)
    return text


def _first_open(text: Text) -> str | None:
    st = text_model.status(text)
    return st.open_ids[0] if st.open_ids else None


def _settle(text: Text, provision_id: str) -> Text:
    provision = text_model.find(text, provision_id)
    assert provision is not None
    for code in provision.reservations:
        text = edit.release(text, provision_id, code)
    for item in provision.body:
        if isinstance(item, Options):
            return edit.choose_option(text, provision_id, 0)
        if isinstance(item, Bracket):
            return edit.agree_bracket(text, provision_id)
    return text
