"""Editing a text: each change does one thing and keeps the text valid."""

from __future__ import annotations

import pytest

from parley.core import edit
from parley.core import text as text_model
from parley.core.text import Bracket, Kind, Option, Options, Provision, Run, Text
from parley.errors import InvalidInputError, NotFoundError


def sample() -> Text:
    body = (
        Run("The "),
        Bracket("Parties", ("AF",)),
        Run(" shall "),
        Options((Option("AF", (Run("promptly"),)), Option("PK", ()))),
        Run(" notify the Mechanism."),
    )
    return Text(
        "T",
        "en",
        (
            Provision("art-1", Kind.ARTICLE, "One", (Run("First."),)),
            Provision(
                "art-2",
                Kind.ARTICLE,
                "Two",
                body,
                children=(Provision("art-2.1", Kind.PARAGRAPH, None, (Run("Inner."),)),),
            ),
        ),
    )


def test_agree_bracket_keeps_the_words() -> None:
    text = edit.agree_bracket(sample(), "art-2")
    assert text_model.plain(text_model.find(text, "art-2").body).startswith("The Parties shall ")
    assert text_model.status(text).brackets == 0


@pytest.mark.parametrize(("option", "expected"), [(0, "promptly notify"), (1, "shall notify")])
def test_choose_option(option: int, expected: str) -> None:
    text = edit.choose_option(sample(), "art-2", option)
    words = text_model.plain(text_model.find(text, "art-2").body)
    assert expected in words
    assert "  " not in words
    assert text_model.status(text).options == 0


def test_move_keeps_identity_and_children() -> None:
    text = edit.move(sample(), "art-2", after=None)
    assert [p.id for p in text.provisions] == ["art-2", "art-1"]
    assert text.provisions[0].children[0].id == "art-2.1"
    assert text_model.numbering(text)["art-2"] == "Article 1"


def test_insert_remove_reserve_release() -> None:
    new = Provision("art-1.1", Kind.PARAGRAPH, None, (Run("New."),))
    text = edit.insert(sample(), new, parent="art-1")
    assert text_model.find(text, "art-1.1") is not None
    text = edit.reserve(text, "art-1.1", "PK")
    assert text_model.find(text, "art-1.1").reservations == ("PK",)
    text = edit.release(text, "art-1.1", "PK")
    text = edit.remove(text, "art-1")
    assert text_model.find(text, "art-1.1") is None


def test_errors_are_specific() -> None:
    with pytest.raises(NotFoundError, match="no provision 'art-9'"):
        edit.set_words(sample(), "art-9", "x")
    with pytest.raises(NotFoundError, match="no bracket number 2"):
        edit.agree_bracket(sample(), "art-2", 1)
    with pytest.raises(InvalidInputError, match="duplicate provision id"):
        edit.insert(sample(), Provision("art-1", Kind.ARTICLE), after="art-2")
    with pytest.raises(InvalidInputError, match="does not appear"):
        edit.replace_words(sample(), "art-1", "Second", "Third")


CODES = ("PK", "AF", "QA")


def test_a_party_adds_brackets_of_its_own_only_and_never_of_a_stranger() -> None:
    before = sample()
    bracketed = (Run("Within "), Bracket("three", ("PK",)), Run(" days."))
    mine = edit.set_body(before, "art-1", bracketed)
    edit.check_attribution(before, mine, "PK", CODES, mediator=False)  # PK's own: fine
    theirs = edit.set_body(before, "art-1", (Bracket("three", ("AF",)),))
    with pytest.raises(InvalidInputError, match=r"yours \(PK\), not AF's"):
        edit.check_attribution(before, theirs, "PK", CODES, mediator=False)
    edit.check_attribution(before, theirs, "QA", CODES, mediator=True)  # a mediator attributes
    nobody = edit.set_body(before, "art-1", (Bracket("three", ("XX",)),))
    with pytest.raises(InvalidInputError, match=r"XX: not in the charter \(PK, AF, QA\)"):
        edit.check_attribution(before, nobody, "QA", CODES, mediator=True)


def test_what_was_attributed_may_stay_or_move_but_nothing_more_in_anyone_elses_name() -> None:
    """Art. 2 already names AF (a bracket and an option): PK may reword around them and move
    them, but not add or change anything held in AF's name, there or anywhere else."""
    before = sample()
    reworded = edit.replace_words(before, "art-2", "notify", "inform")
    edit.check_attribution(before, reworded, "PK", CODES, mediator=False)
    moved = edit.move(before, "art-2", after=None)  # art-2 before art-1: still AF's, unchanged
    edit.check_attribution(before, moved, "PK", CODES, mediator=False)
    for changed in (
        edit.set_body(before, "art-1", (Bracket("First", ("AF",)),)),  # elsewhere
        edit.set_body(before, "art-2", (Bracket("States", ("AF",)),)),  # AF's, other words
        edit.set_body(before, "art-2", (*before.provisions[1].body, Bracket("more", ("AF",)))),
        edit.reserve(before, "art-1", "AF"),
    ):
        with pytest.raises(InvalidInputError, match="not AF's"):
            edit.check_attribution(before, changed, "PK", CODES, mediator=False)
    agreed = edit.agree_bracket(before, "art-2")  # taking AF's bracket away proposes agreement
    edit.check_attribution(before, agreed, "PK", CODES, mediator=False)


def test_another_delegations_positions_stay_where_they_were_taken() -> None:
    """AF's bracket moved by PK into another provision reads as AF's position there, and a
    reservation AF entered is AF's to lift: a party does neither (a mediator may)."""
    before = sample()
    moved = edit.set_body(
        edit.set_body(before, "art-2", (Run("The Parties shall act."),)),
        "art-1",
        (Run("AF shall "), Bracket("Parties", ("AF",)), Run(" pay.")),
    )
    with pytest.raises(InvalidInputError, match="not AF's"):
        edit.check_attribution(before, moved, "PK", CODES, mediator=False)
    reserved = edit.reserve(before, "art-1", "AF")
    lifted = edit.release(reserved, "art-1", "AF")
    with pytest.raises(InvalidInputError, match="lifts its own reservations, not AF's"):
        edit.check_attribution(reserved, lifted, "PK", CODES, mediator=False)
    edit.check_attribution(reserved, lifted, "QA", CODES, mediator=True)
    edit.check_attribution(reserved, edit.remove(reserved, "art-1"), "PK", CODES, mediator=False)
    own = edit.reserve(before, "art-1", "PK")
    edit.check_attribution(own, edit.release(own, "art-1", "PK"), "PK", CODES, mediator=False)


def test_a_text_naming_no_version_is_judged_against_any_it_may_come_from() -> None:
    """The pen holder pasted AF's return with one change: judged against the last proposal
    only, AF's bracket from that return read as PK's attribution to AF."""
    proposal = sample()
    returned = edit.set_body(proposal, "art-1", (Bracket("ninety", ("AF",)),))
    pasted = edit.set_heading(returned, "art-1", "One, amended")
    with pytest.raises(InvalidInputError, match="not AF's"):
        edit.check_attribution(proposal, pasted, "PK", CODES, mediator=False)
    edit.check_attribution_from_any([returned, proposal], pasted, "PK", CODES, mediator=False)
    with pytest.raises(InvalidInputError, match="not AF's"):
        edit.check_attribution_from_any([proposal], pasted, "PK", CODES, mediator=False)
    edit.check_attribution_from_any([], proposal, "QA", CODES, mediator=True)  # a first draft
