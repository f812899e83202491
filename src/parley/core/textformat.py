"""The human text format: what a negotiator writes in any editor and reads in a plain diff.

A file is a small header (``Title:``, ``Language:``), then one heading line per provision
(``#`` × depth, the label, an optional heading text, ``{#id …}``), each followed by its body.
In a body, ``[words]{AF,PK}`` is a bracket with its holders and ``[[AF: one | PK: other]]`` an
options group. ``docs/formats.md`` gives the full syntax with an example.

``parse`` turns a file into a valid ``Text`` or raises ``InvalidInputError`` with a line and a
column; ``render`` writes the canonical form, so ``render(parse(s)) == s`` for canonical files
and ``parse(render(t)) == t`` for every valid text. Display numbers are never read: they are
computed from position on every render.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NoReturn

from parley.core.text import (
    CODE_RE,
    ID_RE,
    LANGUAGE_RE,
    Bracket,
    Inline,
    Kind,
    Option,
    Options,
    Provision,
    Run,
    Text,
    letters,
    normalize_body,
    numbering,
    roman,
    validate,
)
from parley.errors import InvalidInputError

MAX_DEPTH = 8
"""Deepest heading level (``########``)."""

SEPARATOR = " — "
"""What the canonical form writes between a label and its heading text."""

_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_SPACES_RE = re.compile(" {2,}")
_HEADER_RE = re.compile(r"([A-Za-z][A-Za-z0-9_-]*) *:(.*)")
_HEADING_RE = re.compile(r"(#+)( *)(.*)")
_INDENTED_HEADING_RE = re.compile(r" +#+ ")
_LABEL_RE = re.compile(
    r"(?:preamble|recital|pp *\d+|(?:part|chapter|section|article|annex) +[0-9a-z]+\.?"
    r"|\d+\.|\([a-z]+\))(?=$|[\s:—–-])",
    re.IGNORECASE,
)
_LABEL_SEPARATOR_RE = re.compile(r" *(?:—|–|-|:) *")
_FREE_SEPARATOR_RE = re.compile(r" *[—–] *| +- +|: +")
_ATTRIBUTE_RE = re.compile(r"\S+")
_STOP_PLAIN = re.compile(r"[\[\]{}\\]")
_STOP_OPTION = re.compile(r"[\[\]{}|\\]")
_HOLDERS_RE = re.compile(r"\{([^{}\[\]|\\]*)\}")
_PROPOSER_RE = re.compile(r" *([^\s:\[\]{}|\\]*) *:")
_PROVISION_RE = re.compile(r"provision '([^']*)'")
_ESCAPABLE = frozenset("[]{}|\\#")

_RUN_ESCAPES = str.maketrans({"\\": "\\\\", "[": "\\[", "]": "\\]", "{": "\\{", "}": "\\}"})
_OPTION_ESCAPES = str.maketrans(
    {"\\": "\\\\", "[": "\\[", "]": "\\]", "{": "\\{", "}": "\\}", "|": "\\|"}
)
_LINE_START_HASH_RE = re.compile(r"^#", re.MULTILINE)

_ACCEPTED_LABELS = (
    "Preamble, PP1 (or Recital), Part I, Chapter 1, Section 1, Article 1, Annex I, 1. or (a)"
)
_CODE_RULE = "2–16 upper-case letters or digits, starting with a letter, e.g. PK"
_ID_RULE = (
    "lower-case letters, digits, '.', '_' or '-', at most 64 characters, starting and ending "
    "with a letter or digit"
)
_KIND_WORDS = {
    "preamble": Kind.PREAMBLE,
    "recital": Kind.RECITAL,
    "pp": Kind.RECITAL,
    "part": Kind.PART,
    "chapter": Kind.CHAPTER,
    "section": Kind.SECTION,
    "article": Kind.ARTICLE,
    "annex": Kind.ANNEX,
}
_NUMBERED = (Kind.PARAGRAPH, Kind.SUBPARAGRAPH, Kind.POINT)
_ID_PATTERNS = {
    Kind.PREAMBLE: "preamble",
    Kind.RECITAL: "pp-{n}",
    Kind.PART: "part-{n}",
    Kind.CHAPTER: "ch-{n}",
    Kind.SECTION: "sec-{n}",
    Kind.ARTICLE: "art-{n}",
    Kind.ANNEX: "annex-{n}",
}
_TOP_LEVEL_NUMBERED = {Kind.PARAGRAPH: "para", Kind.SUBPARAGRAPH: "subpara", Kind.POINT: "point"}
_CONTAINERS = (Kind.PART, Kind.CHAPTER, Kind.SECTION, Kind.ANNEX)

Located = tuple[int, str]
"""A source line: its 1-based number and its text."""


def _fail(line: int, column: int, message: str) -> NoReturn:
    raise InvalidInputError(message, line=line, column=column)


# --- reading the source -------------------------------------------------------------------------


def _prepare(source: str, first_line: int = 1) -> list[str]:
    """Lines of ``source`` with LF line ends, tabs as spaces, NFC; control characters refused."""
    if source.startswith("\ufeff"):
        source = source[1:]
    source = source.replace("\r\n", "\n")
    bad = _CONTROL_RE.search(source)
    if bad:
        start = source.rfind("\n", 0, bad.start()) + 1
        line = first_line + source.count("\n", 0, bad.start())
        what = " (a carriage return without a line feed)" if bad.group() == "\r" else ""
        _fail(
            line,
            bad.start() - start + 1,
            f"control character U+{ord(bad.group()):04X}{what} is not allowed",
        )
    source = source.replace("\t", " ")
    if not unicodedata.is_normalized("NFC", source):
        source = unicodedata.normalize("NFC", source)
    lines = source.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _blank(line: str) -> bool:
    return not line.strip(" ")


def _squash(s: str) -> str:
    """Collapse runs of spaces and drop white space at both ends."""
    return (_SPACES_RE.sub(" ", s) if "  " in s else s).strip()


def _collapse(s: str) -> str:
    return _SPACES_RE.sub(" ", s) if "  " in s else s


def _indent(s: str) -> int:
    return len(s) - len(s.lstrip(" "))


# --- the header ---------------------------------------------------------------------------------


_Header = dict[str, tuple[str, int, int]]
"""Canonical header key → (value, line, column of the value)."""

_HEADER_KEYS = {"title": "Title", "language": "Language"}


def _parse_header(lines: list[str]) -> tuple[str, str, dict[str, int], int]:
    """Title, language, the line of each key, and the index of the first line after the header."""
    i = 0
    while i < len(lines) and _blank(lines[i]):
        i += 1
    first = i
    header: _Header = {}
    while i < len(lines) and not _blank(lines[i]) and not lines[i].startswith("#"):
        _header_line(header, lines[i], i + 1, i == first)
        i += 1
    title = header.get("Title")
    if title is None:
        _fail(
            first + 1 if first < len(lines) else 1,
            1,
            "missing title: the file must start with a line 'Title: …'",
        )
    if not title[0]:
        _fail(title[1], title[2], "empty title: write the agreement's title after 'Title:'")
    language = header.get("Language", ("en", 0, 0))
    if not LANGUAGE_RE.fullmatch(language[0]):
        _fail(
            language[1],
            language[2],
            f"language must be a tag like 'en' or 'pt-BR', found {language[0]!r}",
        )
    lines_of = {key: v[1] for key, v in header.items()}
    return title[0], language[0], lines_of, i


def _header_line(header: _Header, line: str, number: int, first: bool) -> None:
    m = _HEADER_RE.fullmatch(line)
    if m is None:
        if first:
            _fail(number, 1, "the file must start with a header line 'Title: …'")
        _fail(number, 1, "expected a header line 'Key: value' (or a blank line after the header)")
    key = _HEADER_KEYS.get(m.group(1).lower())
    if key is None:
        _fail(number, 1, f"unknown header key {m.group(1)!r}: expected Title or Language")
    if key in header:
        _fail(number, 1, f"duplicate header key {key!r} (first on line {header[key][1]})")
    value = m.group(2)
    header[key] = (_squash(value), number, m.start(2) + _indent(value) + 1)


# --- headings -----------------------------------------------------------------------------------


@dataclass
class _Node:
    """A provision while the file is being read: mutable until the tree is complete."""

    line: int
    depth: int
    kind: Kind | None
    id: str | None
    heading: str | None
    reservations: tuple[str, ...]
    body_lines: list[Located] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)


