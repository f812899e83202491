"""Three-way merge of texts: worked cases, the diffutils example, its algebra, and git."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.core.merge import Conflict, ConflictKind, MergeResult, merge, merge_body, word_diff
from parley.core.text import (
    MAX_DEPTH,
    Bracket,
    Inline,
    Kind,
    Option,
    Options,
    Provision,
    Run,
    Text,
    find,
    plain,
    provisions_by_id,
    validate,
    walk,
)
from parley.core.textformat import parse_body, render_body
from parley.core.words import Token, body_from_tokens, body_tokens, is_word, split
from parley.core.words import diff as word_diff_ids
from parley.errors import InvalidInputError
from tests.conftest import shared_vectors
from tests.strategies import texts

AF, PK = "AF", "PK"


def art(
    pid: str,
    body: str = "",
    *children: Provision,
    kind: Kind = Kind.ARTICLE,
    heading: str | None = None,
    reservations: tuple[str, ...] = (),
) -> Provision:
    """A provision written in the file syntax: ``art("art-1", "The [[AF: x | PK: y]] fox")``."""
    return Provision(pid, kind, heading, parse_body(body) if body else (), reservations, children)


def get(text: Text, pid: str) -> Provision:
    provision = find(text, pid)
    assert provision is not None, f"{pid} missing"
    return provision


def doc(*provisions: Provision, title: str = "Agreement") -> Text:
    return validate(Text(title, provisions=provisions))


def run(base: Text, ours: Text, theirs: Text) -> MergeResult:
    result = merge(base, ours, theirs, AF, PK)
    validate(result.text)
    return result


def body(result: MergeResult, pid: str) -> str:
    return render_body(get(result.text, pid).body)


def ids(text: Text) -> list[str]:
    return [p.id for p, _ in walk(text)]


def kinds(result: MergeResult) -> list[tuple[str | None, ConflictKind]]:
    return [(c.provision, c.kind) for c in result.conflicts]


def one(body_text: str) -> Text:
    return doc(art("art-1", body_text))


# --- words inside one provision -----------------------------------------------------------------

BASE = "The Parties shall meet in Geneva every year to review the Mechanism."


def test_two_edits_in_one_provision_merge_cleanly() -> None:
    ours = one(BASE.replace("Geneva", "Doha"))
    theirs = one(BASE.replace("review", "assess"))
    result = run(one(BASE), ours, theirs)
    assert result.clean
    assert body(result, "art-1") == (
        "The Parties shall meet in Doha every year to assess the Mechanism."
    )


@pytest.mark.parametrize(
    ("base", "ours", "theirs", "expected"),
    [
        ("The Parties shall meet.", "The Parties may meet.", "The Parties shall not meet.",
         "The Parties [[AF: may | PK: shall not]] meet."),  # never "may not meet"
        ("on 15 January 2025", "on 16 January 2025", "on 15 February 2025",
         "on [[AF: 16 January | PK: 15 February]] 2025"),
        ("meet in Geneva every year", "meet in Doha every year", "meet in Geneva year",
         "meet in [[AF: Doha every | PK: Geneva]] year"),
    ],
)  # fmt: skip
def test_edits_to_neighbouring_words_clash(
    base: str, ours: str, theirs: str, expected: str
) -> None:
    """Each alone is one side's wording; together they can say what neither side said."""
    result = run(one(base), one(ours), one(theirs))
    assert body(result, "art-1") == expected


def test_the_same_edit_on_both_sides_is_applied_once() -> None:
    ours = theirs = one(BASE.replace("every year", "annually"))
    result = run(one(BASE), ours, theirs)
    assert result.clean
    assert (
        body(result, "art-1")
        == "The Parties shall meet in Geneva annually to review the Mechanism."
    )


def test_overlapping_edits_become_attributed_options() -> None:
    ours = one(BASE.replace("in Geneva", "in Doha"))
    theirs = one(BASE.replace("in Geneva", "in Istanbul"))
    result = run(one(BASE), ours, theirs)
    assert not result.clean
    assert body(result, "art-1") == (
        "The Parties shall meet in [[AF: Doha | PK: Istanbul]] every year to review the Mechanism."
    )
    assert result.conflicts == (Conflict("art-1", ConflictKind.WORDING, "Doha", "Istanbul"),)
    assert result.options_created == 1


def test_an_edit_against_a_deletion_becomes_an_empty_option() -> None:
    ours = one(BASE.replace(" every year", ""))
    theirs = one(BASE.replace("every year", "every second year"))
    result = run(one(BASE), ours, theirs)
    assert body(result, "art-1") == (
        "The Parties shall meet in Geneva [[AF: | PK: every second year]] to review the Mechanism."
    )


def test_options_cover_whole_words() -> None:
    result = run(one("Agreed."), one("Agreed!"), one("Agreed?"))
    assert body(result, "art-1") == "[[AF: Agreed! | PK: Agreed?]]"


@pytest.mark.parametrize(
    ("base", "ours", "theirs", "expected"),
    [
        ("pay 1,000,000 euros", "pay 1,500,000 euros", "pay 2,000,000 euros",
         "pay [[AF: 1,500,000 | PK: 2,000,000]] euros"),
        ("within 10.5 days", "within 12.5 days", "within 10.75 days",
         "within [[AF: 12.5 | PK: 10.75]] days"),
        ("the well-known rule", "the well-established rule", "the little-known rule",
         "the [[AF: well-established | PK: little-known]] rule"),
        ("the rule.", "the rules.", "the rule;", "the [[AF: rules. | PK: rule;]]"),
    ],
)  # fmt: skip
def test_both_sides_changing_one_word_conflict(
    base: str, ours: str, theirs: str, expected: str
) -> None:
    """Word by word these edits do not touch (an unchanged mark lies between them), but taken
    together they would make a word neither side wrote ("2,500,000")."""
    result = run(one(base), one(ours), one(theirs))
    assert body(result, "art-1") == expected
    assert result.options_created == 1


