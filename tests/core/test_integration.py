"""Which version returns are merged against: the one they amend, and no other."""

from __future__ import annotations

import pytest

from parley.core import textformat
from parley.core.event import EventType
from parley.core.integration import (
    Return,
    base_of,
    check_current,
    decide,
    integrate,
    is_return_of,
    superseded,
)
from parley.core.protocol import Version
from parley.core.text import Text
from parley.errors import NotFoundError, PreconditionError
from tests.negotiation import clean_text

DRAFT, NEXT = "d" * 64, "e" * 64
VERSIONS = {
    DRAFT: Version(DRAFT, "QA", "1" * 64, (), EventType.PROPOSE),
    NEXT: Version(NEXT, "QA", "2" * 64, (DRAFT,), EventType.INTEGRATE),
    "a" * 64: Version("a" * 64, "PK", "3" * 64, (DRAFT,), EventType.AMEND),
    "b" * 64: Version("b" * 64, "AF", "4" * 64, (DRAFT,), EventType.AMEND),
    "c" * 64: Version("c" * 64, "AF", "5" * 64, (NEXT,), EventType.AMEND),
}


def test_the_base_is_found_from_the_returns_or_checked() -> None:
    assert base_of(VERSIONS, ["a" * 64, "b" * 64], None) == DRAFT
    assert base_of(VERSIONS, ["a" * 64, "b" * 64], DRAFT) == DRAFT
    assert is_return_of(VERSIONS["a" * 64], DRAFT) and not is_return_of(VERSIONS["c" * 64], DRAFT)


@pytest.mark.parametrize(
    ("returns", "base", "message"),
    [
        (["a" * 64, "b" * 64], "b" * 64, "aaaaaaaa… amends dddddddd…, not bbbbbbbb…"),
        (["a" * 64, "c" * 64], None, "the returns amend different versions"),
        (["a" * 64, "c" * 64], DRAFT, "cccccccc… amends eeeeeeee…, not dddddddd…"),
        (["a" * 64, NEXT], DRAFT, r"not a returned amendment \(it came from QA's integrate\)"),
    ],
)
def test_a_base_that_would_lose_an_edit_is_refused(
    returns: list[str], base: str | None, message: str
) -> None:
    with pytest.raises(PreconditionError, match=message):
        base_of(VERSIONS, returns, base)


def test_an_unknown_return_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="ffffffff… is not in this negotiation's record"):
        base_of(VERSIONS, ["f" * 64], None)


def test_a_provision_the_mediator_words_differently_from_the_merge_is_recorded_as_reworded() -> (
    None
):
    """``parley integrate --text``: a clash the mediator settled in the published text is no
    longer options; a provision published as the merge left it keeps the merge's decision."""
    base = clean_text("Attacks cease within 30 days.")
    returns = [
        Return("PK", clean_text("Attacks cease within 10 days.")),
        Return("AF", clean_text("Attacks cease within 60 days.")),
    ]
    result = integrate(base, returns, "QA")
    assert [d["decision"] for d in result.decisions] == ["options"]
    compromise = clean_text("Attacks cease within 20 days.")
    settled = decide(base, result.text, result.conflicts, compromise)
    assert settled == [{"provision": "art-1", "decision": "reworded", "conflict": "wording"}]
    assert decide(base, result.text, result.conflicts, result.text) == list(result.decisions)
    dropped = Text(base.title, base.language, ())
    removed = decide(base, result.text, result.conflicts, dropped)
    assert removed == [{"provision": "art-1", "decision": "removed", "conflict": "wording"}]


def test_returns_to_a_superseded_text_are_not_integrated_from_it() -> None:
    """An integration from DRAFT after NEXT (an integration of other returns to DRAFT) would
    drop what NEXT changed, without a conflict: refused, with the ways on."""
    assert superseded(VERSIONS, NEXT) is None  # the current text: integrate away
    why = superseded(VERSIONS, DRAFT)
    assert why is not None
    assert why.startswith("version dddddddd… is no longer the current text: QA's integration made")
    assert "parley merge BASE CURRENT RETURN" in why and "--parent eeeeeeee" in why
    with pytest.raises(PreconditionError, match="no longer the current text"):
        check_current(VERSIONS, DRAFT)
    later = {**VERSIONS, "f" * 64: Version("f" * 64, "PK", "6" * 64, (NEXT,), EventType.AMEND)}
    assert superseded(later, NEXT) is None  # a return is no negotiating text


def _articles(*bodies: str) -> Text:
    """A text of one article per body (art-1, art-2, …)."""
    from parley.core.text import Kind, Provision, Run

    provisions = tuple(
        Provision(f"art-{n}", Kind.ARTICLE, None, (Run(b),)) for n, b in enumerate(bodies, 1)
    )
    return Text("Agreement", "en", provisions)


def test_a_clash_is_attributed_to_the_delegation_whose_words_they_are() -> None:
    """With three returns the running result holds two delegations' work: a clash with the
    third is attributed to the delegation that wrote the words, not to the mediator, and two
    mediators integrating the same returns make the same text."""
    base = _articles("Talks are held in Geneva.", "Each Party names an envoy.")
    returns = [
        Return("RA", _articles("Talks are held in Doha.", "Each Party names an envoy.")),
        Return("MT", _articles("Talks are held in Geneva.", "Each Party names two envoys.")),
        Return("DL", _articles("Talks are held in Oslo.", "Each Party names an envoy.")),
    ]
    by_un, by_au = integrate(base, returns, "UN"), integrate(base, returns, "AU")
    rendered = textformat.render(by_un.text)
    assert "Talks are held in [[RA: Doha. | DL: Oslo.]]" in rendered
    assert "Each Party names two envoys." in rendered
    assert by_un.text == by_au.text
    both = [Return("RA", returns[0].text), Return("MT", _articles("Talks in Doha.", "x y."))]
    mixed = integrate(base, [*both, returns[2]], "UN")  # RA and MT both changed art-1
    assert "DL:" in textformat.render(mixed.text) and "UN:" in textformat.render(mixed.text)


def test_a_move_is_a_decision_and_a_change_below_a_provision_is_not_its_own() -> None:
    """The record was silent about an article a return moved, and listed an article as merged
    when only one of its paragraphs changed."""
    source = (
        "Title: T\n\n# Article 1 {#a1}\n\nOne.\n\n# Article 2 {#a2}\n\n## 1. {#a2.1}\n\n"
        "Two.\n\n# Article 3 {#a3}\n\nThree.\n"
    )
    base = textformat.parse(source)
    moved = textformat.parse(source.replace("# Article 3 {#a3}\n\nThree.\n", "").replace(
        "# Article 1 {#a1}", "# Article 1 {#a3}\n\nThree.\n\n# Article 2 {#a1}"))  # fmt: skip
    reworded = textformat.parse(source.replace("Two.", "Two, amended."))
    result = integrate(base, [Return("PK", moved), Return("AF", reworded)], "QA")
    assert result.decisions == (
        {"provision": "a2.1", "decision": "merged"},
        {"provision": "a3", "decision": "moved"},
    )


def test_a_conflict_says_what_the_merge_did_with_it() -> None:
    from parley.core.integration import conflict_words
    from parley.core.merge import Conflict, ConflictKind

    cites = {"a1": "Article 1"}
    wording = Conflict("a1", ConflictKind.WORDING, "30", "90")
    assert conflict_words(wording, cites) == "Article 1: wording — options: “30” and “90”"
    heading = Conflict("a1", ConflictKind.HEADING, "Scope", "Reach")
    assert conflict_words(heading, cites) == "Article 1: heading — “Scope” kept, “Reach” set aside"