@dataclass
class _Attributes:
    id: str | None = None
    id_column: int = 0
    reservations: tuple[str, ...] = ()
    kind: Kind | None = None


def _parse_heading(line: str, number: int) -> tuple[_Node, int]:
    """The node of a heading line (kind unresolved for ``(a)`` labels), and the id's column."""
    m = _HEADING_RE.fullmatch(line)
    assert m is not None  # the caller saw the '#'
    depth = len(m.group(1))
    if depth > MAX_DEPTH:
        _fail(number, 1, f"headings go at most {MAX_DEPTH} levels deep, found {depth} '#'")
    if not m.group(2):
        _fail(
            number,
            depth + 1,
            "a heading needs a space after its '#' marks (write \\# to start a paragraph with '#')",
        )
    start = m.start(3)
    content, attributes, block = _split_attributes(m.group(3), number, start + 1)
    kind, heading = _split_label(content, number, start + 1, attributes.kind)
    node = _Node(number, depth, kind, attributes.id, heading, attributes.reservations)
    column = attributes.id_column or block or len(line.rstrip(" ")) + 1
    return node, column


def _split_attributes(rest: str, number: int, column: int) -> tuple[str, _Attributes, int]:
    """Cut the ``{…}`` block off a heading; returns the rest, the attributes, the block column."""
    stripped = rest.rstrip(" ")
    open_at = stripped.rfind("{")
    if not stripped.endswith("}"):
        if open_at >= 0:
            _fail(
                number,
                column + open_at,
                "the attribute block '{' must close with '}' at the end of the heading line",
            )
        if "}" in stripped:
            _fail(number, column + stripped.index("}"), "unexpected '}' in a heading")
        return stripped, _Attributes(), 0
    if open_at < 0:
        _fail(number, column + len(stripped) - 1, "unexpected '}' in a heading")
    attributes = _parse_attributes(stripped[open_at + 1 : -1], number, column + open_at + 1)
    return stripped[:open_at], attributes, column + open_at