@pytest.mark.parametrize(
    ("base", "ours", "theirs", "expected"),
    [
        ("shall cooperate fully and", "shall cooperate and", "shall fully cooperate and",
         "shall [[AF: | PK: fully]] cooperate and"),  # PK moved the word AF deleted
        ("inform promptly of it", "inform immediately of it", "promptly inform of it",
         "[[AF: | PK: promptly]] inform [[AF: immediately | PK:]] of it"),
    ],
)  # fmt: skip
def test_a_word_one_side_moved_and_the_other_took_out_is_an_option(
    base: str, ours: str, theirs: str, expected: str
) -> None:
    """Word by word a move is a removal (the same as the other side's, taken once) and an
    insertion (one side's, taken): AF's deletion was lost without a trace."""
    assert body(run(one(base), one(ours), one(theirs)), "art-1") == expected


def test_a_side_whose_clashing_words_are_one_group_keeps_the_spaces_around_it() -> None:
    result = run(
        one("Water shall be shared [[AF: equally | PK: equitably]] by the Parties."),
        one("Water shall be shared by the Parties."),
        one("Water shall be shared [[AF: equally | PK: equitably | QA: fairly]] by the Parties."),
    )  # the group was glued to "by": every choice read "equallyby"
    assert body(result, "art-1") == (
        "Water shall be shared [[AF: | AF: equally | PK: equitably | QA: fairly]] by the Parties."
    )
    kept = run(one("a [[AF: p | PK: q]] b"), one("a [[AF: p | PK: q]]\n\nb"), one("a r b"))
    assert body(kept, "art-1") == "a [[AF: p | PK: q | PK: r]]\n\nb"  # AF's break stays


@pytest.mark.parametrize("space", [" ", "\u00a0", "\u202f"])
def test_amounts_with_spaces_between_thousands_are_one_word(space: str) -> None:
    def pay(millions: str, thousands: str) -> Text:
        return one(f"pay {millions}{space}{thousands}{space}000")

    result = run(pay("1", "000"), pay("1", "500"), pay("2", "000"))
    assert result.options_created == 1  # never 2 500 000


def test_a_heading_changed_by_both_sides_in_one_word_is_a_conflict() -> None:
    base = doc(art("art-1", "Text.", heading="Well-known rules"))
    ours = doc(art("art-1", "Text.", heading="Well-established rules"))
    theirs = doc(art("art-1", "Text.", heading="Little-known rules"))
    result = run(base, ours, theirs)  # once "Little-established rules", clean
    assert get(result.text, "art-1").heading == "Well-established rules"
    assert kinds(result) == [("art-1", ConflictKind.HEADING)]


def test_one_side_changing_a_word_the_other_also_changed_alike_takes_it() -> None:
    result = run(one("pay 1,000 euros"), one("pay 2,000 euros"), one("pay 2,000 euros"))
    assert body(result, "art-1") == "pay 2,000 euros"
    spread = run(one("the well-known rule"), one("the well-known rules"), one("a well-known rule"))
    assert body(spread, "art-1") == "a well-known rules"
    assert spread.clean


_PARTS = st.sampled_from(["1", "2", "000", "500", "well", "known", "ill", "rule"])
_GLUE = st.sampled_from(["-", ",", ".", "/"])


@st.composite
def _glued_word(draw: st.DrawFn) -> list[str]:
    parts = draw(st.lists(_PARTS, min_size=1, max_size=3))
    out = [parts[0]]
    for part in parts[1:]:
        out += [draw(_GLUE), part]
    return out


@st.composite
def _word_edits(draw: st.DrawFn) -> tuple[str, str, str]:
    """A body of glued words, and two sides that each change, add or drop some of their parts."""
    base = draw(st.lists(_glued_word(), min_size=1, max_size=5))

    def edited() -> str:
        words = []
        for word in base:
            word = list(word)
            for i in range(0, len(word), 2):
                if draw(st.integers(0, 3)) == 0:
                    word[i] = draw(_PARTS)
            words.append("".join(word))
        return " ".join(words)

    return " ".join("".join(w) for w in base), edited(), edited()


@given(_word_edits())
def test_a_merge_never_makes_a_word_no_side_wrote(sides: tuple[str, str, str]) -> None:
    base, ours, theirs = sides
    merged = merge_body((Run(base),), (Run(ours),), (Run(theirs),), AF, PK)
    written = {w for text in sides for w in text.split()}
    for item in merged.body:
        bodies = [o.body for o in item.options] if isinstance(item, Options) else [(item,)]
        for inlines in bodies:
            assert set(plain(inlines).split()) <= written, (sides, merged.body)


def test_words_both_sides_wrote_stay_outside_the_options() -> None:
    ours = one("The Parties shall meet in Doha, as the Parties agree, every year.")
    theirs = one("The Parties shall meet in Oslo, as the Parties agree, each year.")
    result = run(one("The Parties shall meet."), ours, theirs)
    assert body(result, "art-1") == (
        "The Parties shall meet in [[AF: Doha, | PK: Oslo,]] as the Parties agree, "
        "[[AF: every | PK: each]] year."
    )


def test_brackets_stay_inside_option_bodies() -> None:
    base = one("The Commission shall [meet]{AF} monthly.")
    ours = one("The Commission shall [meet]{AF}, at least, monthly.")
    theirs = one("The Commission shall convene monthly.")
    result = run(base, ours, theirs)
    assert body(result, "art-1") == (
        "The Commission shall [[AF: [meet]{AF}, at least, | PK: convene]] monthly."
    )


def test_a_clash_over_existing_options_keeps_every_alternative_attributed() -> None:
    base = one("Water shall be shared [[AF: equally | PK: equitably]] by the Parties.")
    ours = one("Water shall be shared equally by the Parties.")
    theirs = one(
        "Water shall be shared [[AF: equally | PK: equitably | QA: fairly]] by the Parties."
    )
    result = run(base, ours, theirs)
    assert body(result, "art-1") == (
        "Water shall be shared [[AF: equally | PK: equitably | QA: fairly]] by the Parties."
    )
    assert result.options_created == 1


def test_options_with_words_around_them_flatten_to_one_option_per_alternative() -> None:
    base = one("Water [[AF: equally | PK: equitably]] shared.")
    ours = one("Water [[AF: equally | PK: equitably]], reasonably, shared.")
    theirs = one("Water fairly shared.")
    result = run(base, ours, theirs)
    assert body(result, "art-1") == (
        "Water [[AF: equally, reasonably, | AF: equitably, reasonably, | PK: fairly]] shared."
    )
    (group,) = [x for x in get(result.text, "art-1").body if isinstance(x, Options)]
    assert not any(isinstance(x, Options) for o in group.options for x in o.body)


