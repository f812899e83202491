"""The redline: provisions aligned by id, words diffed only where bodies differ, brackets and
options reported as what they mean."""

from __future__ import annotations

import json
from dataclasses import replace
from html.parser import HTMLParser

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from parley.core import redline_render, words
from parley.core import text as text_model
from parley.core.redline import (
    AtomChange,
    BracketDiff,
    Change,
    Op,
    OptionsDiff,
    ProvisionChange,
    Redline,
    Segment,
    Words,
    after,
    before,
    compare,
    diff_body,
    flat,
)
from parley.core.text import Inline, Kind, Provision, Run, Text, plain, walk
from parley.core.textformat import parse_body
from tests.strategies import bodies, texts


def art(
    pid: str,
    body: str = "",
    *children: Provision,
    kind: Kind = Kind.ARTICLE,
    heading: str | None = None,
    reservations: tuple[str, ...] = (),
) -> Provision:
    """A provision (an article unless ``kind`` says otherwise), its body in the text format."""
    parsed = parse_body(body) if body else ()
    return Provision(pid, kind, heading, parsed, reservations, children)


def para(pid: str, body: str = "", *children: Provision) -> Provision:
    return art(pid, body, *children, kind=Kind.PARAGRAPH)


def doc(*provisions: Provision, title: str = "Agreement", language: str = "en") -> Text:
    return Text(title, language, provisions)


def only(redline: Redline) -> ProvisionChange:
    assert len(redline.changes) == 1, redline.changes
    return redline.changes[0]


def body_of(old: str, new: str) -> tuple[Segment, ...]:
    return diff_body(parse_body(old), parse_body(new))


def changed_atoms(segments: tuple[Segment, ...]) -> list[BracketDiff | OptionsDiff]:
    return [
        s for s in segments if not isinstance(s, Words) and s.change is not AtomChange.UNCHANGED
    ]


def kept_words_only(segments: tuple[Segment, ...]) -> bool:
    return all(w.op is Op.EQUAL for w in flat(segments))


BASE = doc(art("art-1", "One."), art("art-2", "Two."), art("art-3", "Three."))


# --- provisions ---------------------------------------------------------------------------------


def test_identical_texts_have_no_changes() -> None:
    redline = compare(BASE, BASE)
    assert redline.unchanged
    assert redline.changes == ()
    assert redline_render.summary_line(redline.summary) == "no changes"


def test_added_provision_is_added_and_its_later_siblings_only_renumbered() -> None:
    new = doc(art("art-1", "One."), art("art-new", "New words."), *BASE.provisions[1:])
    redline = compare(BASE, new)
    assert [(c.id, c.changes) for c in redline.changes] == [
        ("art-new", (Change.ADDED,)),
        ("art-2", (Change.RENUMBERED,)),
        ("art-3", (Change.RENUMBERED,)),
    ]
    added = redline.changes[0]
    assert added.added and added.old is None and added.new is not None
    assert added.new.citation == "Article 2"
    assert added.body == (Words(Op.INSERT, "New words."),)
    assert redline.summary.added == 1 and redline.summary.moved == 0
    # a renumbered provision is named as a lawyer finds it in the old text: by its citation
    assert redline_render.details(redline.changes[1]) == ["renumbered from Article 2 to Article 3"]


def test_removed_provision_stands_where_it_was() -> None:
    new = doc(BASE.provisions[0], BASE.provisions[2])
    redline = compare(BASE, new)
    assert [(c.id, c.changes) for c in redline.changes] == [
        ("art-2", (Change.REMOVED,)),
        ("art-3", (Change.RENUMBERED,)),
    ]
    removed = redline.changes[0]
    assert removed.removed and removed.new is None and removed.old is not None
    assert removed.old.citation == "Article 2"
    assert removed.body == (Words(Op.DELETE, "Two."),)


def test_removed_first_child_comes_right_after_its_parent() -> None:
    old = doc(art("art-1", "", para("p1", "a"), para("p2", "b")), art("art-2", "c"))
    new = doc(art("art-1", "", para("p2", "b")), art("art-2", "c"))
    assert [c.id for c in compare(old, new).changes] == ["p1", "p2"]