def _parse_attributes(inner: str, number: int, column: int) -> _Attributes:
    attributes = _Attributes()
    seen: set[str] = set()
    for m in _ATTRIBUTE_RE.finditer(inner):
        token, at = m.group(), column + m.start()
        name = "#" if token.startswith("#") else token.partition("=")[0]
        if name in seen:
            _fail(number, at, f"attribute {'#id' if name == '#' else name!r} is given twice")
        seen.add(name)
        _attribute(attributes, token, number, at)
    return attributes


def _attribute(attributes: _Attributes, token: str, number: int, at: int) -> None:
    name, _, value = token.partition("=")
    if token.startswith("#"):
        if not ID_RE.fullmatch(token[1:]):
            _fail(number, at + 1, f"bad id {token[1:]!r}: an id is {_ID_RULE}")
        attributes.id, attributes.id_column = token[1:], at + 1
    elif name == "reserved" and value:
        attributes.reservations = _codes(value, "reservation", number, at + len("reserved="))
    elif name == "kind" and value.lower() in Kind._value2member_map_:
        attributes.kind = Kind(value.lower())
    else:
        kinds = ", ".join(k.value for k in Kind)
        _fail(
            number,
            at,
            f"bad attribute {token!r}: expected #id, reserved=CODES (e.g. "
            f"reserved=AF,PK) or kind=KIND (one of {kinds})",
        )