def test_a_clash_across_paragraphs_makes_one_group_per_line() -> None:
    base = one("First.\n\nSecond.")
    ours = one("First, amended.\n\nSecond, amended.")
    theirs = one("Replaced entirely.")
    result = run(base, ours, theirs)
    assert body(result, "art-1") == (
        "[[AF: First, amended. | PK: Replaced entirely.]]\n\n[[AF: Second, amended. | PK:]]"
    )


def test_a_paragraph_break_stays_where_its_side_put_it() -> None:
    """Moved outside the options, the break made a paragraph of its own that no side wrote."""
    base = one("First ends here\n\nsecond starts now.")
    ours = one("First ends here, and more\n\nsecond starts now.")
    theirs = one("First ends\n\nmore text second starts now.")
    result = run(base, ours, theirs)
    assert body(result, "art-1") == (
        "First ends [[AF: here, and more | PK:]]\n\n[[AF: | PK: more text]] second starts now."
    )


def test_merge_body_is_usable_on_its_own() -> None:
    merged = merge_body(parse_body("a b c d"), parse_body("a x c d"), parse_body("a b c y"), AF, PK)
    assert render_body(merged.body) == "a x c y"
    assert merged.clashes == () and merged.options_created == 0


def test_labels_must_be_distinct_participant_codes() -> None:
    text = one(BASE)
    with pytest.raises(InvalidInputError, match="participant code"):
        merge(text, text, text, "ours", PK)
    with pytest.raises(InvalidInputError, match="different labels"):
        merge(text, text, text, AF, AF)


# --- provisions ---------------------------------------------------------------------------------


def three(*bodies: str) -> tuple[Provision, ...]:
    return tuple(art(f"art-{n}", b) for n, b in enumerate(bodies, 1))


def test_a_provision_added_on_one_side_keeps_its_anchor() -> None:
    a1, a2, a3 = three("One.", "Two.", "Three.")
    new = art("art-new", "New.")
    result = run(doc(a1, a2, a3), doc(a1, a2, new, a3), doc(a1, a3))
    assert result.clean
    assert ids(result.text) == ["art-1", "art-new", "art-3"]


def test_additions_at_one_place_on_both_sides_keep_ours_first() -> None:
    a1, a2 = three("One.", "Two.")
    result = run(doc(a1, a2), doc(a1, art("x", "X."), a2), doc(a1, art("y", "Y."), a2))
    assert result.clean
    assert ids(result.text) == ["art-1", "x", "y", "art-2"]


def test_the_same_addition_on_both_sides_is_made_once() -> None:
    a1 = art("art-1", "One.")
    new = art("art-2", "Two.", heading="Scope")
    result = run(doc(a1), doc(a1, new), doc(a1, new))
    assert result.clean and ids(result.text) == ["art-1", "art-2"]


def test_different_additions_under_one_id_merge_with_an_empty_base() -> None:
    a1 = art("art-1", "One.")
    ours = doc(a1, art("art-2", "Each Party shall notify the Secretariat within thirty days."))
    theirs = doc(a1, art("art-2", "Each Party shall notify the Secretariat within sixty days."))
    result = run(doc(a1), ours, theirs)
    assert body(result, "art-2") == (
        "Each Party shall notify the Secretariat within [[AF: thirty | PK: sixty]] days."
    )


def test_a_deletion_of_an_untouched_provision_applies() -> None:
    a1, a2, a3 = three("One.", "Two.", "Three.")
    result = run(doc(a1, a2, a3), doc(a1, a3), doc(a1, a2, replace(a3, heading="Last")))
    assert result.clean
    assert ids(result.text) == ["art-1", "art-3"]


def test_a_deletion_against_an_edit_keeps_the_provision_with_options() -> None:
    a1, a2 = three("One.", "Two.")
    result = run(doc(a1, a2), doc(a1), doc(a1, art("art-2", "Two, amended.")))
    assert ids(result.text) == ["art-1", "art-2"]
    assert body(result, "art-2") == "[[AF: | PK: Two, amended.]]"
    assert kinds(result) == [("art-2", ConflictKind.EDIT_DELETE)]
    assert (result.conflicts[0].ours, result.conflicts[0].theirs) == ("deleted", "changed")


def test_a_deleted_article_with_an_edited_paragraph_is_kept_whole() -> None:
    p1 = art("art-2.1", "First.", kind=Kind.PARAGRAPH)
    p2 = art("art-2.2", "Second.", kind=Kind.PARAGRAPH)
    base = doc(art("art-1", "One."), art("art-2", "", p1, p2, heading="Rivers"))
    theirs = doc(art("art-1", "One."))
    ours = doc(art("art-1", "One."), art("art-2", "", replace(p1, body=(Run("First!"),)), p2))
    ours = replace(
        ours, provisions=(ours.provisions[0], replace(ours.provisions[1], heading="Rivers"))
    )
    result = run(base, ours, theirs)
    assert ids(result.text) == ["art-1", "art-2", "art-2.1", "art-2.2"]
    assert body(result, "art-2.1") == "[[AF: First! | PK:]]"
    assert body(result, "art-2.2") == "[[AF: Second. | PK:]]"
    assert kinds(result) == [("art-2", ConflictKind.EDIT_DELETE)]


def test_an_addition_under_a_deleted_provision_keeps_it() -> None:
    base = doc(art("art-1", "One."), art("art-2", "Two."))
    ours = doc(
        art("art-1", "One."), art("art-2", "Two.", art("art-2.1", "New.", kind=Kind.PARAGRAPH))
    )
    theirs = doc(art("art-1", "One."))
    result = run(base, ours, theirs)
    assert ids(result.text) == ["art-1", "art-2", "art-2.1"]
    assert body(result, "art-2") == "[[AF: Two. | PK:]]"
    assert body(result, "art-2.1") == "New."


def test_headings_merge_by_word_or_keep_ours_with_a_conflict() -> None:
    a1 = art("art-1", "One.", heading="Use of territory")
    clean = run(
        doc(a1),
        doc(replace(a1, heading="Use of national territory")),
        doc(replace(a1, heading="Use of territory and airspace")),
    )
    assert clean.clean
    assert get(clean.text, "art-1").heading == "Use of national territory and airspace"
    clash = run(doc(a1), doc(replace(a1, heading="Borders")), doc(replace(a1, heading="Frontiers")))
    assert get(clash.text, "art-1").heading == "Borders"
    assert clash.conflicts == (Conflict("art-1", ConflictKind.HEADING, "Borders", "Frontiers"),)