def test_moved_to_another_parent() -> None:
    old = doc(art("art-1", "", para("p1", "a"), para("p2", "b")), art("art-2", "", para("q1", "c")))
    new = doc(art("art-1", "", para("p1", "a")), art("art-2", "", para("p2", "b"), para("q1", "c")))
    redline = compare(old, new)
    moved = redline.changes[0]
    assert moved.id == "p2" and moved.moved
    assert moved.old is not None and moved.new is not None
    assert (moved.old.parent, moved.new.parent) == ("art-1", "art-2")
    assert (moved.old.citation, moved.new.citation) == ("Article 1(2)", "Article 2(1)")
    assert "moved from Article 1(2) to Article 2(1)" in redline_render.details(moved)
    q1 = redline.changes[1]
    assert q1.id == "q1" and q1.changes == (Change.RENUMBERED,)


def test_moved_among_siblings_marks_only_the_provision_that_moved() -> None:
    ids = ["a", "b", "c", "d", "e"]
    old = doc(*(art(i, i) for i in ids))
    new = doc(*(art(i, i) for i in ["a", "c", "d", "e", "b"]))
    redline = compare(old, new)
    assert [c.id for c in redline.changes if c.moved] == ["b"]
    assert redline.summary.moved == 1
    assert {c.id for c in redline.changes if c.renumbered} == {"b", "c", "d", "e"}


def test_renumbered_only_when_an_earlier_article_is_added_elsewhere() -> None:
    old = doc(art("part-1", "", art("x", "x"), kind=Kind.PART), art("y", "y"))
    new = doc(art("part-1", "", art("w", "w"), art("x", "x"), kind=Kind.PART), art("y", "y"))
    redline = compare(old, new)
    y = next(c for c in redline.changes if c.id == "y")
    assert y.changes == (Change.RENUMBERED,)
    assert y.old is not None and y.new is not None
    assert (y.old.label, y.new.label) == ("Article 2", "Article 3")
    assert y.body == ()


def test_heading_changed() -> None:
    new = doc(replace(BASE.provisions[0], heading="Scope"), *BASE.provisions[1:])
    change = only(compare(BASE, new))
    assert change.changes == (Change.HEADING,) and change.heading_changed
    assert change.old is not None and change.new is not None
    assert (change.old.heading, change.new.heading) == (None, "Scope")


def test_kind_changed() -> None:
    new = doc(*BASE.provisions[:2], replace(BASE.provisions[2], kind=Kind.ANNEX))
    change = only(compare(BASE, new))
    assert change.kind_changed and change.renumbered
    assert change.old is not None and change.new is not None
    assert (change.old.kind, change.new.kind) == (Kind.ARTICLE, Kind.ANNEX)
    assert (change.old.label, change.new.label) == ("Article 3", "Annex I")


def test_reservation_added_and_removed() -> None:
    old = doc(art("art-1", "One.", reservations=("AF",)))
    new = doc(art("art-1", "One.", reservations=("PK",)))
    change = only(compare(old, new))
    assert change.changes == (Change.RESERVATIONS,)
    assert change.reservations_added == ("PK",)
    assert change.reservations_removed == ("AF",)
    assert redline_render.details(change) == [
        "reservation entered by PK",
        "reservation lifted by AF",
    ]


def test_title_and_language_changed() -> None:
    redline = compare(BASE, doc(*BASE.provisions, title="Accord", language="fr"))
    assert redline.title_changed and redline.language_changed
    assert redline.changes == () and not redline.unchanged


