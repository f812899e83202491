"""The protocol: the rules refuse what they must, in plain words, and the fold is deterministic."""

from __future__ import annotations

import pytest

from parley.core import moves, protocol
from parley.core import text as text_model
from parley.core.event import EventType as T
from parley.core.protocol import Mode, Phase
from parley.errors import (
    ConflictError,
    IllegalMoveError,
    InvalidInputError,
    PreconditionError,
    SignatureError,
    UnauthorizedMoveError,
)
from tests.negotiation import Table, clean_text, key_for


def concluded(table: Table) -> Table:
    text = clean_text()
    v = text_model.version_hash(text)
    table.play("QA", T.PROPOSE, moves.propose(text))
    table.play("QA", T.SEND, moves.send(v, ["AF", "PK"]))
    table.play("PK", T.ACCEPT, moves.accept(v))
    table.play("AF", T.ACCEPT, moves.accept(v, Mode.AD_REFERENDUM))
    table.play("AF", T.CONFIRM, moves.confirm(v))
    table.play("TR", T.FINALIZE, moves.finalize(text))
    signs = {}
    for party in ("PK", "AF"):
        signs[party] = table.play(party, T.SIGN, moves.sign(v)).hash
    table.play("QA", T.WITNESS, moves.witness(signs["PK"]))
    table.play("TR", T.WITNESS, moves.witness(signs["AF"]))
    for g in ("QA", "TR"):
        table.play(g, T.ENDORSE, moves.endorse(v, list(signs.values())))
    return table


def test_talks_open_when_every_participant_has_joined() -> None:
    table = Table()
    assert table.s.phase is Phase.CONVENING
    for code in ("PK", "AF", "QA"):
        table.play(code, T.JOIN, moves.join(table.s))
        assert table.s.phase is Phase.CONVENING
    table.play("TR", T.JOIN, moves.join(table.s))
    assert table.s.phase is Phase.OPEN


def test_a_whole_negotiation_comes_into_force() -> None:
    table = concluded(Table().open())
    assert table.s.phase is Phase.IN_FORCE
    assert protocol.fold(table.events) == table.s


def test_a_version_keeps_when_it_was_published() -> None:
    """A list of versions shows each one's time without reading the events again."""
    table = Table().open()
    proposed = table.play("QA", T.PROPOSE, moves.propose(clean_text()))
    version = table.s.versions[text_model.version_hash(clean_text())]
    assert version.time == proposed.envelope.time and version.event == proposed.hash


def test_fold_is_deterministic_and_equals_stepwise_apply() -> None:
    table = concluded(Table().open())
    assert protocol.fold(table.events) == protocol.fold(list(table.events))


def test_a_state_is_never_changed_by_the_moves_made_on_it() -> None:
    """States share what did not change (a move copies only what it changes): every state along
    a whole negotiation must still equal the same fold made afresh, nested maps included."""
    table = concluded(Table().open())
    states = [protocol.start(table.events[0])]
    for event in table.events[1:]:
        states.append(protocol.apply(states[-1], event))
    assert states[-1] == table.s
    for i, state in enumerate(states):
        again = protocol.fold(table.events[: i + 1])
        assert state == again, f"the state after event {i} changed"
        assert state.acceptances == again.acceptances and state.witnesses == again.witnesses
        assert all(isinstance(codes, frozenset) for codes in state.sent.values())
        for inner in (*state.acceptances.values(), *state.witnesses.values()):
            with pytest.raises(TypeError):
                inner["X"] = None  # type: ignore[index]


def test_replay_of_stored_events_reaches_the_fold_from_any_state() -> None:
    """A process catching up on events its store accepted replays them from what it last saw
    (or from nothing) and must reach the very state the fold reaches."""
    table = concluded(Table().open())
    for seen in (0, 1, 5, len(table.events) - 1, len(table.events)):
        prior = protocol.fold(table.events[:seen]) if seen else None
        assert protocol.replay(prior, table.events[seen:]) == table.s