def test_kind_title_and_language_conflicts_keep_ours() -> None:
    a1 = art("art-1", "One.")
    base = doc(a1, title="Accord")
    ours = replace(doc(replace(a1, kind=Kind.ANNEX), title="Peace Accord"), language="fr")
    theirs = replace(doc(replace(a1, kind=Kind.PART), title="Water Accord"), language="ar")
    result = run(base, ours, theirs)
    assert (result.text.title, result.text.language) == ("Peace Accord", "fr")
    assert set(kinds(result)) == {
        (None, ConflictKind.TITLE), (None, ConflictKind.LANGUAGE), ("art-1", ConflictKind.KIND),
    }  # fmt: skip
    assert kinds(result)[-1] == ("art-1", ConflictKind.KIND)


def test_reservations_unite_additions_and_apply_removals() -> None:
    a1 = art("art-1", "One.", reservations=("AF", "PK"))
    ours = replace(a1, reservations=("AF", "QA"))
    theirs = replace(a1, reservations=("AF", "PK", "TR"))
    result = run(doc(a1), doc(ours), doc(theirs))
    assert get(result.text, "art-1").reservations == ("AF", "QA", "TR")
    assert result.clean


def test_a_move_and_an_edit_both_apply() -> None:
    a1, a2, a3 = three("One.", "Two.", "Three.")
    ours = doc(a2, a3, a1)
    theirs = doc(art("art-1", "One, amended."), a2, a3)
    result = run(doc(a1, a2, a3), ours, theirs)
    assert result.clean
    assert ids(result.text) == ["art-2", "art-3", "art-1"]
    assert body(result, "art-1") == "One, amended."


def test_a_move_into_another_parent_and_an_edit_both_apply() -> None:
    p = art("p-1", "Para.", kind=Kind.PARAGRAPH)
    base = doc(art("art-1", "One.", p), art("art-2", "Two."))
    ours = doc(art("art-1", "One."), art("art-2", "Two.", p))
    theirs = doc(
        art("art-1", "One.", replace(p, body=(Run("Para, amended."),))), art("art-2", "Two.")
    )
    result = run(base, ours, theirs)
    assert result.clean
    assert [c.id for c in get(result.text, "art-2").children] == ["p-1"]
    assert body(result, "p-1") == "Para, amended."


def test_different_moves_keep_ours_place_and_record_a_conflict() -> None:
    a1, a2, a3, a4 = three("One.", "Two.", "Three.", "Four.")
    result = run(doc(a1, a2, a3, a4), doc(a2, a3, a4, a1), doc(a2, a3, a1, a4))
    assert ids(result.text) == ["art-2", "art-3", "art-4", "art-1"]
    assert kinds(result) == [("art-1", ConflictKind.MOVE)]
    assert result.conflicts[0].ours == "at the top level, after art-4"
    assert result.conflicts[0].theirs == "at the top level, after art-3"


def _articles(order: str) -> Text:
    return doc(*(art(f"a{n}", f"Text of {n}.") for n in order))


@pytest.mark.parametrize(
    ("ours", "theirs", "merged"),
    [
        ("21345", "23145", "23145"),  # AF: a2 to the front; PK: a1 after a3
        ("23415", "51234", "52341"),  # AF: a1 after a4; PK: a5 to the front
        ("23415", "12435", "24315"),  # AF: a1 after a4; PK: a4 before a3
        ("2341", "1324", "3241"),  # AF: a1 to the end; PK: a3 before a2
    ],
)
def test_each_sides_moves_are_taken_when_they_combine(ours: str, theirs: str, merged: str) -> None:
    """Taking ours' order whole dropped PK's move without a word."""
    result = run(_articles("12345"), _articles(ours), _articles(theirs))
    assert result.clean
    assert ids(result.text) == [f"a{n}" for n in merged]


def test_moves_that_cannot_both_stand_are_a_conflict_not_a_silent_loss() -> None:
    # both put a3 after a1, but AF moved a1, a2 and a3 before a0 and PK put a3 before a2
    result = run(_articles("0123"), _articles("2130"), _articles("0132"))
    assert ids(result.text) == ["a2", "a1", "a3", "a0"]  # ours' place
    assert result.conflicts == (
        Conflict("a3", ConflictKind.MOVE, "at the top level, after a1, before a0",
                 "at the top level, after a1, before a2"),
    )  # fmt: skip


@st.composite
def _moved(draw: st.DrawFn, base: list[str]) -> list[str]:
    """``base`` with up to two siblings taken out and put back elsewhere."""
    order = list(base)
    for _ in range(draw(st.integers(0, 2))):
        pid = order.pop(draw(st.integers(0, len(order) - 1)))
        order.insert(draw(st.integers(0, len(order))), pid)
    return order


@st.composite
def _orders(draw: st.DrawFn) -> tuple[list[str], list[str], list[str]]:
    base = [f"a{n}" for n in range(draw(st.integers(2, 7)))]
    return base, draw(_moved(base)), draw(_moved(base))


@given(_orders())
def test_no_move_is_lost_without_a_conflict(orders: tuple[list[str], list[str], list[str]]) -> None:
    """Every sibling once; unless a move conflict names it, each sibling a side moved stands
    before and after the siblings neither side moved exactly as on that side."""
    base, ours, theirs = orders
    texts = [doc(*(art(pid, f"Text of {pid}.") for pid in order)) for order in orders]
    result = run(*texts)
    merged = ids(result.text)
    assert sorted(merged) == sorted(base)
    named = {c.provision for c in result.conflicts}
    moved = {
        side: set(base) - set(_longest_kept(base, side)) for side in map(tuple, (ours, theirs))
    }
    still = set(base) - moved[tuple(ours)] - moved[tuple(theirs)]
    for side, ids_moved in moved.items():
        for pid in ids_moved - named:
            for other in still:
                assert (merged.index(other) < merged.index(pid)) == (
                    side.index(other) < side.index(pid)
                ), (orders, merged, pid, other)