# --- words --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "The Parties shall not act.",
            "The Parties shall never act.",
            [("equal", "The Parties shall "), ("delete", "not"), ("insert", "never"),
             ("equal", " act.")],
        ),
        (
            "the quick brown fox",
            "a slow red fox",
            [("delete", "the quick brown"), ("insert", "a slow red"), ("equal", " fox")],
        ),
        ("shall act", "shall act promptly", [("equal", "shall act"), ("insert", " promptly")]),
        ("shall act promptly", "shall act", [("equal", "shall act"), ("delete", " promptly")]),
        ("one\n\ntwo", "one two", [("equal", "one"), ("delete", "\n"), ("insert", " "),
                                   ("equal", "two")]),
        # A number is one word: a changed digit shows the whole amount, date or time replaced.
        ("pay 1,000,000 euros", "pay 1,500,000 euros",
         [("equal", "pay "), ("delete", "1,000,000"), ("insert", "1,500,000"),
          ("equal", " euros")]),
        ("on 15.01.2025 at 10:30.", "on 16.01.2025 at 10:45.",
         [("equal", "on "), ("delete", "15.01.2025"), ("insert", "16.01.2025"),
          ("equal", " at "), ("delete", "10:30"), ("insert", "10:45"), ("equal", ".")]),
        ("Articles 3-5 and 7", "Articles 3–6 and 7",
         [("equal", "Articles "), ("delete", "3-5"), ("insert", "3–6"), ("equal", " and 7")]),
        # A word joined by a hyphen is replaced whole, not piece by piece around the hyphen.
        ("within seventy-two hours", "within forty-eight hours",
         [("equal", "within "), ("delete", "seventy-two"), ("insert", "forty-eight"),
          ("equal", " hours")]),
    ],
)  # fmt: skip
def test_words_changed(old: str, new: str, expected: list[tuple[str, str]]) -> None:
    segments = body_of(old, new)
    assert [(w.op.value, w.text) for w in segments if isinstance(w, Words)] == expected


def test_body_change_is_reported_with_counts() -> None:
    old = doc(art("art-1", "The Parties shall not act."))
    new = doc(art("art-1", "The Parties shall never ever act."))
    change = only(compare(old, new))
    assert change.changes == (Change.BODY,) and change.body_changed
    summary = compare(old, new).summary
    assert (summary.changed, summary.words_inserted, summary.words_deleted) == (1, 2, 1)


# --- brackets -----------------------------------------------------------------------------------


def test_bracket_added_with_new_words() -> None:
    segments = body_of("The Parties shall act.", "The Parties shall [promptly]{AF} act.")
    [atom] = changed_atoms(segments)
    assert isinstance(atom, BracketDiff) and atom.change is AtomChange.ADDED
    assert atom.new is not None and atom.new.holders == ("AF",)
    assert atom.words == (Words(Op.INSERT, "promptly"),)


def test_bracket_put_around_existing_words_is_opened() -> None:
    segments = body_of("The Parties shall act.", "[The Parties]{PK} shall act.")
    [atom] = changed_atoms(segments)
    assert isinstance(atom, BracketDiff) and atom.change is AtomChange.OPENED
    assert kept_words_only(segments)


def test_bracket_resolved_keeps_its_words() -> None:
    segments = body_of("[the Parties]{AF} shall act.", "the Parties shall act.")
    [atom] = changed_atoms(segments)
    assert isinstance(atom, BracketDiff) and atom.change is AtomChange.RESOLVED
    assert atom.holders_removed == ("AF",)
    assert kept_words_only(segments), "a resolved bracket is not words deleted and inserted"
    assert redline_render.describe(atom) == "bracket removed, words kept (was held by AF)"


def test_bracket_removed_with_its_words() -> None:
    segments = body_of("shall [promptly]{AF} act", "shall act")
    [atom] = changed_atoms(segments)
    assert isinstance(atom, BracketDiff) and atom.change is AtomChange.REMOVED
    assert atom.words == (Words(Op.DELETE, "promptly"),)


def test_bracket_holders_changed() -> None:
    segments = body_of("[the Parties]{AF} shall", "[the Parties]{AF,PK} shall")
    [atom] = changed_atoms(segments)
    assert isinstance(atom, BracketDiff) and atom.change is AtomChange.CHANGED
    assert (atom.holders_added, atom.holders_removed) == (("PK",), ())
    assert atom.words == (Words(Op.EQUAL, "the Parties"),)
    assert "holders changed from AF to AF, PK" in redline_render.describe(atom)