def _codes(value: str, what: str, number: int, column: int) -> tuple[str, ...]:
    """Participant codes from ``AF,PK`` (sorted, unique), or an error at the bad one."""
    codes: list[str] = []
    offset = 0
    for part in value.split(","):
        code = part.strip(" ")
        if not CODE_RE.fullmatch(code):
            _fail(
                number,
                column + offset + _indent(part),
                f"bad {what} code {code!r}: a participant code is {_CODE_RULE}",
            )
        codes.append(code)
        offset += len(part) + 1
    return tuple(sorted(set(codes)))


def _split_label(
    content: str, number: int, column: int, explicit: Kind | None
) -> tuple[Kind | None, str | None]:
    """The kind the label names (None for ``(a)``: the parent decides) and the heading text."""
    lead = _indent(content)
    m = _LABEL_RE.match(content, lead)
    if m is None:
        return _free_label(content, number, column, explicit)
    rest = content[m.end() :]
    kind = explicit or _label_kind(m.group())
    if not rest.strip():
        return kind, None
    sep = _LABEL_SEPARATOR_RE.match(rest)
    if sep is None:
        _fail(
            number,
            column + m.end(),
            f"expected '{SEPARATOR.strip()}' between the label {m.group()!r} and the heading text",
        )
    return kind, _heading_text(rest[sep.end() :], number, column + m.end() + sep.end())


def _free_label(
    content: str, number: int, column: int, explicit: Kind | None
) -> tuple[Kind | None, str | None]:
    """A label the format does not know: fine with an explicit ``kind=``, an error otherwise."""
    sep = _FREE_SEPARATOR_RE.search(content)
    label = _squash(content[: sep.start()] if sep else content)
    if not label:
        _fail(number, column, "a heading needs a label such as 'Article 1' after its '#' marks")
    if explicit is None:
        _fail(
            number,
            column + _indent(content),
            f"unknown label {label!r}: a heading starts "
            f"with {_ACCEPTED_LABELS}, or names its kind, e.g. {{#id kind=article}}",
        )
    if sep is None:
        return explicit, None
    return explicit, _heading_text(content[sep.end() :], number, column + sep.end())


def _heading_text(raw: str, number: int, column: int) -> str | None:
    for i, ch in enumerate(raw):
        if ch in "[]{}":
            _fail(
                number,
                column + i,
                "a heading cannot hold brackets or braces (bracket unagreed words in the body)",
            )
    return _squash(raw) or None


def _label_kind(label: str) -> Kind | None:
    """The kind a label names; None for ``(a)``, whose kind depends on the parent."""
    low = label.lower()
    if low[0].isdigit():
        return Kind.PARAGRAPH
    if low[0] == "(":
        return None
    word = re.match(r"[a-z]+", low)
    assert word is not None
    return _KIND_WORDS["pp" if word.group().startswith("pp") else word.group()]


def _lettered_kind(parent: Kind | None) -> Kind:
    """``(a)`` is a point under a sub-paragraph and a sub-paragraph anywhere else."""
    return Kind.POINT if parent is Kind.SUBPARAGRAPH else Kind.SUBPARAGRAPH


# --- the outline --------------------------------------------------------------------------------


@dataclass
class _Outline:
    roots: list[_Node] = field(default_factory=list)
    stack: list[_Node] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)
    """Explicit id → the line of its heading."""


def _read_outline(lines: list[str], start: int, require_ids: bool) -> _Outline:
    outline = _Outline()
    current: _Node | None = None
    for index in range(start, len(lines)):
        line = lines[index]
        if line.startswith("#"):
            current = _add_heading(outline, line, index + 1, require_ids)
        elif line.startswith(" ") and _INDENTED_HEADING_RE.match(line):
            _fail(
                index + 1,
                1,
                "a heading must start at the first column "
                "(write \\# to start a paragraph with '#')",
            )
        elif current is not None:
            current.body_lines.append((index + 1, line))
        elif not _blank(line):
            _fail(
                index + 1,
                _indent(line) + 1,
                "body text before the first heading: start "
                "the provisions with a heading such as '# Preamble {#preamble}'",
            )
    return outline