def _longest_kept(base: list[str], side: tuple[str, ...]) -> list[str]:
    """The siblings ``side`` kept in the base's order (as the merge reads moves)."""
    kept = []
    for tag, i1, i2, _, _ in word_diff_ids(base, list(side)):
        if tag == "equal":
            kept += base[i1:i2]
    return kept


def test_crossed_moves_cannot_make_a_cycle() -> None:
    a, b = art("a", "A."), art("b", "B.")
    ours = doc(replace(a, children=(b,)))
    theirs = doc(replace(b, children=(a,)))
    result = run(doc(a, b), ours, theirs)
    assert sorted(ids(result.text)) == ["a", "b"]
    assert ConflictKind.MOVE in {c.kind for c in result.conflicts}


def test_renumbering_is_not_a_change() -> None:
    a1, a2, a3 = three("One.", "Two.", "Three.")
    ours = doc(a1, art("art-0", "Inserted."), a2, a3)
    theirs = doc(a1, a2, art("art-3", "Three, amended."))
    result = run(doc(a1, a2, a3), ours, theirs)
    assert result.clean
    assert ids(result.text) == ["art-1", "art-0", "art-2", "art-3"]


def test_the_same_provision_added_in_two_places_keeps_ours_place() -> None:
    a1, a2 = three("One.", "Two.")
    new = art("art-new", "New.")
    result = run(doc(a1, a2), doc(new, a1, a2), doc(a1, a2, new))
    assert ids(result.text) == ["art-new", "art-1", "art-2"]
    assert kinds(result) == [("art-new", ConflictKind.MOVE)]


def test_provisions_the_deleting_side_moved_out_go_where_it_put_them() -> None:
    p1 = art("art-2.1", "Moved.", kind=Kind.PARAGRAPH)
    p2 = art("art-2.2", "Edited.", kind=Kind.PARAGRAPH)
    base = doc(art("art-1", "One."), art("art-2", "Two.", p1, p2))
    ours = doc(art("art-1", "One."), art("art-2", "Two.", p1, replace(p2, body=(Run("Edited!"),))))
    theirs = doc(art("art-1", "One.", p1))
    result = run(base, ours, theirs)
    assert ids(result.text) == ["art-1", "art-2.1", "art-2", "art-2.2"]
    assert body(result, "art-2.2") == "[[AF: Edited! | PK:]]"
    assert kinds(result) == [("art-2", ConflictKind.EDIT_DELETE)]


def test_a_kept_provision_with_options_flattens_them_against_the_deletion() -> None:
    base = doc(art("art-1", "Share [[AF: equally | PK: fairly]]."))
    ours = doc(art("art-1", "Share [[AF: equally | PK: fairly | QA: evenly]]."))
    result = run(base, ours, doc())
    assert body(result, "art-1") == (
        "[[AF: Share equally. | AF: Share fairly. | AF: Share evenly. | PK:]]"
    )
    assert result.options_created == 1


def test_deleted_on_both_sides_is_deleted() -> None:
    a1, a2 = three("One.", "Two.")
    result = run(doc(a1, a2), doc(a1), doc(a1))
    assert result.clean and ids(result.text) == ["art-1"]


def test_titles_merge_by_word() -> None:
    a1 = art("art-1", "One.")
    result = run(
        doc(a1, title="Agreement on Water"),
        doc(a1, title="Interim Agreement on Water"),
        doc(a1, title="Agreement on Water Sharing"),
    )
    assert result.clean and result.text.title == "Interim Agreement on Water Sharing"


def test_a_removed_heading_against_a_changed_one_keeps_ours() -> None:
    a1 = art("art-1", "One.", heading="Scope")
    result = run(doc(a1), doc(replace(a1, heading=None)), doc(replace(a1, heading="Purpose")))
    assert get(result.text, "art-1").heading is None
    assert result.conflicts == (Conflict("art-1", ConflictKind.HEADING, "", "Purpose"),)


def test_conflicts_come_in_document_order() -> None:
    a1, a2, a3 = three("One.", "Two.", "Three.")
    ours = doc(art("art-1", "Uno."), replace(a2, heading="B"), art("art-3", "Tres."), title="Y")
    theirs = doc(art("art-1", "Eins."), replace(a2, heading="C"), art("art-3", "Drei."), title="X")
    result = run(doc(a1, a2, a3), ours, theirs)
    assert [c.provision for c in result.conflicts] == [None, "art-1", "art-2", "art-3"]


def chain(*pids: str) -> Provision:
    """Provisions each nested in the one before."""
    node = art(pids[-1], pids[-1], kind=Kind.POINT)
    for pid in reversed(pids[:-1]):
        node = art(pid, pid, node, kind=Kind.POINT)
    return node


def test_moves_on_both_sides_never_nest_deeper_than_a_text_may() -> None:
    a, b = ("a1", "a2", "a3"), ("b1", "b2", "b3", "b4", "b5")
    base = doc(chain(*a), chain(*b))
    ours = doc(chain(*a, *b))  # b1 moved under a3: b5 at the deepest level allowed
    theirs = doc(chain(*a), chain(*b, "b6"))  # b6 added under b5
    result = run(base, ours, theirs)
    assert max(len(ancestors) for _, ancestors in walk(result.text)) == MAX_DEPTH - 1
    assert kinds(result) == [("b6", ConflictKind.DEPTH)]
    assert [c.id for c in get(result.text, "b4").children] == ["b5", "b6"]


# --- the GNU diffutils example ------------------------------------------------------------------


def _paragraphs(lines: Iterable[str]) -> str:
    return "\n".join(line.strip() for line in lines if line.strip())