def test_bracket_words_changed() -> None:
    segments = body_of("[the Parties]{AF} shall", "[both Parties]{AF} shall")
    [atom] = changed_atoms(segments)
    assert isinstance(atom, BracketDiff) and atom.change is AtomChange.CHANGED
    assert atom.words == (
        Words(Op.DELETE, "the"),
        Words(Op.INSERT, "both"),
        Words(Op.EQUAL, " Parties"),
    )
    assert (atom.holders_added, atom.holders_removed) == ((), ())


# --- options ------------------------------------------------------------------------------------

GROUP = "[[AF: one wording | PK: another]] stays."


def options_of(new: str, old: str = GROUP) -> OptionsDiff:
    [atom] = changed_atoms(body_of(old, new))
    assert isinstance(atom, OptionsDiff)
    return atom


def option_changes(group: OptionsDiff) -> list[tuple[str, AtomChange]]:
    return [(o.proposer, o.change) for o in group.options]


def test_option_added() -> None:
    group = options_of("[[AF: one wording | PK: another | QA: a third]] stays.")
    assert group.change is AtomChange.CHANGED
    assert option_changes(group) == [
        ("AF", AtomChange.UNCHANGED),
        ("PK", AtomChange.UNCHANGED),
        ("QA", AtomChange.ADDED),
    ]


def test_option_removed() -> None:
    group = options_of("[[AF: one wording | PK: another]] stays.", old="[[AF: one wording | "
                       "PK: another | QA: a third]] stays.")  # fmt: skip
    assert option_changes(group)[-1] == ("QA", AtomChange.REMOVED)


def test_option_changed() -> None:
    group = options_of("[[AF: one wording | PK: yet another]] stays.")
    assert option_changes(group) == [("AF", AtomChange.UNCHANGED), ("PK", AtomChange.CHANGED)]
    assert group.options[1].body == (Words(Op.INSERT, "yet "), Words(Op.EQUAL, "another"))


def test_options_resolved_into_one_wording() -> None:
    segments = body_of(GROUP, "another stays.")
    [group] = changed_atoms(segments)
    assert isinstance(group, OptionsDiff) and group.change is AtomChange.RESOLVED
    assert group.chosen is not None and group.options[group.chosen].proposer == "PK"
    assert redline_render.describe(group) == "options resolved: PK's wording kept"
    assert all(w.op is not Op.INSERT for w in flat(segments))


def test_options_resolved_by_deletion() -> None:
    segments = body_of("x [[AF: | PK: more words]] y", "x y")
    [group] = changed_atoms(segments)
    assert isinstance(group, OptionsDiff) and group.change is AtomChange.RESOLVED
    assert redline_render.describe(group) == "options resolved: AF's deletion kept"


def test_options_added_and_removed_as_a_group() -> None:
    [added] = changed_atoms(body_of("stays.", GROUP))
    [removed] = changed_atoms(body_of(GROUP, "stays."))
    assert isinstance(added, OptionsDiff) and added.change is AtomChange.ADDED
    assert isinstance(removed, OptionsDiff) and removed.change is AtomChange.REMOVED


def test_options_opened_over_existing_words() -> None:
    segments = body_of("one wording stays.", GROUP)
    [group] = changed_atoms(segments)
    assert isinstance(group, OptionsDiff) and group.change is AtomChange.OPENED
    assert option_changes(group) == [("AF", AtomChange.UNCHANGED), ("PK", AtomChange.ADDED)]


def test_summary_counts_brackets_and_options() -> None:
    old = doc(art("art-1", "[the Parties]{AF} shall act. " + GROUP))
    new = doc(art("art-1", "the Parties shall [promptly]{PK} act. [[AF: one wording | QA: x]]"
                           " stays."))  # fmt: skip
    summary = compare(old, new).summary
    assert (summary.brackets_added, summary.brackets_removed) == (1, 1)
    assert (summary.options_added, summary.options_removed) == (1, 1)