def test_replay_trusts_only_signatures_and_version_hashes_and_applies_every_rule() -> None:
    """Only the signature and a version's hash are the store's word (each was checked when
    the store accepted the event); chain, author, key and rules still hold."""
    table = Table().open()
    event = table.build("AF", T.STATEMENT, moves.statement("x"))
    unverified = type(event)(event.envelope, bytes(64), event.body, event.hash)
    assert protocol.replay(table.s, [unverified]).seq == table.s.seq + 1
    body = {**moves.propose(clean_text()), "version": "ab" * 32}  # not the text's hash
    misnamed = table.build("QA", T.PROPOSE, body)
    assert "ab" * 32 in protocol.replay(table.s, [misnamed]).texts
    with pytest.raises(InvalidInputError, match="not the version it names"):
        protocol.apply(table.s, misnamed)
    stale = table.build("AF", T.STATEMENT, moves.statement("first"))
    table.play("PK", T.STATEMENT, moves.statement("second"))
    with pytest.raises(ConflictError, match="someone moved first"):
        protocol.replay(table.s, [stale])
    borrowed = moves.make(
        table.s, key_for("PK"), "AF", T.STATEMENT, moves.statement("y"), table.tick()
    )
    with pytest.raises(UnauthorizedMoveError, match="not one of AF's keys"):
        protocol.replay(table.s, [borrowed])
    with pytest.raises(IllegalMoveError):
        protocol.replay(table.s, [table.build("AF", T.JOIN, moves.join(table.s))])
    with pytest.raises(InvalidInputError, match="no events"):
        protocol.replay(None, [])


HIDDEN = ["\u202e", "\u2066", "\u200b", "\u00ad", "\ufeff", "\u2060"]


@pytest.mark.parametrize("hidden", HIDDEN)
def test_a_new_version_with_an_invisible_character_is_refused_but_one_on_record_is_read(
    hidden: str,
) -> None:
    """A direction override can show "081" as "180", a zero-width space hides in "Geneva": a
    version proposed with one is refused, by ``moves`` and by the protocol (for a client that
    builds its own bodies); a store's own event from before the rule is still read."""
    table = Table().open()
    text = clean_text(f"Attacks cease within {hidden}081 days.")
    with pytest.raises(InvalidInputError, match=f"invisible character U\\+{ord(hidden):04X}"):
        moves.propose(text)
    body = {**moves.version_body(clean_text()), "parents": []}  # then the hidden one in it
    body.update(version=text_model.version_hash(text), text=text_model.to_json(text))
    event = table.build("QA", T.PROPOSE, body)
    with pytest.raises(InvalidInputError, match="invisible character"):
        protocol.apply(table.s, event)
    assert body["version"] in protocol.replay(table.s, [event]).texts


def test_the_joiners_and_direction_marks_scripts_need_are_allowed() -> None:
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \u200f(1)"  # ZWNJ, RLM
    assert moves.propose(clean_text(f"The Parties agree: {persian}."))["version"]


def test_only_a_mediator_can_finalize() -> None:
    table = Table().open()
    text = clean_text()
    table.play("QA", T.PROPOSE, moves.propose(text))
    with pytest.raises(UnauthorizedMoveError, match="AF cannot finalize: only a mediator can"):
        table.play("AF", T.FINALIZE, moves.finalize(text))


def test_finalize_needs_a_clean_text() -> None:
    table = Table().open()
    body = (
        text_model.Run("The "),
        text_model.Bracket("Parties", ("AF",)),
        text_model.Run(" shall."),
    )
    text = text_model.Text(
        "T", "en", (text_model.Provision("art-3.2", text_model.Kind.ARTICLE, None, body),)
    )
    v = text_model.version_hash(text)
    table.play("QA", T.PROPOSE, moves.propose(text))
    table.play("QA", T.SEND, moves.send(v, ["AF", "PK"]))
    table.play("PK", T.ACCEPT, moves.accept(v))
    table.play("AF", T.ACCEPT, moves.accept(v))
    with pytest.raises(PreconditionError, match=r"is not clean: 1 bracket remain in art-3.2"):
        table.play("QA", T.FINALIZE, moves.finalize(text))