def test_the_diffutils_example_merges_clean_regions_and_makes_options_of_the_clash() -> None:
    """Each line is a paragraph of one provision (blank lines dropped: a body has no empty
    paragraph); the regions diff3 merges cleanly come out exactly, its one conflict as options."""
    vector = json.loads(shared_vectors("merge", "lao-tzu.json").read_text(encoding="utf-8"))
    texts_ = {
        k: doc(Provision("tao", Kind.ARTICLE, body=(Run(_paragraphs(vector[k].splitlines())),)))
        for k in ("base", "ours", "theirs")
    }
    result = merge(texts_["base"], texts_["ours"], texts_["theirs"], "LAO", "TAO")
    validate(result.text)
    merged = vector["merged_line_level"].splitlines()
    start, middle, end = (merged.index(m) for m in ("<<<<<<< LAO", "=======", ">>>>>>> TAO"))
    clean = _paragraphs(merged[:start])
    assert merged[end + 1 :] == []
    ours_lines, theirs_lines = merged[start + 1 : middle], merged[middle + 1 : end]
    expected_options = Options(
        (
            Option("LAO", (Run(_paragraphs(ours_lines)),) if _paragraphs(ours_lines) else ()),
            Option("TAO", (Run(_paragraphs(theirs_lines)),)),
        )
    )
    assert get(result.text, "tao").body == (Run(clean + "\n"), expected_options)
    assert kinds(result) == [("tao", ConflictKind.WORDING)]


# --- properties over generated texts and random edits -------------------------------------------

VOCABULARY = ("the", "Parties", "shall", ",", ".", "water", "not", "§", "État", "Пакистан")


@dataclass
class Draft:
    """A text taken apart for editing: each provision without children, and the tree's shape."""

    title: str
    language: str
    nodes: dict[str, Provision]
    kids: dict[str | None, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, text: Text) -> Draft:
        draft = cls(text.title, text.language, {})
        draft.kids[None] = [p.id for p in text.provisions]
        for provision, _ in walk(text):
            draft.nodes[provision.id] = replace(provision, children=())
            draft.kids[provision.id] = [c.id for c in provision.children]
        return draft

    def text(self) -> Text:
        def build(pid: str) -> Provision:
            return replace(self.nodes[pid], children=tuple(build(c) for c in self.kids[pid]))

        return Text(self.title, self.language, tuple(build(p) for p in self.kids[None]))

    def parent(self, pid: str) -> str | None:
        return next(p for p, kids in self.kids.items() if pid in kids)

    def below(self, pid: str) -> set[str]:
        out, stack = set(), [pid]
        while stack:
            x = stack.pop()
            out.add(x)
            stack.extend(self.kids[x])
        return out

    def depth(self, pid: str | None) -> int:
        """How many levels down ``pid`` stands (0 for the top, where None stands)."""
        n = 0
        while pid is not None:
            pid, n = self.parent(pid), n + 1
        return n

    def height(self, pid: str) -> int:
        """Levels in the subtree of ``pid``, itself included."""
        return 1 + max((self.height(c) for c in self.kids[pid]), default=0)

    def detach(self, pid: str) -> None:
        self.kids[self.parent(pid)].remove(pid)

    def delete(self, pid: str) -> None:
        self.detach(pid)
        for x in self.below(pid):
            del self.nodes[x]
            del self.kids[x]


class Editor:
    """Random edits a delegation might make: words, headings, kinds, reservations, provisions."""

    NEW_IDS = ("zz-new-1", "zz-new-2", "zz-new-3")

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def edit(self, text: Text) -> Text:
        draft = Draft.of(text)
        for pid in list(draft.nodes):
            if pid in draft.nodes:
                self.provision(draft, pid)
        if self.rng.random() < 0.1:
            draft.title = self.phrase(draft.title)
        if self.rng.random() < 0.05:
            draft.language = self.rng.choice(("en", "fr", "ar"))
        if self.rng.random() < 0.3:
            self.add(draft)
        return validate(draft.text())

    def provision(self, draft: Draft, pid: str) -> None:
        roll = self.rng.random()
        node = draft.nodes[pid]
        if roll < 0.35:
            draft.nodes[pid] = replace(node, body=self.body(node.body))
        elif roll < 0.42:
            heading = self.phrase(node.heading) if self.rng.random() < 0.8 else None
            draft.nodes[pid] = replace(node, heading=heading)
        elif roll < 0.45:
            draft.nodes[pid] = replace(node, kind=self.rng.choice(list(Kind)))
        elif roll < 0.5:
            codes = set(node.reservations) ^ {self.rng.choice(("AF", "PK", "QA"))}
            draft.nodes[pid] = replace(node, reservations=tuple(sorted(codes)))
        elif roll < 0.56:
            draft.delete(pid)
        elif roll < 0.62:
            self.move(draft, pid)

    def move(self, draft: Draft, pid: str) -> None:
        height = draft.height(pid)
        targets = [None, *(x for x in draft.nodes if x not in draft.below(pid))]
        target = self.rng.choice([t for t in targets if draft.depth(t) + height <= MAX_DEPTH])
        draft.detach(pid)
        draft.kids[target].insert(self.rng.randint(0, len(draft.kids[target])), pid)

    def add(self, draft: Draft) -> None:
        pid = self.rng.choice(self.NEW_IDS)
        if pid in draft.nodes:
            return
        body = tuple(body_from_tokens(split(self.phrase(None))))
        draft.nodes[pid] = Provision(pid, Kind.PARAGRAPH, body=body)
        draft.kids[pid] = []
        targets = [None, *(x for x in draft.nodes if x != pid and draft.depth(x) < MAX_DEPTH)]
        target = self.rng.choice(targets)
        draft.kids[target].insert(self.rng.randint(0, len(draft.kids[target])), pid)

    def phrase(self, heading: str | None) -> str:
        words = (heading or "").split()
        for _ in range(self.rng.randint(1, 2)):
            words.insert(self.rng.randint(0, len(words)), self.word())
        if len(words) > 1 and self.rng.random() < 0.4:
            del words[self.rng.randrange(len(words))]
        return " ".join(words)

    def word(self) -> str:
        return self.rng.choice((*VOCABULARY, f"w{self.rng.randint(0, 999)}"))

    def body(self, body: tuple[Inline, ...]) -> tuple[Inline, ...]:
        tokens = body_tokens(body)
        for _ in range(self.rng.randint(1, 3)):
            self.token_edit(tokens)
        edited = body_from_tokens(_tidy(tokens))
        try:
            validate(Text("t", provisions=(Provision("x", Kind.ARTICLE, body=edited),)))
        except InvalidInputError:
            return body
        return edited

    def token_edit(self, tokens: list[Token]) -> None:
        solid = [i for i, t in enumerate(tokens) if not _space(t)]
        op = self.rng.choice(("insert", "insert", "delete", "replace", "resolve", "break"))
        at = self.rng.choice(solid) if solid else 0
        if op == "insert" or not solid:
            tokens[at:at] = [self.word(), " "]
        elif op == "delete":
            del tokens[at : at + 2]
        elif op == "replace":
            tokens[at] = self.word()
        elif op == "resolve":
            tokens[at : at + 1] = _resolved(tokens[at], self.rng)
        elif op == "break" and at + 1 < len(tokens) and tokens[at + 1] == " ":
            tokens[at + 1] = "\n"