# --- properties ---------------------------------------------------------------------------------


@given(texts())
def test_a_text_compared_with_itself_has_no_changes(text: Text) -> None:
    assert compare(text, text).unchanged


@given(bodies(), bodies())
def test_segments_give_back_both_bodies(old: tuple[Inline, ...], new: tuple[Inline, ...]) -> None:
    segments = diff_body(old, new)
    assert before(segments) == old
    assert after(segments) == new
    kept = list(flat(segments))
    assert "".join(w.text for w in kept if w.op is not Op.INSERT) == plain(old)
    assert "".join(w.text for w in kept if w.op is not Op.DELETE) == plain(new)


@given(texts(), texts())
def test_every_change_is_real_and_every_omission_unchanged(old: Text, new: Text) -> None:
    redline = compare(old, new)
    reported = {c.id: c for c in redline.changes}
    old_by_id = {p.id: p for p, _ in walk(old)}
    for provision, _ in walk(new):
        before_ = old_by_id.get(provision.id)
        if provision.id not in reported:
            assert before_ is not None
            assert (before_.kind, before_.heading, before_.body, before_.reservations) == (
                provision.kind, provision.heading, provision.body, provision.reservations,
            )  # fmt: skip
    for change in redline.changes:
        assert change.changes
        if change.body_changed:
            assert before(change.body) == old_by_id[change.id].body
            assert after(change.body) == next(p for p, _ in walk(new) if p.id == change.id).body


@st.composite
def with_one_inserted(draw: st.DrawFn) -> tuple[Text, Text]:
    """A text, and the same text with one new provision put somewhere in its tree."""
    text = draw(texts(max_provisions=10))
    parents = [None, *(p.id for p, _ in walk(text))]
    parent = draw(st.sampled_from(parents))
    fresh = Provision("zz-inserted", draw(st.sampled_from(Kind)), body=draw(bodies(max_items=2)))
    return text, Text(text.title, text.language, _insert(text.provisions, parent, fresh, draw))


def _insert(
    provisions: tuple[Provision, ...], parent: str | None, fresh: Provision, draw: st.DrawFn
) -> tuple[Provision, ...]:
    if parent is None:
        at = draw(st.integers(0, len(provisions)))
        return (*provisions[:at], fresh, *provisions[at:])
    return tuple(
        replace(p, children=_insert(p.children, None if p.id == parent else parent, fresh, draw))
        for p in provisions
    )


@given(with_one_inserted())
def test_inserting_one_provision_adds_one_and_moves_none(pair: tuple[Text, Text]) -> None:
    old, new = pair
    redline = compare(old, new)
    assert [c.id for c in redline.changes if c.added] == ["zz-inserted"]
    assert not any(c.moved or c.removed for c in redline.changes)
    assert all(set(c.changes) <= {Change.ADDED, Change.RENUMBERED} for c in redline.changes)


@given(st.permutations(list("abcdefg")))
def test_moves_are_minimal(order: list[str]) -> None:
    old = doc(*(art(i, i) for i in "abcdefg"))
    new = doc(*(art(i, i) for i in order))
    moved = compare(old, new).summary.moved
    assert moved == 7 - _longest_increasing(["abcdefg".index(x) for x in order])


def _longest_increasing(values: list[int]) -> int:
    best = [1] * len(values)
    for i in range(len(values)):
        for j in range(i):
            if values[j] < values[i]:
                best[i] = max(best[i], best[j] + 1)
    return max(best, default=0)


@settings(max_examples=50)
@given(texts(), texts())
def test_json_round_trips(old: Text, new: Text) -> None:
    data = redline_render.to_json(compare(old, new))
    assert json.loads(json.dumps(data)) == data
    assert data["format"] == "parley/redline/v1"