def _add_heading(outline: _Outline, line: str, number: int, require_ids: bool) -> _Node:
    node, column = _parse_heading(line, number)
    if node.id is None and require_ids:
        _fail(number, column, "heading without id where one is required: add {#id} at the end")
    if node.id is not None:
        if node.id in outline.ids:
            _fail(
                number,
                column,
                f"duplicate id {node.id!r}: also used on line {outline.ids[node.id]}",
            )
        outline.ids[node.id] = number
    limit = len(outline.stack) + 1
    if node.depth > limit:
        expected = (
            "the first heading has one '#'"
            if limit == 1
            else (f"a child heading has one '#' more than its parent (at most {limit})")
        )
        _fail(number, 1, f"heading level jumps to {node.depth} '#': {expected}")
    del outline.stack[node.depth - 1 :]
    parent = outline.stack[-1] if outline.stack else None
    if node.kind is None:
        node.kind = _lettered_kind(parent.kind if parent else None)
    (parent.children if parent else outline.roots).append(node)
    outline.stack.append(node)
    return node


# --- ids ----------------------------------------------------------------------------------------


def _assign_ids(
    nodes: list[_Node],
    parent: _Node | None,
    annex: str | None,
    article: list[int],
    used: set[str],
) -> None:
    """Give every heading without an id one made from its kind and position, as numbered."""
    counts: dict[Kind, int] = {}
    for node in nodes:
        kind = node.kind or Kind.PARAGRAPH
        if kind is Kind.ARTICLE:
            article[0] += 1
            n = article[0]
        else:
            n = counts[kind] = counts.get(kind, 0) + 1
        if node.id is None:
            node.id = _unique(_make_id(kind, n, parent, annex), used, node.line)
        inner = node.id if kind is Kind.ANNEX else annex
        _assign_ids(node.children, node, inner, [0] if kind is Kind.ANNEX else article, used)


def _make_id(kind: Kind, n: int, parent: _Node | None, annex: str | None) -> str:
    if kind in _NUMBERED:
        segment = (
            str(n)
            if kind is Kind.PARAGRAPH
            else (letters(n) if kind is Kind.SUBPARAGRAPH else roman(n).lower())
        )
        if parent is None:
            return f"{_TOP_LEVEL_NUMBERED[kind]}-{segment}"
        return f"{parent.id}.{segment}"
    segment = _ID_PATTERNS[kind].format(n=n)
    if kind in _CONTAINERS:
        return f"{parent.id}.{segment}" if parent else segment
    return f"{annex}.{segment}" if annex else segment


def _unique(candidate: str, used: set[str], line: int) -> str:
    made, suffix = candidate, 1
    while made in used:
        suffix += 1
        made = f"{candidate}-{suffix}"
    if not ID_RE.fullmatch(made):
        _fail(
            line,
            1,
            f"cannot make an id for this heading ({made!r} is too long): give it one with {{#id}}",
        )
    used.add(made)
    return made


# --- bodies -------------------------------------------------------------------------------------


class _Locator:
    """Maps an offset in a paragraph (its lines joined by spaces) back to line and column."""

    def __init__(self, pieces: Sequence[Located]) -> None:
        self.pieces = pieces

    def at(self, offset: int) -> tuple[int, int]:
        for number, text in self.pieces:
            if offset <= len(text):
                return number, offset + 1
            offset -= len(text) + 1
        number, text = self.pieces[-1]
        return number, len(text) + 1


