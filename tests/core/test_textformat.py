"""The text format: lossless round trips, id assignment, and a located error for bad input."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from parley.core import canonical
from parley.core import text as text_model
from parley.core.text import (
    Bracket,
    Inline,
    Kind,
    Option,
    Options,
    Provision,
    Run,
    Text,
    citations,
    numbering,
    status,
    to_json,
    validate,
    version_hash,
    walk,
)
from parley.core.textformat import (
    parse,
    parse_body,
    parse_bytes,
    render,
    render_body,
)
from parley.errors import InvalidInputError
from tests.strategies import bodies, texts

EXAMPLE = """\
Title: Agreement on Ending Cross-Border Attacks
Language: en

# Preamble {#preamble}

The Government of the Islamic Republic of Pakistan and the Government of Afghanistan, \
hereinafter "the Parties",

## PP1 {#pp-1}

Reaffirming their commitment to the Charter of the United Nations,

# Article 1 — Definitions {#art-1}

## 1. {#art-1.1}

For the purposes of this Agreement, [the "Mechanism"]{AF,PK} means the body established under \
Article 4.

### (a) {#art-1.1.a}

[[AF: the Parties shall | PK: each Party shall]] refrain from ...

# Article 2 — Water sharing {#art-2 reserved=AF}

The Parties shall share the waters of the river \\[as defined\\] equitably.