def test_finalize_needs_every_party_firmly() -> None:
    table = Table().open()
    text = clean_text()
    v = text_model.version_hash(text)
    table.play("QA", T.PROPOSE, moves.propose(text))
    table.play("PK", T.ACCEPT, moves.accept(v))
    table.play("AF", T.ACCEPT, moves.accept(v, Mode.AD_REFERENDUM))
    with pytest.raises(
        PreconditionError, match=r"AF \(accepted ad referendum, not yet confirmed\)"
    ):
        table.play("QA", T.FINALIZE, moves.finalize(text))
    table.play("AF", T.REJECT, moves.reject(v, "capital declined"))
    with pytest.raises(PreconditionError, match="withdrawn"):
        table.play("QA", T.FINALIZE, moves.finalize(text))


def test_a_key_of_another_participant_is_refused() -> None:
    table = Table().open()
    event = moves.make(
        table.s, key_for("PK"), "AF", T.STATEMENT, moves.statement("x"), table.tick()
    )
    with pytest.raises(UnauthorizedMoveError, match="not one of AF's keys"):
        protocol.apply(table.s, event)


def test_a_stranger_is_refused() -> None:
    table = Table().open()
    event = moves.make(
        table.s, key_for("IN"), "IN", T.STATEMENT, moves.statement("x"), table.tick()
    )
    with pytest.raises(UnauthorizedMoveError, match="not a participant"):
        protocol.apply(table.s, event)


def test_refusals_name_the_move_as_a_verb_and_a_second_join_as_such() -> None:
    table = Table()
    table.play("QA", T.JOIN, moves.join(table.s))
    with pytest.raises(IllegalMoveError, match=r"^QA has already joined$"):
        table.play("QA", T.JOIN, moves.join(table.s))
    with pytest.raises(IllegalMoveError, match=r"^PK cannot make a statement: it has not joined"):
        table.play("PK", T.STATEMENT, moves.statement("x"))
    for code in ("PK", "AF", "TR"):
        table.play(code, T.JOIN, moves.join(table.s))
    with pytest.raises(IllegalMoveError, match=r"^PK has already joined$"):  # not "while open"
        table.play("PK", T.JOIN, moves.join(table.s))


def test_a_forged_signature_is_refused() -> None:
    table = Table().open()
    event = table.build("AF", T.STATEMENT, moves.statement("x"))
    forged = type(event)(event.envelope, bytes(64), event.body, event.hash)
    with pytest.raises(SignatureError):
        protocol.apply(table.s, forged)


def test_a_stale_prev_is_a_conflict_and_changes_nothing() -> None:
    table = Table().open()
    stale = table.build("AF", T.STATEMENT, moves.statement("first"))
    table.play("PK", T.STATEMENT, moves.statement("second"))
    before = table.s
    with pytest.raises(ConflictError, match="someone moved first"):
        protocol.apply(table.s, stale)
    assert table.s == before


def test_under_the_mediator_pen_rule_parties_cannot_propose() -> None:
    table = Table().open()
    with pytest.raises(IllegalMoveError, match="only a mediator holds the pen"):
        table.play("PK", T.PROPOSE, moves.propose(clean_text()))


def test_walk_out_and_resume() -> None:
    table = Table().open()
    table.play("AF", T.SUSPEND, moves.suspend("bombardment of border villages"))
    assert table.s.phase is Phase.SUSPENDED and table.s.suspended_by == "AF"
    with pytest.raises(IllegalMoveError, match="while the negotiation is suspended"):
        table.play("QA", T.PROPOSE, moves.propose(clean_text()))
    with pytest.raises(UnauthorizedMoveError, match="only a mediator or the party that walked out"):
        table.play("PK", T.RESUME, moves.resume())
    table.play("TR", T.RESUME, moves.resume())
    assert table.s.phase is Phase.OPEN


def test_a_witness_cannot_attest_its_own_signature_or_twice() -> None:
    table = concluded(Table().open())
    pk_sign = table.s.signatures["PK"].event
    with pytest.raises(IllegalMoveError, match="already witnessed"):
        table.play("QA", T.WITNESS, moves.witness(pk_sign))