class _InlineReader:
    """Reads one paragraph's brackets, holders, options and escapes."""

    def __init__(self, paragraph: str, locator: _Locator) -> None:
        self.p = paragraph
        self.locator = locator

    def fail(self, offset: int, message: str) -> NoReturn:
        line, column = self.locator.at(offset)
        _fail(line, column, message)

    def paragraph(self) -> list[Inline]:
        items: list[Inline] = []
        pos = 0
        while pos < len(self.p):
            words, pos = self.text(pos, _STOP_PLAIN)
            _add_run(items, words)
            if pos < len(self.p):
                item, pos = self.markup(pos)
                items.append(item)
        return items

    def markup(self, pos: int) -> tuple[Inline, int]:
        ch = self.p[pos]
        if ch == "[":
            if self.p.startswith("[[", pos):
                return self.options(pos)
            return self.bracket(pos, _STOP_PLAIN)
        if ch == "]":
            self.fail(pos, "unexpected ']' with no '[' before it (write \\] for a literal bracket)")
        self.brace(pos)

    def brace(self, pos: int) -> NoReturn:
        self.fail(
            pos,
            f"unexpected {self.p[pos]!r}: holders go right after a bracket, as in "
            f"[words]{{AF,PK}} (write \\{self.p[pos]} for a literal brace)",
        )

    def text(self, pos: int, stop: re.Pattern[str]) -> tuple[str, int]:
        """Plain text from ``pos`` up to the next markup character, with escapes resolved."""
        p, parts = self.p, []
        while True:
            m = stop.search(p, pos)
            end = m.start() if m else len(p)
            parts.append(p[pos:end])
            if m is None or p[end] != "\\":
                return "".join(parts), end
            escaped = p[end + 1 : end + 2]
            if escaped not in _ESCAPABLE:
                self.fail(
                    end,
                    "a backslash must be followed by one of [ ] { } | # \\ "
                    "(write \\\\ for a backslash)",
                )
            parts.append(escaped)
            pos = end + 2

    def bracket(self, start: int, stop: re.Pattern[str]) -> tuple[Bracket, int]:
        words, pos = self.text(start + 1, stop)
        if pos >= len(self.p) or self.p[pos] in "[|":
            self.fail(start, "unclosed bracket: the '[' opened here has no ']'")
        if self.p[pos] != "]":
            self.brace(pos)
        words = _squash(words)
        if not words:
            self.fail(start, "empty bracket: put the words not yet agreed between '[' and ']'")
        holders, end = self.holders(pos + 1)
        return Bracket(words, holders), end

    def holders(self, pos: int) -> tuple[tuple[str, ...], int]:
        if not self.p.startswith("{", pos):
            return (), pos
        m = _HOLDERS_RE.match(self.p, pos)
        if m is None:
            self.fail(
                pos,
                "unclosed holder list: write the codes between '{' and '}', as in [words]{AF,PK}",
            )
        if not m.group(1).strip(" "):
            return (), m.end()
        line, column = self.locator.at(m.start(1))
        return _codes(m.group(1), "holder", line, column), m.end()

    def options(self, start: int) -> tuple[Options, int]:
        pos, options = start + 2, []
        while True:
            option, pos = self.option(pos, start)
            options.append(option)
            if self.p.startswith("]]", pos):
                break
            pos += 1
        if len(options) < 2:
            self.fail(
                start,
                "options need at least two alternatives, as in [[AF: one wording | PK: another]]",
            )
        return Options(tuple(options)), pos + 2

    def option(self, pos: int, start: int) -> tuple[Option, int]:
        m = _PROPOSER_RE.match(self.p, pos)
        if m is None or not m.group(1):
            self.fail(
                pos,
                "option without 'CODE:': each alternative starts with its "
                "proposer's code, as in [[AF: one wording | PK: another]]",
            )
        if not CODE_RE.fullmatch(m.group(1)):
            self.fail(
                m.start(1), f"bad proposer code {m.group(1)!r}: a participant code is {_CODE_RULE}"
            )
        items: list[Inline] = []
        pos = m.end()
        while True:
            words, pos = self.text(pos, _STOP_OPTION)
            _add_run(items, words)
            if pos >= len(self.p):
                self.fail(start, "unclosed options: the '[[' opened here has no ']]'")
            if self.p[pos] == "|" or self.p.startswith("]]", pos):
                return Option(m.group(1), _option_body(items)), pos
            bracket, pos = self.option_bracket(pos)
            items.append(bracket)

    def option_bracket(self, pos: int) -> tuple[Bracket, int]:
        ch = self.p[pos]
        if ch == "]":
            self.fail(
                pos,
                "unexpected ']' inside options: the options end with ']]' "
                "(write \\] for a literal bracket)",
            )
        if ch != "[":
            self.brace(pos)
        if self.p.startswith("[[", pos):
            self.fail(pos, "options cannot nest: close these options with ']]' first")
        return self.bracket(pos, _STOP_OPTION)