Second paragraph of the same body.
"""


def _text(*provisions: Provision, title: str = "T") -> Text:
    return Text(title, "en", provisions)


def _body(source: str) -> tuple[Inline, ...]:
    return parse(f"Title: T\n\n# Article 1 {{#a}}\n\n{source}\n").provisions[0].body


def _error(source: str, **kwargs: bool) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as caught:
        parse(source, **kwargs)
    return caught.value


# --- the example --------------------------------------------------------------------------------


def test_the_example_parses_to_the_expected_tree() -> None:
    expected = Text(
        title="Agreement on Ending Cross-Border Attacks",
        language="en",
        provisions=(
            Provision(
                "preamble",
                Kind.PREAMBLE,
                body=(
                    Run(
                        "The Government of the Islamic Republic of Pakistan and the Government "
                        'of Afghanistan, hereinafter "the Parties",'
                    ),
                ),
                children=(
                    Provision(
                        "pp-1",
                        Kind.RECITAL,
                        body=(
                            Run(
                                "Reaffirming their commitment to the Charter of the United Nations,"
                            ),
                        ),
                    ),
                ),
            ),
            Provision(
                "art-1",
                Kind.ARTICLE,
                heading="Definitions",
                children=(
                    Provision(
                        "art-1.1",
                        Kind.PARAGRAPH,
                        body=(
                            Run("For the purposes of this Agreement, "),
                            Bracket('the "Mechanism"', ("AF", "PK")),
                            Run(" means the body established under Article 4."),
                        ),
                        children=(
                            Provision(
                                "art-1.1.a",
                                Kind.SUBPARAGRAPH,
                                body=(
                                    Options(
                                        (
                                            Option("AF", (Run("the Parties shall"),)),
                                            Option("PK", (Run("each Party shall"),)),
                                        )
                                    ),
                                    Run(" refrain from ..."),
                                ),
                            ),
                        ),
                    ),
                ),
            ),
            Provision(
                "art-2",
                Kind.ARTICLE,
                heading="Water sharing",
                body=(
                    Run(
                        "The Parties shall share the waters of the river [as defined] "
                        "equitably.\nSecond paragraph of the same body."
                    ),
                ),
                reservations=("AF",),
            ),
        ),
    )
    assert parse(EXAMPLE) == expected
    assert render(expected) == EXAMPLE
    assert numbering(expected)["art-1.1.a"] == "(a)"


@pytest.mark.parametrize("name", ["draft-v1.txt", "draft-v2.txt"])
def test_the_packaged_drafts_are_canonical_and_fully_identified(name: str) -> None:
    source = resources.files("parley.examples").joinpath(name).read_text(encoding="utf-8")
    text = parse(source, require_ids=True)
    assert render(text) == source
    counts = status(text)
    assert counts.provisions > 40
    assert counts.brackets and counts.options
    kinds = {p.kind for p, _ in walk(text)}
    assert {Kind.PREAMBLE, Kind.RECITAL, Kind.ARTICLE, Kind.PARAGRAPH, Kind.ANNEX} <= kinds


def test_the_second_draft_revises_the_first() -> None:
    def load(name: str) -> Text:
        folder = resources.files("parley.examples")
        return parse(folder.joinpath(name).read_text(encoding="utf-8"))

    v1, v2 = load("draft-v1.txt"), load("draft-v2.txt")
    ids1 = {p.id: (p, a) for p, a in walk(v1)}
    ids2 = {p.id: (p, a) for p, a in walk(v2)}
    assert ids1.keys() - ids2.keys(), "a provision is removed"
    assert ids2.keys() - ids1.keys(), "a provision is added"
    common = ids1.keys() & ids2.keys()
    assert any(ids1[i][0].body != ids2[i][0].body for i in common), "wording changes"
    assert any(ids1[i][0].heading != ids2[i][0].heading for i in common), "a heading changes"
    order1 = [p.id for p in v1.provisions if p.kind is Kind.ARTICLE]
    order2 = [p.id for p in v2.provisions if p.kind is Kind.ARTICLE]
    assert [i for i in order1 if i in order2] != [i for i in order2 if i in order1], "a move"
    assert status(v2).brackets < status(v1).brackets, "a bracket is resolved"
    assert status(v2).options > status(v1).options, "a new options group"


# --- round trips --------------------------------------------------------------------------------


@settings(max_examples=100)
@given(texts())
def test_generated_texts_are_valid(text: Text) -> None:
    assert validate(text) is text


@settings(max_examples=300)
@given(bodies())
def test_generated_bodies_are_valid(body: tuple[Inline, ...]) -> None:
    validate(_text(Provision("a", Kind.ARTICLE, body=body)))


@settings(max_examples=200)
@given(texts())
def test_parse_inverts_render(text: Text) -> None:
    source = render(text)
    assert parse(source) == text
    assert render(parse(source)) == source
    assert parse(source, require_ids=True) == text


@settings(max_examples=40)
@given(texts(max_provisions=30, max_depth=8))
def test_parse_inverts_render_for_deep_texts(text: Text) -> None:
    assert parse(render(text)) == text


@settings(max_examples=500)
@given(bodies())
def test_parse_body_inverts_render_body(body: tuple[Inline, ...]) -> None:
    assert parse_body(render_body(body)) == body


def test_canonical_form_ends_with_one_newline_and_uses_lf() -> None:
    source = render(parse(EXAMPLE))
    assert source.endswith(".\n") and "\r" not in source and "\n\n\n" not in source
    assert render(_text()) == "Title: T\nLanguage: en\n"


# --- non-canonical input is normalized ----------------------------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        EXAMPLE.replace("\n", "\r\n"),
        "\ufeff" + EXAMPLE,
        EXAMPLE.replace("Language: en\n", ""),
        EXAMPLE.replace("Title: ", "title:   "),
        EXAMPLE.replace("# Article 2 — ", "# ARTICLE 7 - "),
        EXAMPLE.replace("# Article 1 — ", "# article 9: "),
        EXAMPLE.replace("# Article 1 — ", "# Article 1 – "),
        EXAMPLE.replace("## 1. {", "## 42. {").replace("## PP1", "## pp 7"),
        EXAMPLE.replace("### (a)", "### (zz)"),
        EXAMPLE.replace("{AF,PK}", "{PK, AF,PK}"),
        EXAMPLE.replace("reserved=AF}", "reserved=AF,AF}"),
        EXAMPLE.replace("{#art-2 reserved=AF}", "{reserved=AF #art-2}   "),
        EXAMPLE.replace("The Parties shall share", "The  Parties\tshall   share"),
        EXAMPLE.replace("river \\[as", "river\n\\[as"),
        EXAMPLE.replace("# Preamble {#preamble}\n\n", "# Preamble {#preamble}\n"),
        EXAMPLE.replace("\n\nSecond", "\n\n\n   \n\nSecond  "),
        EXAMPLE.replace("[[AF: the Parties shall | PK:", "[[ AF:the Parties shall  |PK :"),
        EXAMPLE.replace('[the "Mechanism"]', '[  the "Mechanism" ]'),
        EXAMPLE.replace("Reaffirming", "Reaffirming").replace("Charter", "Cha\u0072ter"),
        EXAMPLE + "\n\n\n",
    ],
)
def test_non_canonical_variants_parse_to_the_same_text(variant: str) -> None:
    assert parse(variant) == parse(EXAMPLE)


def test_input_is_nfc_normalized() -> None:
    decomposed = "Title: Accord entre l'E\u0301tat A et l'E\u0301tat B\n"
    assert parse(decomposed).title == "Accord entre l'État A et l'État B"


def test_explicit_kind_is_kept_and_written_only_when_the_label_is_ambiguous() -> None:
    source = (
        "Title: T\n\n# Schedule — Maps {#maps kind=annex}\n\n"
        "## (a) {#x kind=point}\n\n### (i) {#y kind=subparagraph}\n"
    )
    text = parse(source)
    assert [p.kind for p, _ in walk(text)] == [Kind.ANNEX, Kind.POINT, Kind.SUBPARAGRAPH]
    assert text.provisions[0].heading == "Maps"
    assert render(text) == (
        "Title: T\nLanguage: en\n\n# Annex I — Maps {#maps}\n\n"
        "## (i) {#x kind=point}\n\n### (a) {#y}\n"
    )


def test_lettered_labels_take_their_kind_from_the_parent() -> None:
    text = parse("Title: T\n\n# 1.\n\n## (a)\n\n### (b)\n\n#### (c)\n\n# (d)\n")
    kinds = [p.kind for p, _ in walk(text)]
    assert kinds == [Kind.PARAGRAPH, Kind.SUBPARAGRAPH, Kind.POINT, Kind.SUBPARAGRAPH,
                     Kind.SUBPARAGRAPH]  # fmt: skip


# --- bodies and escapes -------------------------------------------------------------------------


def test_paragraph_breaks_live_inside_runs() -> None:
    assert _body("[a]\n\n[b]{PK}\n\nend") == (
        Bracket("a"), Run("\n"), Bracket("b", ("PK",)), Run("\nend"),
    )  # fmt: skip


def test_escapes_are_resolved_and_rendered_only_where_needed() -> None:
    body = _body("\\# 1 \\\\ \\{x\\} a|b \\| [c|d] [[AF: e\\|f [g\\|h]{PK} | TR:]]")
    assert body == (
        Run("# 1 \\ {x} a|b | "),
        Bracket("c|d"),
        Run(" "),
        Options((Option("AF", (Run("e|f "), Bracket("g|h", ("PK",)))), Option("TR", ()))),
    )
    assert render_body(body) == "\\# 1 \\\\ \\{x\\} a|b | [c|d] [[AF: e\\|f [g\\|h]{PK} | TR:]]"


def test_a_hash_is_escaped_at_the_start_of_every_paragraph_only() -> None:
    body = (Run("#1 and #2\n#3"),)
    assert render_body(body) == "\\#1 and #2\n\n\\#3"
    assert parse_body(render_body(body)) == body


def test_an_option_may_end_in_a_bracket() -> None:
    body = _body("[[AF: [x] | PK: [y]]] and [z]")
    assert body == (
        Options((Option("AF", (Bracket("x"),)), Option("PK", (Bracket("y"),)))),
        Run(" and "),
        Bracket("z"),
    )


def test_empty_holder_list_means_no_holders() -> None:
    assert _body("[x]{}") == (Bracket("x"),)


def test_no_break_space_beside_a_paragraph_break_round_trips() -> None:
    text = _text(Provision("a", Kind.ARTICLE, body=(Run("one\u00a0\n\u00a0two"),)))
    assert parse(render(text)) == text


def test_white_space_at_the_edges_of_a_body_is_dropped() -> None:
    assert _body("\u00a0 one \u3000") == (Run("one"),)


def test_parse_body_numbers_errors_from_the_given_line() -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_body("fine\n\nnot [fine", line=10)
    assert (caught.value.line, caught.value.column) == (12, 5)


def test_parse_body_refuses_a_heading_line() -> None:
    with pytest.raises(InvalidInputError, match="cannot start with '#'"):
        parse_body("# Article 1")


# --- ids ----------------------------------------------------------------------------------------

UNNUMBERED = """\
Title: T