def test_a_statement_never_makes_anything_in_force() -> None:
    table = Table().open()
    table.play("AF", T.STATEMENT, moves.statement("We will never allow our territory to be used."))
    assert table.s.phase is Phase.OPEN
    assert table.s.statements[0].text is not None


def test_caucus_bodies_can_be_withheld_and_the_chain_still_folds() -> None:
    table = Table().open()
    table.play("AF", T.STATEMENT, moves.statement("for the mediators only"), ("AF", "QA", "TR"))
    concluded(table)
    redacted = [e if e.envelope.can_read("PK") else e.without_body() for e in table.events]
    view = protocol.fold(redacted)
    assert view.phase is Phase.IN_FORCE
    assert view.withheld == 1
    assert view.statements[0].text is None


def test_outcome_bodies_cannot_be_withheld() -> None:
    table = concluded(Table().open())
    events = [e.without_body() if e.envelope.type is T.SIGN else e for e in table.events]
    with pytest.raises(InvalidInputError, match="body withheld"):
        protocol.fold(events)


def test_the_agenda_says_what_waits_for_whom() -> None:
    from parley.core.agenda import agenda

    table = Table()
    assert {t.code for t in agenda(table.s)} == {"PK", "AF", "QA", "TR"}
    table.open()
    assert [(t.code, t.what) for t in agenda(table.s)] == [
        ("QA", "propose the first draft"),
        ("TR", "propose the first draft"),
    ]
    text = clean_text()
    v = text_model.version_hash(text)
    table.play("QA", T.PROPOSE, moves.propose(text))
    table.play("QA", T.SEND, moves.send(v, ["AF", "PK"], "2026-03-05T17:00:00Z"))
    tasks = agenda(table.s)
    assert [(t.code, t.deadline) for t in tasks] == [
        ("PK", "2026-03-05T17:00:00Z"),
        ("AF", "2026-03-05T17:00:00Z"),
    ]
    table.play("PK", T.ACCEPT, moves.accept(v))
    table.play("AF", T.ACCEPT, moves.accept(v, Mode.AD_REFERENDUM))
    assert [t.code for t in agenda(table.s)] == ["AF"]
    table.play("AF", T.CONFIRM, moves.confirm(v))
    assert {t.code for t in agenda(table.s)} == {"QA", "TR"}
    table.play("QA", T.FINALIZE, moves.finalize(text))
    assert {t.code for t in agenda(table.s)} == {"PK", "AF"}
    pk = table.play("PK", T.SIGN, moves.sign(v)).hash
    assert any(t.what == "witness PK's signature" for t in agenda(table.s))
    table.play("QA", T.WITNESS, moves.witness(pk))
    assert not any(t.what == "witness PK's signature" for t in agenda(table.s))
    # a witnessed ad referendum signature waits for its ratification, not for more witnesses
    af = table.play("AF", T.SIGN, moves.sign(v, Mode.AD_REFERENDUM)).hash
    table.play("TR", T.WITNESS, moves.witness(af))
    tasks = [(t.code, t.what) for t in agenda(table.s)]
    assert ("AF", "ratify the ad referendum signature") in tasks
    assert not any(what.startswith("witness") for _, what in tasks)


def test_an_amendment_that_changes_nothing_is_refused() -> None:
    table = Table().open()
    draft = clean_text()
    v1 = text_model.version_hash(draft)
    table.play("QA", T.PROPOSE, moves.propose(draft))
    table.play("QA", T.SEND, moves.send(v1, ["PK"]))
    with pytest.raises(PreconditionError, match="PK's amendment changes nothing in version"):
        table.play("PK", T.AMEND, moves.amend(v1, draft))
    assert table.s.versions[v1].author == "QA"  # the record of the version stays as it was