def _add_run(items: list[Inline], words: str) -> None:
    if words:
        items.append(Run(_collapse(words)))


def _trim(items: list[Inline], chars: str | None) -> list[Inline]:
    """Drop ``chars`` (None: any white space) from both ends of a sequence of inline items."""
    if items and isinstance(items[0], Run):
        head = items[0].text.lstrip(chars)
        items[0:1] = [Run(head)] if head else []
    if items and isinstance(items[-1], Run):
        tail = items[-1].text.rstrip(chars)
        items[-1:] = [Run(tail)] if tail else []
    return items


def _option_body(items: list[Inline]) -> tuple[Run | Bracket, ...]:
    return tuple(x for x in _trim(items, None) if not isinstance(x, Options))


def _paragraph(pieces: list[Located]) -> list[Inline]:
    joined = pieces[0][1] if len(pieces) == 1 else " ".join(text for _, text in pieces)
    if _STOP_PLAIN.search(joined) is None:
        words = _collapse(joined).strip(" ")
        return [Run(words)] if words else []
    return _trim(_InlineReader(joined, _Locator(pieces)).paragraph(), " ")


def _parse_body_lines(lines: list[Located]) -> tuple[Inline, ...]:
    """A body from its source lines: blank lines separate paragraphs, wrapped lines join."""
    out: list[Inline] = []
    pieces: list[Located] = []
    for located in [*lines, (0, "")]:
        if not _blank(located[1]):
            pieces.append(located)
            continue
        if pieces:
            items = _paragraph(pieces)
            if out and items:
                out.append(Run("\n"))
            out.extend(items)
            pieces = []
    return tuple(_trim(list(normalize_body(out)), None))


def parse_body(source: str, *, line: int = 1) -> tuple[Inline, ...]:
    """One provision body in the file syntax (as ``render_body`` writes it); ``line`` numbers
    the first line in error messages."""
    lines = _prepare(source, line)
    for i, text in enumerate(lines):
        if text.startswith("#") or _INDENTED_HEADING_RE.match(text):
            _fail(
                line + i,
                _indent(text) + 1,
                "a line cannot start with '#' in a body (write \\# to start a paragraph with '#')",
            )
    body = _parse_body_lines([(line + i, text) for i, text in enumerate(lines)])
    try:
        validate(Text("body", provisions=(Provision("body", Kind.PARAGRAPH, body=body),)))
    except InvalidInputError as error:
        _fail(line, 1, error.reason.removeprefix("provision 'body': "))
    return body


# --- parse --------------------------------------------------------------------------------------


def parse(source: str, *, require_ids: bool = False) -> Text:
    """A valid text from a file in the text format; InvalidInputError with line and column if not.

    Headings without ``{#id}`` get ids made from their kind and position (``art-3.1.a``), unless
    ``require_ids`` is set, which makes a missing id an error.
    """
    lines = _prepare(source)
    title, language, header_lines, start = _parse_header(lines)
    outline = _read_outline(lines, start, require_ids)
    _assign_ids(outline.roots, None, None, [0], set(outline.ids))
    text = Text(title, language, tuple(_freeze(node) for node in outline.roots))
    return _validated(text, outline.roots, header_lines)


def parse_bytes(data: bytes, *, require_ids: bool = False) -> Text:
    """As ``parse``, from bytes that must be UTF-8; a bad byte is reported with its place."""
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        column = len(data[line_start : error.start].decode("utf-8")) + 1
        _fail(
            data.count(b"\n", 0, error.start) + 1,
            column,
            f"not valid UTF-8: byte 0x{data[error.start]:02X} ({error.reason}); "
            "save the file as UTF-8",
        )
    return parse(source, require_ids=require_ids)