# Preamble

## PP1

## PP2

# Part I

## Chapter 1

### Article 1

#### 1.

##### (a)

###### (i)

### Article 2 {#art-1}

## Chapter 2

### Article 3

# Article 4

## 1.

## 2.

# Annex I

## Article 1

### 1.

# Annex II

## 1.
"""


def test_ids_are_assigned_from_kind_and_position() -> None:
    text = parse(UNNUMBERED)
    assert [p.id for p, _ in walk(text)] == [
        "preamble", "pp-1", "pp-2",
        "part-1", "part-1.ch-1", "art-1-2", "art-1-2.1", "art-1-2.1.a", "art-1-2.1.a.i",
        "art-1", "part-1.ch-2", "art-3",
        "art-4", "art-4.1", "art-4.2",
        "annex-1", "annex-1.art-1", "annex-1.art-1.1",
        "annex-2", "annex-2.1",
    ]  # fmt: skip


def test_assigned_ids_are_deterministic_and_stable_under_render() -> None:
    text = parse(UNNUMBERED)
    assert parse(UNNUMBERED) == text
    assert parse(render(text), require_ids=True) == text


def test_top_level_numbered_provisions_get_prefixed_ids() -> None:
    text = parse("Title: T\n\n# 1.\n\n# 2.\n\n## (a)\n\n# (a) {#z kind=point}\n\n# (b)\n")
    assert [p.id for p, _ in walk(text)] == ["para-1", "para-2", "para-2.a", "z", "subpara-a"]


def test_require_ids_refuses_a_heading_without_one() -> None:
    error = _error("Title: T\n\n# Article 1 {#a}\n\n# Article 2\n", require_ids=True)
    assert error.reason.startswith("heading without id where one is required")
    assert (error.line, error.column) == (5, 12)


def test_an_id_too_long_to_extend_must_be_given() -> None:
    long_id = "a" * 64
    error = _error(f"Title: T\n\n# Article 1 {{#{long_id}}}\n\n## 1.\n")
    assert "give it one" in error.reason and error.line == 5


# --- errors -------------------------------------------------------------------------------------

HEAD = "Title: T\n\n# Article 1 {#a}\n\n"

ERRORS = [
    # (source, line, column, words in the message)
    (HEAD + "one [two three\n", 5, 5, "unclosed bracket"),
    (HEAD + "one\n[two\nthree\n", 6, 1, "unclosed bracket"),
    (HEAD + "one two] three\n", 5, 8, "unexpected ']'"),
    (HEAD + "one [[AF: two | PK: three\n", 5, 5, "unclosed options"),
    (HEAD + "[[the Parties | PK: each]]\n", 5, 3, "option without 'CODE:'"),
    (HEAD + "[[AF: a | pk: b]]\n", 5, 11, "bad proposer code 'pk'"),
    (HEAD + "[[AF: a]]\n", 5, 1, "at least two alternatives"),
    (HEAD + "[[AF: a [[x | y]] | PK: b]]\n", 5, 9, "options cannot nest"),
    (HEAD + "[[AF: a] | PK: b]]\n", 5, 8, "unexpected ']' inside options"),
    (HEAD + "[[AF: [a | PK: b]]\n", 5, 7, "unclosed bracket"),
    (HEAD + "[one]{AF,pk}\n", 5, 10, "bad holder code 'pk'"),
    (HEAD + "[one]{AF\n", 5, 6, "unclosed holder list"),
    (HEAD + "[one] {AF}\n", 5, 7, "unexpected '{'"),
    (HEAD + "[  ]\n", 5, 1, "empty bracket"),
    (HEAD + "[one [two]]\n", 5, 1, "unclosed bracket"),
    (HEAD + "one [four times a year{PK}\n", 5, 5, "no ']' before the '{'"),
    (HEAD + "Pay [$5 {approx}] now.\n", 5, 9, "unexpected '{'"),
    (HEAD + "a \\x b\n", 5, 3, "backslash"),
    (HEAD + "a b \\\n", 5, 5, "backslash"),
    (HEAD + "#hashtag\n", 5, 2, "space after its '#'"),
    (HEAD + "  ## 1.\n", 5, 1, "first column"),
    ("Title: T\n\n# Article 1\n\n### (a)\n", 5, 1, "heading level jumps"),
    ("Title: T\n\n## Article 1\n", 3, 1, "the first heading has one '#'"),
    ("Title: T\n\n" + "#" * 9 + " (a)\n", 3, 1, "at most 8 levels"),
    ("Title: T\n\nThe Parties agree.\n", 3, 1, "body text before the first heading"),
    ("Title:   \n", 1, 10, "empty title"),
    ("Language: en\n\n# Article 1\n", 1, 1, "missing title"),
    ("", 1, 1, "missing title"),
    ("# Article 1\n", 1, 1, "missing title"),
    ("The Parties\n", 1, 1, "must start with a header line"),
    ("Title: T\nAuthor: X\n", 2, 1, "unknown header key 'Author'"),
    ("Title: T\ntitle: U\n", 2, 1, "duplicate header key 'Title' (first on line 1)"),
    ("Title: T\nLanguage: English\n", 2, 11, "language must be a tag"),
    ("Title: T\nno colon here\n", 2, 1, "expected a header line"),
    ("Title: T\n\n# Article 1 {#a foo=bar}\n", 3, 17, "bad attribute 'foo=bar'"),
    ("Title: T\n\n# Article 1 {#a kind=clause}\n", 3, 17, "bad attribute 'kind=clause'"),
    ("Title: T\n\n# Article 1 {#a reserved=}\n", 3, 17, "bad attribute 'reserved='"),
    ("Title: T\n\n# Article 1 {#a reserved=AF,x}\n", 3, 29, "bad reservation code 'x'"),
    ("Title: T\n\n# Article 1 {#a #b}\n", 3, 17, "'#id' is given twice"),
    ("Title: T\n\n# Article 1 {#Art-1}\n", 3, 15, "bad id 'Art-1'"),
    ("Title: T\n\n# Article 1 {#a\n", 3, 13, "must close with '}'"),
    ("Title: T\n\n# Article 1 — A } B {#a}\n", 3, 17, "cannot hold brackets or braces"),
    ("Title: T\n\n# Article 1 — A [B] {#a}\n", 3, 17, "cannot hold brackets or braces"),
    ("Title: T\n\n# Article 1 Definitions {#a}\n", 3, 12, "expected '—' between the label"),
    ("Title: T\n\n# Clause 1 — Scope {#a}\n", 3, 3, "unknown label 'Clause 1'"),
    ("Title: T\n\n# {#a}\n", 3, 3, "needs a label"),
    ("Title: T\n\n# Article 1 {#a}\n\n# Article 2 {#a}\n", 5, 15, "duplicate id 'a': also used"),
    ("Title: T\n\n# Article 1\n\none\x00two\n", 5, 4, "control character U+0000"),
    ("Title: T\u2028U\n", 1, 9, "control character U+2028"),
    ("Title: T\n\n# Article 1 {#a}\n\nin \u202e081 days\n", 3, 1, "invisible character U+202E"),
    ("Title: T\r\n\r\n# Article 1\rX\n", 3, 12, "carriage return"),
]


@pytest.mark.parametrize(("source", "line", "column", "words"), ERRORS)
def test_malformed_input_gets_a_located_plain_error(
    source: str, line: int, column: int, words: str
) -> None:
    error = _error(source)
    assert words in error.reason
    assert (error.line, error.column) == (line, column), error.reason
    assert str(error).startswith(f"line {line}, column {column}: ")


def test_every_error_message_names_what_is_accepted() -> None:
    error = _error("Title: T\n\n# Clause 1\n")
    assert "Article 1" in error.reason and "kind=" in error.reason


def test_bad_utf8_is_reported_at_the_bad_byte() -> None:
    data = "Title: Ünïcode\n\n# Article 1\n\nabc".encode() + b"\xff rest\n"
    with pytest.raises(InvalidInputError, match="not valid UTF-8") as caught:
        parse_bytes(data)
    assert (caught.value.line, caught.value.column) == (5, 4)


def test_parse_bytes_reads_utf8() -> None:
    assert parse_bytes(EXAMPLE.encode("utf-8")) == parse(EXAMPLE)


def test_render_refuses_a_tree_deeper_than_the_format_allows() -> None:
    deep = Provision("p9", Kind.POINT)
    for level in range(8, 0, -1):
        deep = Provision(f"p{level}", Kind.POINT, children=(deep,))
    with pytest.raises(InvalidInputError, match="deeper than 8"):
        render(_text(deep))


# --- fuzz ---------------------------------------------------------------------------------------

_MUTATION_CHARS = st.sampled_from(list("[]{}|\\#:,= \n\t-—()AFPK1a.\r\x00\u0301"))


def _check_outcome(parser_call: Callable[[], Text | tuple[Inline, ...]]) -> None:
    """Either a valid result that renders to a fixed point, or a located InvalidInputError."""
    try:
        result = parser_call()
    except InvalidInputError as error:
        assert error.line is not None and error.line >= 1, error
        assert error.column is not None and error.column >= 1, error
        return
    if isinstance(result, Text):
        validate(result)
        assert parse(render(result)) == result
    else:
        assert parse_body(render_body(result)) == result


@settings(max_examples=300)
@given(st.text())
@example("Title: T\n\n# Article 1\n\n[[AF:]]")
@example("Title: T\n\n# Article 1\n\n]]")
def test_arbitrary_text_never_raises_anything_else(source: str) -> None:
    _check_outcome(lambda: parse(source))


@settings(max_examples=300)
@given(st.binary())
def test_arbitrary_bytes_never_raise_anything_else(data: bytes) -> None:
    _check_outcome(lambda: parse_bytes(data))
    _check_outcome(lambda: parse_bytes(b"Title: T\n\n# Article 1\n\n" + data))


@st.composite
def _mutated(draw: st.DrawFn) -> str:
    """A canonical file with characters and lines deleted, inserted, duplicated or swapped."""
    source = draw(st.one_of(st.just(EXAMPLE), texts().map(render)))
    for _ in range(draw(st.integers(1, 4))):
        lines = source.split("\n")
        i = draw(st.integers(0, len(source)))
        j = draw(st.integers(0, len(lines) - 1))
        k = draw(st.integers(0, len(lines) - 1))
        mutations = [
            source[:i] + source[i + 1 :],
            source[:i] + source[i : i + 1] * 2 + source[i + 1 :],
            source[:i] + draw(_MUTATION_CHARS) + source[i:],
            "\n".join(lines[:j] + lines[j + 1 :]),
            "\n".join(lines[: j + 1] + lines[j:]),
            "\n".join([*lines[:j], lines[k], *lines[j + 1 :]]),
        ]
        source = draw(st.sampled_from(mutations))
    return source


@settings(max_examples=300)
@given(_mutated())
def test_mutated_files_never_raise_anything_else(source: str) -> None:
    _check_outcome(lambda: parse(source))
    _check_outcome(lambda: parse_body(source))


# --- the documentation --------------------------------------------------------------------------

DOCS = Path(__file__).resolve().parents[2] / "docs" / "formats.md"


def _docs_block(after: str) -> str:
    doc = DOCS.read_text(encoding="utf-8")
    start = doc.index("```text\n", doc.index(after)) + len("```text\n")
    return doc[start : doc.index("```", start)]


def test_the_documented_example_is_canonical_and_fully_identified() -> None:
    source = _docs_block("### A complete example")
    text = parse(source, require_ids=True)
    assert render(text) == source
    counts = status(text)
    assert (counts.provisions, counts.brackets, counts.options) == (17, 4, 2)
    assert citations(text)["art-cessation.2.a.ii"] == "Article 2(2)(a)(ii)"


def test_the_documented_version_hash_is_right() -> None:
    text = parse("Title: T\n\n# Article 1 {#art-1}\n\nThe Parties shall [consult]{AF}.\n")
    hashed = _docs_block("hashed bytes are")
    assert hashed == canonical.tagged(canonical.Tag.TEXT, to_json(text)).decode() + "\n"
    assert f"the version hash is `{version_hash(text)}`" in DOCS.read_text(encoding="utf-8")


def test_a_returns_new_headings_without_ids_are_marked_as_its_own() -> None:
    from parley.core.textformat_headings import NewIds

    source = (
        "Title: T\n\n# Article 1 {#a1}\n\nOne.\n\n## 1.\n\nNew.\n\n"
        "# Article 2\n\n## 1.\n\nAlso new.\n\n# Article 3\n\n## 1.\n\nIn a new article.\n"
    )
    marked = parse(source, new_for=NewIds(frozenset({"a1", "art-2"}), "PK"))
    ids = [p.id for p, _ in text_model.walk(marked)]
    # the base's own keep theirs; a new article's paragraph has its mark through its parent
    assert ids == ["a1", "a1.1-pk", "art-2", "art-2.1-pk", "art-3-pk", "art-3-pk.1"]
    plain = [p.id for p, _ in text_model.walk(parse(source))]
    assert plain == ["a1", "a1.1", "art-2", "art-2.1", "art-3", "art-3.1"]