def test_the_agenda_drops_answered_and_superseded_reviews_and_asks_for_integration() -> None:
    from parley.core.agenda import agenda

    table = Table().open()
    draft = clean_text()
    v1 = text_model.version_hash(draft)
    table.play("QA", T.PROPOSE, moves.propose(draft))
    table.play("QA", T.SEND, moves.send(v1, ["AF", "PK"]))
    table.play("PK", T.REJECT, moves.reject(v1, "Article 1 says too little."))
    assert [t.code for t in agenda(table.s)] == ["AF"]  # a rejection answers the review
    ours = clean_text("The Parties shall refrain from any attack.")
    table.play("AF", T.AMEND, moves.amend(v1, ours))
    returned = [(t.code, t.what) for t in agenda(table.s)]
    assert returned == [
        (c, f"integrate the returns to version {v1[:8]}… (AF)") for c in ("QA", "TR")
    ]
    a = text_model.version_hash(ours)
    table.play("QA", T.INTEGRATE, moves.integrate(v1, [a], ours, []))
    assert [(t.code, t.what) for t in agenda(table.s)] == [
        (c, f"send version {a[:8]}… for review") for c in ("QA", "TR")
    ]
    # a version proposed later and answered directly supersedes an older review left open
    v3 = text_model.version_hash(clean_text("Third."))
    table.play("QA", T.PROPOSE, moves.propose(clean_text("Second.")))
    table.play("QA", T.SEND, moves.send(text_model.version_hash(clean_text("Second.")), ["PK"]))
    table.play("QA", T.PROPOSE, moves.propose(clean_text("Third.")))
    assert [t.code for t in agenda(table.s)] == ["PK", "QA", "TR"]  # review; send the third
    table.play("PK", T.ACCEPT, moves.accept(v3))
    assert [t.code for t in agenda(table.s)] == []


def test_returns_to_a_superseded_version_leave_the_agenda() -> None:
    """Once a later version is sent, the returns to an earlier one are history: the mediators
    are not told to integrate them for the rest of the talks. A draft merely proposed (by a
    party holding the pen, say) supersedes nothing."""
    from parley.core.agenda import agenda

    table = Table().open()
    draft = clean_text()
    v1 = text_model.version_hash(draft)
    table.play("QA", T.PROPOSE, moves.propose(draft))
    table.play("QA", T.SEND, moves.send(v1, ["AF", "PK"]))
    for code in ("PK", "AF"):
        words = f"The Parties shall refrain from cross-border attacks, as {code} says."
        table.play(code, T.AMEND, moves.amend(v1, clean_text(words)))
    integrate = f"integrate the returns to version {v1[:8]}… (AF, PK)"
    assert ("QA", integrate) in [(t.code, t.what) for t in agenda(table.s)]
    fresh = clean_text("A fresh start.")
    table.play("QA", T.PROPOSE, moves.propose(fresh, (v1,)))
    assert ("QA", integrate) in [(t.code, t.what) for t in agenda(table.s)]
    table.play("QA", T.SEND, moves.send(text_model.version_hash(fresh), ["AF", "PK"]))
    assert not any(t.what.startswith("integrate") for t in agenda(table.s))


def test_comments_are_kept_in_the_state_and_a_withheld_one_says_nothing() -> None:
    """The text page shows each provision's comments from the state, reading no events; a
    comment outside a copy's audience keeps only who made it and when."""
    table = Table().open()
    draft = clean_text()
    v = text_model.version_hash(draft)
    table.play("QA", T.PROPOSE, moves.propose(draft))
    said = table.play("PK", T.COMMENT, moves.comment(v, "art-1", "Too vague."))
    aside = table.play("AF", T.COMMENT, moves.comment(v, "art-1", "For QA."), ("AF", "QA", "TR"))
    first, second = table.s.comments
    assert (first.author, first.event, first.version, first.provision, first.text) == (
        "PK",
        said.hash,
        v,
        "art-1",
        "Too vague.",
    )
    assert second.audience == ("AF", "QA", "TR") and second.text == "For QA."
    redacted = [e if e.hash != aside.hash else e.without_body() for e in table.events]
    hidden = protocol.fold(redacted).comments[1]
    assert (hidden.author, hidden.time, hidden.text, hidden.version) == (
        "AF",
        aside.envelope.time,
        None,
        None,
    )