def _space(token: object) -> bool:
    return isinstance(token, str) and token.isspace()


def _resolved(token: Token, rng: random.Random) -> list[Token]:
    if isinstance(token, Bracket):
        return list(split(token.text))
    if isinstance(token, Options):
        return list(body_tokens(rng.choice(token.options).body))
    return [Bracket(str(token), ("AF",))]


def _tidy(tokens: list[Token]) -> list[Token]:
    out: list[Token] = []
    for token in tokens:
        if _space(token) and (not out or _space(out[-1])):
            if out and token == "\n":
                out[-1] = token
            continue
        out.append(token)
    return out[:-1] if out and _space(out[-1]) else out


@st.composite
def amended(draw: st.DrawFn) -> tuple[Text, Text, Text]:
    base = draw(texts(max_provisions=8, max_depth=3))
    ours = Editor(draw(st.randoms(use_true_random=False))).edit(base)
    theirs = Editor(draw(st.randoms(use_true_random=False))).edit(base)
    return base, ours, theirs


def words(body: Iterable[Inline], *, in_options: bool = True) -> Counter[str]:
    """Words (and marks) of a body, in options too unless told not to; a word in a bracket is
    told apart (``[the`` is not ``the``), since bracketing a word is an edit of its own."""
    out: Counter[str] = Counter()
    for item in body:
        if isinstance(item, Run):
            out.update(w for w in split(item.text) if is_word(w))
        elif isinstance(item, Bracket):
            out.update("[" + w for w in split(item.text) if is_word(w))
        elif in_options:
            for option in item.options:
                out.update(words(option.body))
    return out


def _flattened(body: Iterable[Inline]) -> str:
    """All the text of a body, options included: where an options group touches a word with no
    space, flattening it joins the words, so a word is then looked for as a substring."""
    parts: list[str] = []
    for item in body:
        if isinstance(item, Options):
            parts += [_flattened(option.body) for option in item.options]
        else:
            parts.append(item.text)
    return " | ".join(parts)


def line_words(line: str | None) -> Counter[str]:
    return Counter(w for w in split(line or "") if is_word(w))


def groups(body: Iterable[Inline]) -> set[Options]:
    return {x for x in body if isinstance(x, Options)}


@settings(max_examples=300)
@given(amended())
def test_merged_texts_are_valid_and_lose_no_edit(drafts: tuple[Text, Text, Text]) -> None:
    base, ours, theirs = drafts
    result = merge(base, ours, theirs, AF, PK)
    validate(result.text)
    merged, before = provisions_by_id(result.text), provisions_by_id(base)
    for side, other in ((ours, theirs), (theirs, ours)):
        title = line_words(side.title) - line_words(base.title)
        recorded = " ".join(f"{c.ours} {c.theirs}" for c in result.conflicts if c.provision is None)
        assert not title - line_words(result.text.title) - line_words(recorded)
        for pid, provision in provisions_by_id(side).items():
            _check_insertions(result, merged, before.get(pid), provision)
        for pid, provision in before.items():
            _check_deletions(merged.get(pid), provision, side, other)


def _check_insertions(
    result: MergeResult, merged: dict[str, Provision], base: Provision | None, side: Provision
) -> None:
    added = words(side.body) - words(base.body if base else ())
    assert side.id in merged or not added, f"{side.id} lost with words {added}"
    if side.id in merged:
        missing = added - words(merged[side.id].body)
        everything = _flattened(merged[side.id].body)
        assert all(everything.count(w.lstrip("[")) >= n for w, n in missing.items()), (
            f"{side.id}: lost {missing}"
        )
        heading = line_words(side.heading) - line_words(base.heading if base else None)
        recorded = " ".join(
            f"{c.ours} {c.theirs}" for c in result.conflicts if c.provision == side.id
        )
        kept = line_words(merged[side.id].heading) + line_words(recorded)
        assert not heading - kept, f"{side.id}: heading words lost"


def _check_deletions(merged: Provision | None, base: Provision, side: Text, other: Text) -> None:
    """A word one side deleted is gone from the settled text, or an options group shows it.

    What a side inserted and deleted is read from the merge's own word alignment (``word_diff``):
    with repeated words, counts alone cannot tell a moved word from a deleted one.
    """
    mine, theirs = find(side, base.id), find(other, base.id)
    if merged is None:
        return
    created = groups(merged.body) - groups(base.body) - groups(mine.body if mine else ())
    if created - groups(theirs.body if theirs else ()):
        return
    removed, added = changes(base.body, mine.body if mine else ())
    _, added_there = changes(base.body, theirs.body if theirs else ())
    before, settled = words(base.body, in_options=False), words(merged.body, in_options=False)
    for word, n in removed.items():
        limit = before[word] - n + added[word] + added_there[word]
        assert settled[word] <= limit, f"{base.id}: {word!r} came back"


def changes(a: tuple[Inline, ...], b: tuple[Inline, ...]) -> tuple[Counter[str], Counter[str]]:
    """Words deleted from ``a`` and inserted into ``b``, as the merge aligns them."""
    ta, tb = ([*body_tokens(x), " "] for x in (a, b))
    removed: Counter[str] = Counter()
    inserted: Counter[str] = Counter()
    for tag, i1, i2, j1, j2 in word_diff(ta, tb):
        if tag != "equal":
            removed += words(body_from_tokens(ta[i1:i2]), in_options=False)
            inserted += words(body_from_tokens(tb[j1:j2]), in_options=False)
    return removed, inserted


@settings(max_examples=200)
@given(amended())
def test_a_one_sided_merge_gives_that_side(drafts: tuple[Text, Text, Text]) -> None:
    base, ours, _ = drafts
    for result, expected in (
        (merge(base, base, ours, AF, PK), ours),
        (merge(base, ours, base, AF, PK), ours),
        (merge(base, ours, ours, AF, PK), ours),
    ):
        assert result.text == expected
        assert result.clean


