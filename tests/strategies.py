"""Hypothesis strategies for valid negotiating texts, shared by the text, redline, merge and
protocol tests.

Everything drawn keeps the invariants of ``parley.core.text`` (``tests/core/test_textformat.py``
proves it with ``validate``). Defaults are small so that tests stay fast; pass larger limits where
size matters. The vocabulary mixes treaty words, non-ASCII scripts and every character the text
format has to escape.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from functools import cache

from hypothesis import strategies as st

from parley.core.text import (
    Bracket,
    Inline,
    Kind,
    Option,
    Options,
    Provision,
    Run,
    Text,
    normalize_body,
)

CODES = ("AF", "PK", "QA", "TR", "UN", "EU27")
"""Participant codes most draws use: the parties, the mediators and two others."""

LANGUAGES = ("en", "fr", "ar", "ps", "ur", "pt-BR")

VOCABULARY = (
    "the", "Parties", "shall", "not", "permit", "use", "of", "its", "territory", "against",
    "other", "Party", "Mechanism", "water", "river", "Article", "4", "2026", "(a)", ",", ".",
    ";", "—", "§", "“Parties”", "'s", "État", "naïve", "Пакистан", "افغانستان", "پاکستان",
    "水資源", "平和", "Ωmega", "10\u00a0km", "#", "#1", "\\", "[sic]", "{x}", "a|b", "C:\\path",
    "]", "[", "}", "{", "|", "\\#", "[[", "]]", "AF:", "e.g.",
)  # fmt: skip
"""Words drawn most of the time: treaty words, several scripts, and characters needing escapes."""

_ESCAPED = "[]{}|\\#:"

_CHARACTERS = st.one_of(
    st.sampled_from(_ESCAPED),
    st.characters(
        codec="utf-8",
        exclude_categories=("Cc", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"),
        # invisible characters a new version may not hold (``text.check_visible``)
        exclude_characters="\u00ad\u180e\u200b\u202a\u202b\u202c\u202d\u202e\u2060\u2061"
        "\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff\ufff9\ufffa\ufffb",
    ),
)


def _is_word(word: str) -> bool:
    return unicodedata.is_normalized("NFC", word) and not any(c.isspace() for c in word)


@cache
def codes() -> st.SearchStrategy[str]:
    """A participant code: mostly the usual ones, sometimes any valid code."""
    return st.one_of(
        st.sampled_from(CODES),
        st.from_regex(r"[A-Z][A-Z0-9]{1,5}", fullmatch=True),
    )


@cache
def holder_lists(max_size: int = 3) -> st.SearchStrategy[tuple[str, ...]]:
    """Sorted, unique participant codes (possibly none), as brackets and reservations hold them."""
    return st.lists(codes(), unique=True, max_size=max_size).map(lambda c: tuple(sorted(c)))


@cache
def ids() -> st.SearchStrategy[str]:
    """A provision id: realistic ones (``art-3.1.b``) or arbitrary valid ones."""
    realistic = st.builds(
        lambda kind, n, tail: f"{kind}-{n}{tail}",
        st.sampled_from(("art", "pp", "annex", "part", "sec")),
        st.integers(1, 40),
        st.sampled_from(("", ".1", ".2.a", ".3.b.ii", "_x")),
    )
    arbitrary = st.from_regex(r"[a-z0-9][a-z0-9]{0,5}(?:[._-][a-z0-9]{1,3}){0,2}", fullmatch=True)
    return st.one_of(realistic, arbitrary)


@cache
def words(*, for_heading: bool = False) -> st.SearchStrategy[str]:
    """One word: no white space inside, NFC; headings never hold brackets or braces."""
    drawn = st.one_of(
        st.sampled_from(VOCABULARY),
        st.text(_CHARACTERS, min_size=1, max_size=6),
    ).filter(_is_word)
    if for_heading:
        return drawn.filter(lambda w: not any(c in w for c in "[]{}"))
    return drawn


@cache
def phrases(*, max_words: int = 6, for_heading: bool = False) -> st.SearchStrategy[str]:
    """Words joined by single spaces: never empty, no space at either end, no line break."""
    return st.lists(words(for_heading=for_heading), min_size=1, max_size=max_words).map(" ".join)


@cache
def brackets() -> st.SearchStrategy[Bracket]:
    """A bracket: words not yet agreed, with their holders (possibly none)."""
    return st.builds(Bracket, phrases(max_words=4), holder_lists())


@st.composite
def _joined(
    draw: st.DrawFn, parts: st.SearchStrategy[str | Inline], max_items: int, breaks: bool
) -> tuple[Inline, ...]:
    """Phrases and atoms joined by a space, a paragraph break or (between atoms) nothing."""
    items = draw(st.lists(parts, max_size=max_items))
    out: list[Inline] = []
    for i, item in enumerate(items):
        if i:
            both_words = isinstance(item, str) and isinstance(items[i - 1], str)
            choices = [" ", *(["\n"] if breaks else []), *([] if both_words else [""])]
            out.append(Run(draw(st.sampled_from(choices))))
        out.append(Run(item) if isinstance(item, str) else item)
    return normalize_body(out)


@cache
def option_bodies(max_items: int = 3) -> st.SearchStrategy[tuple[Run | Bracket, ...]]:
    """The body of one option: words and brackets on one line; empty proposes deletion."""
    parts: st.SearchStrategy[str | Inline] = st.one_of(phrases(max_words=4), brackets())
    return _joined(parts, max_items, False).map(
        lambda body: tuple(x for x in body if not isinstance(x, Options))
    )


@cache
def options() -> st.SearchStrategy[Options]:
    """Two or three alternative wordings, each with its proposer."""
    option = st.builds(Option, codes(), option_bodies())
    return st.lists(option, min_size=2, max_size=3).map(lambda o: Options(tuple(o)))


@cache
def bodies(*, max_items: int = 6, paragraphs: bool = True) -> st.SearchStrategy[tuple[Inline, ...]]:
    """A provision body (possibly empty): runs, brackets and options, over several paragraphs."""
    parts: st.SearchStrategy[str | Inline] = st.one_of(
        phrases(), phrases(), phrases(), brackets(), options()
    )
    return _joined(parts, max_items, paragraphs)


_TOP_KINDS = (
    Kind.PREAMBLE, Kind.ARTICLE, Kind.ARTICLE, Kind.PART, Kind.CHAPTER, Kind.ANNEX, Kind.RECITAL,
)  # fmt: skip
_CHILD_KINDS = {
    Kind.PREAMBLE: (Kind.RECITAL,),
    Kind.PART: (Kind.CHAPTER, Kind.ARTICLE),
    Kind.CHAPTER: (Kind.SECTION, Kind.ARTICLE),
    Kind.SECTION: (Kind.ARTICLE,),
    Kind.ARTICLE: (Kind.PARAGRAPH,),
    Kind.PARAGRAPH: (Kind.SUBPARAGRAPH,),
    Kind.SUBPARAGRAPH: (Kind.POINT,),
    Kind.ANNEX: (Kind.PREAMBLE, Kind.ARTICLE, Kind.PARAGRAPH),
}


@cache
def _kinds(parent: Kind | None) -> st.SearchStrategy[Kind]:
    """Mostly the usual child of ``parent``; sometimes any kind, since the model allows it."""
    usual = _TOP_KINDS if parent is None else _CHILD_KINDS.get(parent, (Kind.PARAGRAPH,))
    return st.one_of(st.sampled_from(usual), st.sampled_from(usual), st.sampled_from(Kind))


_HEADINGS = st.none() | phrases(max_words=4, for_heading=True)
_RESERVATIONS = st.one_of(st.just(()), holder_lists(2))


def _level(
    draw: st.DrawFn, parent: Kind | None, depth: int, max_depth: int, budget: list[int]
) -> tuple[Provision, ...]:
    count = draw(st.integers(0, min(budget[0], 4)))
    budget[0] -= count
    out = []
    for _ in range(count):
        kind = draw(_kinds(parent))
        children = _level(draw, kind, depth + 1, max_depth, budget) if depth < max_depth else ()
        out.append(
            Provision(
                id="",
                kind=kind,
                heading=draw(_HEADINGS),
                body=draw(bodies(max_items=4)),
                reservations=draw(_RESERVATIONS),
                children=children,
            )
        )
    return tuple(out)


def _with_ids(provisions: tuple[Provision, ...], names: Iterator[str]) -> tuple[Provision, ...]:
    return tuple(
        Provision(next(names), p.kind, p.heading, p.body, p.reservations,
                  _with_ids(p.children, names))
        for p in provisions
    )  # fmt: skip


def _count(provisions: tuple[Provision, ...]) -> int:
    return sum(1 + _count(p.children) for p in provisions)


@st.composite
def texts(draw: st.DrawFn, *, max_provisions: int = 8, max_depth: int = 4) -> Text:
    """A valid text: a small provision tree with unique ids, headings, bodies and reservations.

    ``max_depth`` may go up to 8, the deepest the text format writes.
    """
    budget = [draw(st.integers(0, max_provisions))]
    tree = _level(draw, None, 1, max_depth, budget)
    names = draw(st.lists(ids(), min_size=_count(tree), max_size=_count(tree), unique=True))
    return Text(
        title=draw(phrases(max_words=8)),
        language=draw(st.sampled_from(LANGUAGES)),
        provisions=_with_ids(tree, iter(names)),
    )