def _freeze(node: _Node) -> Provision:
    assert node.id is not None and node.kind is not None
    return Provision(
        id=node.id,
        kind=node.kind,
        heading=node.heading,
        body=_parse_body_lines(node.body_lines) if node.body_lines else (),
        reservations=node.reservations,
        children=tuple(_freeze(child) for child in node.children),
    )


def _validated(text: Text, roots: list[_Node], header_lines: dict[str, int]) -> Text:
    """``validate`` the text, placing any fault at the heading or header line it comes from."""
    try:
        return validate(text)
    except InvalidInputError as error:
        found = _PROVISION_RE.search(error.reason)
        line = 1
        if found:
            line = _line_of(roots, found.group(1)) or 1
        elif error.reason.startswith("language"):
            line = header_lines.get("Language", 1)
        elif error.reason.startswith("title"):
            line = header_lines.get("Title", 1)
        _fail(line, 1, error.reason)


def _line_of(nodes: list[_Node], provision_id: str) -> int | None:
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if node.id == provision_id:
            return node.line
        stack.extend(node.children)
    return None


# --- render -------------------------------------------------------------------------------------


def render(text: Text) -> str:
    """The canonical file of a text: computed labels, one line per paragraph, LF, final newline."""
    blocks = [f"Title: {text.title}\nLanguage: {text.language}"]
    _render_provisions(text.provisions, None, 1, numbering(text), blocks)
    return "\n\n".join(blocks) + "\n"


def _render_provisions(
    provisions: tuple[Provision, ...],
    parent: Kind | None,
    depth: int,
    labels: dict[str, str],
    blocks: list[str],
) -> None:
    for provision in provisions:
        if depth > MAX_DEPTH:
            raise InvalidInputError(
                f"provision {provision.id!r} is nested deeper than {MAX_DEPTH} levels"
            )
        blocks.append(_heading_line(provision, labels[provision.id], depth, parent))
        if provision.body:
            blocks.append(render_body(provision.body))
        _render_provisions(provision.children, provision.kind, depth + 1, labels, blocks)


def _heading_line(provision: Provision, label: str, depth: int, parent: Kind | None) -> str:
    """The heading line of a provision; ``kind=`` only where the label leaves it ambiguous."""
    attributes = [f"#{provision.id}"]
    if provision.reservations:
        attributes.append("reserved=" + ",".join(provision.reservations))
    if (_label_kind(label) or _lettered_kind(parent)) is not provision.kind:
        attributes.append(f"kind={provision.kind.value}")
    heading = "" if provision.heading is None else SEPARATOR + provision.heading
    return f"{'#' * depth} {label}{heading} {{{' '.join(attributes)}}}"


def render_body(body: Sequence[Inline]) -> str:
    """A body in the file syntax: paragraphs on their own lines, separated by a blank line."""
    out = "".join(_render_inline(item) for item in body)
    return _LINE_START_HASH_RE.sub(r"\\#", out) if "#" in out else out


def _render_inline(item: Inline) -> str:
    if isinstance(item, Run):
        return item.text.translate(_RUN_ESCAPES).replace("\n", "\n\n")
    if isinstance(item, Bracket):
        return _render_bracket(item, _RUN_ESCAPES)
    return "[[" + " | ".join(_render_option(option) for option in item.options) + "]]"


def _render_bracket(bracket: Bracket, escapes: dict[int, str]) -> str:
    holders = "{" + ",".join(bracket.holders) + "}" if bracket.holders else ""
    return f"[{bracket.text.translate(escapes)}]{holders}"


def _render_option(option: Option) -> str:
    words = "".join(
        x.text.translate(_OPTION_ESCAPES)
        if isinstance(x, Run)
        else _render_bracket(x, _OPTION_ESCAPES)
        for x in option.body
    )
    return f"{option.proposer}: {words}" if words else f"{option.proposer}:"