def canonical(text: Text, conflicts: Iterable[Conflict]) -> dict[str, object]:
    """What must not depend on which side is called ours: content and parent per id, options in
    a fixed order; values that a recorded conflict settled in ours' favour are left out."""
    settled = {(c.provision, c.kind) for c in conflicts}
    moved = {c.provision for c in conflicts if c.kind in (ConflictKind.MOVE, ConflictKind.DEPTH)}
    out: dict[str, object] = {}
    if (None, ConflictKind.TITLE) not in settled:
        out["title"] = text.title
    if (None, ConflictKind.LANGUAGE) not in settled:
        out["language"] = text.language
    for provision, ancestors in walk(text):
        pid = provision.id
        out[pid] = (
            None if (pid, ConflictKind.KIND) in settled else provision.kind,
            None if (pid, ConflictKind.HEADING) in settled else provision.heading,
            tuple(_sorted_options(x) for x in provision.body),
            provision.reservations,
            None if pid in moved else (ancestors[-1:] or None),
            sorted(c.id for c in provision.children if c.id not in moved),
        )
    return out


def _sorted_options(item: Inline) -> Inline:
    if isinstance(item, Options):
        return Options(tuple(sorted(item.options, key=repr)))
    return item


@settings(max_examples=300)
@given(amended())
def test_swapping_the_sides_only_swaps_attribution(drafts: tuple[Text, Text, Text]) -> None:
    base, ours, theirs = drafts
    forward = merge(base, ours, theirs, AF, PK)
    backward = merge(base, theirs, ours, PK, AF)
    conflicts = [*forward.conflicts, *backward.conflicts]
    one_way, other_way = canonical(forward.text, conflicts), canonical(backward.text, conflicts)
    differ = {k: (one_way.get(k), other_way.get(k)) for k in one_way.keys() | other_way.keys()}
    assert one_way == other_way, {k: v for k, v in differ.items() if v[0] != v[1]}
    assert forward.options_created == backward.options_created
    assert _unmoved(forward) == _unmoved(backward)


def _unmoved(result: MergeResult) -> list[str]:
    """Conflicts other than moves (which one of two crossed moves gives way depends on ours)."""
    return sorted(
        repr(k) for k in kinds(result) if k[1] not in (ConflictKind.MOVE, ConflictKind.DEPTH)
    )


# --- against git merge-file ---------------------------------------------------------------------

GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="git is not installed")


def git_merge(tmp: Path, base: list[str], ours: list[str], theirs: list[str]) -> list[str] | None:
    """``git merge-file -p`` on one item per line: the merged lines, or None on a conflict."""
    for name, lines in (("base", base), ("ours", ours), ("theirs", theirs)):
        (tmp / name).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    assert GIT is not None
    done = subprocess.run(
        [GIT, "merge-file", "-p", str(tmp / "ours"), str(tmp / "base"), str(tmp / "theirs")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode >= 0, done.stderr
    return done.stdout.splitlines() if done.returncode == 0 else None


class Counter3:
    """Fresh, never-repeated words, so that every line git compares is unique."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"


@dataclass(frozen=True)
class LineEdits:
    """How one kind of item is replaced, edited the same way by both sides, and inserted."""

    replace: Callable[[str, Counter3], str]
    same: Callable[[str], str]
    insert: Callable[[Counter3], str]

    def apply(self, rng: random.Random, lines: list[str], fresh: Counter3) -> list[str]:
        """Random replacements, deletions, insertions and shared edits of distinct items."""
        out: list[str] = []
        for line in lines:
            roll = rng.random()
            if roll < 0.05:
                out.append(self.replace(line, fresh))
            elif roll < 0.08:
                out.append(self.same(line))
            elif roll >= 0.12:
                out.append(line)
            if rng.random() < 0.05:
                out.append(self.insert(fresh))
        return out


WORD_EDITS = LineEdits(lambda _, f: f("n"), lambda w: f"{w}x", lambda f: f("i"))
PROVISION_EDITS = LineEdits(
    lambda line, f: f"{line} {f('e')}", lambda line: f"{line} amended", lambda f: f"{f('i')} shall"
)


@needs_git
def test_words_agree_with_git_merge_file_whenever_git_merges_cleanly(tmp_path: Path) -> None:
    """Each word on its own line for git: the lines git compares are exactly the words Parley
    compares (the spaces between words carry no edits), so a clean git merge must be a clean
    Parley merge with the same words."""
    agreed = 0
    for seed in range(250):
        rng, fresh = random.Random(seed), Counter3()
        base = [fresh("b") for _ in range(rng.randint(1, 40))]
        ours, theirs = (WORD_EDITS.apply(rng, base, fresh) for _ in "ot")
        expected = git_merge(tmp_path, base, ours, theirs)
        if expected is None:
            continue
        agreed += 1
        result = merge(one(" ".join(base)), one(" ".join(ours)), one(" ".join(theirs)), AF, PK)
        assert result.clean, seed
        got = plain(get(result.text, "art-1").body).split()
        assert got == expected, seed
    assert agreed > 50


@needs_git
def test_provisions_agree_with_git_merge_file_whenever_git_merges_cleanly(tmp_path: Path) -> None:
    """Each provision's body on one line for git (its words made unique so git's line matching
    is the id matching): a clean git merge must be a clean Parley merge with the same bodies in
    the same order."""
    agreed = 0
    for seed in range(250):
        rng, fresh = random.Random(seed), Counter3()
        base = [f"{fresh('p')} shall" for _ in range(rng.randint(1, 25))]
        ours, theirs = (PROVISION_EDITS.apply(rng, base, fresh) for _ in "ot")
        expected = git_merge(tmp_path, base, ours, theirs)
        if expected is None:
            continue
        agreed += 1
        result = merge(_as_provisions(base), _as_provisions(ours), _as_provisions(theirs), AF, PK)
        assert result.clean, seed
        assert [plain(p.body) for p, _ in walk(result.text)] == expected, seed
    assert agreed > 50


def _as_provisions(lines: list[str]) -> Text:
    """One provision per line, its id the line's first word (edits keep it, additions are new)."""
    return doc(*(Provision(line.split()[0], Kind.ARTICLE, body=(Run(line),)) for line in lines))