class _TagBalance(HTMLParser):
    """Checks that every tag opened is closed in order (void elements aside)."""

    VOID = frozenset({"meta", "input", "br", "link", "hr", "img"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unexpected </{tag}>")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def balanced(page: str) -> _TagBalance:
    checker = _TagBalance()
    checker.feed(page)
    checker.close()
    assert checker.errors == [] and checker.stack == []
    return checker


@settings(max_examples=50)
@given(texts(), texts())
def test_html_is_well_formed(old: Text, new: Text) -> None:
    redline = compare(old, new)
    balanced(redline_render.to_html(redline))
    balanced(redline_render.to_html(redline, standalone=False))


@settings(max_examples=50)
@given(texts(), texts())
def test_markdown_names_every_change(old: Text, new: Text) -> None:
    redline = compare(old, new)
    page = redline_render.to_markdown(redline)
    assert page.count("\n## ") == len(redline.changes)
    for change in redline.changes:
        assert f"(`{change.id}`)" in page


def test_html_escapes_text() -> None:
    old = doc(art("art-1", "Keep calm.", heading="A & B"))
    new = doc(art("art-1", 'Keep <script>alert("x")</script> calm.', heading="A & <i>B</i>"))
    page = redline_render.to_html(compare(old, new))
    assert "<script>" not in page and "<i>" not in page
    assert "&lt;script&gt;" in page
    checker = balanced(page)
    assert "script" in "".join(checker.text)


def test_html_has_inline_and_side_by_side_views() -> None:
    old = doc(art("art-1", "The Parties shall not act."))
    new = doc(art("art-1", "The Parties shall never act."))
    page = redline_render.to_html(compare(old, new), standalone=False)
    assert page.startswith('<div class="pl-redline pl-view-inline">')
    assert '<del class="pl-words">not</del><ins class="pl-words">never</ins>' in page
    assert '<div class="pl-body pl-old">The Parties shall <del class="pl-words">not</del>' in page
    assert '<div class="pl-body pl-new">The Parties shall <ins class="pl-words">never</ins>' in page


def test_markdown_marks_deletions_insertions_and_moves() -> None:
    old = doc(art("art-1", "[the Parties]{AF} shall not act."), art("art-2", "Two."))
    new = doc(art("art-2", "Two."), art("art-1", "the Parties shall never act."))
    page = redline_render.to_markdown(compare(old, new))
    assert "~~not~~**never**" in page
    assert "<del>\\[</del>the Parties<del>\\]{AF}</del>" in page
    assert (
        "moved from Article 1 to Article 2" in page or "moved from Article 2 to Article 1" in page
    )
    assert "bracket removed, words kept (was held by AF): “the Parties”" in page


class _Marks(HTMLParser):
    """Collects the text a Markdown renderer shows struck out, inserted, and plain."""

    DELETED, INSERTED = frozenset({"s", "del"}), frozenset({"strong", "ins"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.seen: dict[str, list[str]] = {"delete": [], "insert": [], "equal": []}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        self.open.pop()

    def handle_data(self, data: str) -> None:
        tags = set(self.open)
        op = "delete" if tags & self.DELETED else "insert" if tags & self.INSERTED else "equal"
        self.seen[op].append(data)


def _squeezed(parts: list[str]) -> str:
    return "".join("".join(parts).split()).replace("¶", "")


@settings(max_examples=200)
@given(bodies(), bodies())
@example(old=(), new=(Run("0."),))  # a line that would start an ordered list
# a format character is no punctuation to CommonMark: "\U000e0001~~¶~~" would be no mark
@example(old=(Run("the \U000e0001\nthe"),), new=(Run("\U000e0001"),))
def test_markdown_marks_are_read_as_marks(old: tuple[Inline, ...], new: tuple[Inline, ...]) -> None:
    segments = diff_body(old, new)
    page = (
        MarkdownIt("commonmark")
        .enable("strikethrough")
        .render(redline_render.markdown_body(segments))
    )
    marks = _Marks()
    marks.feed(page)
    expected: dict[str, list[str]] = {"delete": [], "insert": [], "equal": []}
    for op, text in redline_render.runs(redline_render.pieces(segments)):
        expected[op.value].append(text)
    for op in ("delete", "insert", "equal"):
        assert _squeezed(marks.seen[op]) == _squeezed(expected[op]), op


def test_markdown_escapes_markup_in_text() -> None:
    old = doc(art("art-1", "a *b* c"))
    new = doc(art("art-1", "a *b* <img src=x> c"))
    page = redline_render.to_markdown(compare(old, new))
    assert "\\*b\\*" in page and "\\<img src=x\\>" in page


# --- cost grows with the change, not the text ---------------------------------------------------


def test_only_bodies_that_differ_are_diffed(monkeypatch: pytest.MonkeyPatch) -> None:
    size = 2000
    old = doc(*(art(f"art-{i}", f"Provision {i} says something about water and land.")
                for i in range(size)))  # fmt: skip
    edited = {7, 1000, 1999}
    new = doc(
        *(
            art(f"art-{i}", f"Provision {i} says something {'new ' if i in edited else ''}about"
                " water and land.")
            for i in range(size)
        )
    )  # fmt: skip
    calls = {"diff": 0, "tokens": 0}
    real_diff, real_tokens = words.diff, words.body_tokens

    def counting_diff(a, b):  # type: ignore[no-untyped-def]
        calls["diff"] += 1
        return real_diff(a, b)

    def counting_tokens(body):  # type: ignore[no-untyped-def]
        calls["tokens"] += 1
        return real_tokens(body)

    monkeypatch.setattr(words, "diff", counting_diff)
    monkeypatch.setattr(words, "body_tokens", counting_tokens)
    redline = compare(old, new)
    assert [c.id for c in redline.changes] == [f"art-{i}" for i in sorted(edited)]
    assert calls == {"diff": 3, "tokens": 6}


def test_html_headings_take_the_level_they_are_given() -> None:
    redline = compare(doc(art("art-1", "Keep calm.")), doc(art("art-1", "Keep very calm.")))
    page = redline_render.to_html(redline)
    assert '<h1 class="pl-title">' in page and '<h2 class="pl-change-h">' in page
    embedded = redline_render.to_html(redline, standalone=False, level=3)
    assert '<h3 class="pl-title">' in embedded and '<h4 class="pl-change-h">' in embedded
    assert "<h1" not in embedded and "<h2" not in embedded  # under the page's own headings


def test_a_text_written_from_right_to_left_is_shown_so_and_its_labels_are_not() -> None:
    """An Arabic body showed "المادة 5(2)" as "(2)5": its words now carry their language and
    direction; a text written from left to right is shown exactly as before."""
    old = doc(art("art-1", "وفقا للمادة 5(2) من الاتفاق."))
    new = replace(doc(art("art-1", "وفقا للمادة 6(2) من الاتفاق.")), language="ar")
    page = redline_render.to_html(compare(replace(old, language="ar"), new), standalone=False)
    assert page.count('lang="ar" dir="rtl"') == 3  # inline, and each side
    assert '<h2 class="pl-change-h"><span class="pl-cite">' in page  # the labels as they were
    latin = redline_render.to_html(compare(old, doc(art("art-1", "x."))), standalone=False)
    assert "dir=" not in latin
    assert text_model.direction("ar") == text_model.direction("fa-IR") == "rtl"
    assert text_model.direction("en") == text_model.direction("arn") == "ltr"


def test_a_space_changed_for_a_no_break_space_or_a_joiner_is_shown() -> None:
    """ "30 days" with a no-break space for a space looked like no change at all."""
    old = doc(art("art-1", "Within 30 days, agreed."))
    new = doc(art("art-1", "Within 30\u00a0days, agre\u200ced."))
    redline = compare(old, new)
    html = redline_render.to_html(redline, standalone=False)
    assert '<ins class="pl-words">⍽</ins>' in html and "agre⟨ZWNJ⟩ed" in html
    assert "⍽" in redline_render.to_markdown(redline)
    exact = json.dumps(redline_render.to_json(redline), ensure_ascii=False)  # the data as it is
    assert "\u00a0" in exact and "⍽" not in exact
