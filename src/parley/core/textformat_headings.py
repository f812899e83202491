"""Reading heading lines into an outline of provisions, and making the ids a heading leaves out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from parley.core.text import CODE_RE, ID_RE, Kind, letters, roman
from parley.core.textformat_source import (
    INDENTED_HEADING_RE,
    MAX_DEPTH,
    SEPARATOR,
    Located,
    fail_at,
    indent,
    is_blank,
    squash,
)

_HEADING_RE = re.compile(r"(#+)( *)(.*)")
_LABEL_RE = re.compile(
    r"(?:preamble|recital|pp *\d+|(?:part|chapter|section|article|annex) +[0-9a-z]+\.?"
    r"|\d+\.|\([a-z]+\))(?=$|[\s:—–-])",
    re.IGNORECASE,
)
_LABEL_SEPARATOR_RE = re.compile(r" *(?:—|–|-|:) *")
_FREE_SEPARATOR_RE = re.compile(r" *[—–] *| +- +|: +")
_ATTRIBUTE_RE = re.compile(r"\S+")

_ACCEPTED_LABELS = (
    "Preamble, PP1 (or Recital), Part I, Chapter 1, Section 1, Article 1, Annex I, 1. or (a)"
)
CODE_RULE = "2–16 upper-case letters or digits, starting with a letter, e.g. PK"
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


# --- headings -----------------------------------------------------------------------------------


@dataclass
class Node:
    """A provision while the file is being read: mutable until the tree is complete."""

    line: int
    depth: int
    kind: Kind | None
    id: str | None
    heading: str | None
    reservations: tuple[str, ...]
    body_lines: list[Located] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)


@dataclass
class _Attributes:
    id: str | None = None
    id_column: int = 0
    reservations: tuple[str, ...] = ()
    kind: Kind | None = None


def _parse_heading(line: str, number: int) -> tuple[Node, int]:
    """The node of a heading line (kind unresolved for ``(a)`` labels), and the id's column."""
    m = _HEADING_RE.fullmatch(line)
    assert m is not None  # the caller saw the '#'
    depth = len(m.group(1))
    if depth > MAX_DEPTH:
        fail_at(number, 1, f"headings go at most {MAX_DEPTH} levels deep, found {depth} '#'")
    if not m.group(2):
        fail_at(
            number,
            depth + 1,
            "a heading needs a space after its '#' marks (write \\# to start a paragraph with '#')",
        )
    start = m.start(3)
    content, attributes, block = _split_attributes(m.group(3), number, start + 1)
    kind, heading = _split_label(content, number, start + 1, attributes.kind)
    node = Node(number, depth, kind, attributes.id, heading, attributes.reservations)
    column = attributes.id_column or block or len(line.rstrip(" ")) + 1
    return node, column


def _split_attributes(rest: str, number: int, column: int) -> tuple[str, _Attributes, int]:
    """Cut the ``{…}`` block off a heading; returns the rest, the attributes, the block column."""
    stripped = rest.rstrip(" ")
    open_at = stripped.rfind("{")
    if not stripped.endswith("}"):
        if open_at >= 0:
            fail_at(
                number,
                column + open_at,
                "the attribute block '{' must close with '}' at the end of the heading line",
            )
        if "}" in stripped:
            fail_at(number, column + stripped.index("}"), "unexpected '}' in a heading")
        return stripped, _Attributes(), 0
    if open_at < 0:
        fail_at(number, column + len(stripped) - 1, "unexpected '}' in a heading")
    attributes = _parse_attributes(stripped[open_at + 1 : -1], number, column + open_at + 1)
    return stripped[:open_at], attributes, column + open_at


def _parse_attributes(inner: str, number: int, column: int) -> _Attributes:
    attributes = _Attributes()
    seen: set[str] = set()
    for m in _ATTRIBUTE_RE.finditer(inner):
        token, at = m.group(), column + m.start()
        name = "#" if token.startswith("#") else token.partition("=")[0]
        if name in seen:
            fail_at(number, at, f"attribute {'#id' if name == '#' else name!r} is given twice")
        seen.add(name)
        _attribute(attributes, token, number, at)
    return attributes


def _attribute(attributes: _Attributes, token: str, number: int, at: int) -> None:
    name, _, value = token.partition("=")
    if token.startswith("#"):
        if not ID_RE.fullmatch(token[1:]):
            fail_at(number, at + 1, f"bad id {token[1:]!r}: an id is {_ID_RULE}")
        attributes.id, attributes.id_column = token[1:], at + 1
    elif name == "reserved" and value:
        attributes.reservations = read_codes(value, "reservation", number, at + len("reserved="))
    elif name == "kind" and value.lower() in Kind._value2member_map_:
        attributes.kind = Kind(value.lower())
    else:
        kinds = ", ".join(k.value for k in Kind)
        fail_at(
            number,
            at,
            f"bad attribute {token!r}: expected #id, reserved=CODES (e.g. "
            f"reserved=AF,PK) or kind=KIND (one of {kinds})",
        )


def read_codes(value: str, what: str, number: int, column: int) -> tuple[str, ...]:
    """Participant codes from ``AF,PK`` (sorted, unique), or an error at the bad one."""
    codes: list[str] = []
    offset = 0
    for part in value.split(","):
        code = part.strip(" ")
        if not CODE_RE.fullmatch(code):
            fail_at(
                number,
                column + offset + indent(part),
                f"bad {what} code {code!r}: a participant code is {CODE_RULE}",
            )
        codes.append(code)
        offset += len(part) + 1
    return tuple(sorted(set(codes)))


def _split_label(
    content: str, number: int, column: int, explicit: Kind | None
) -> tuple[Kind | None, str | None]:
    """The kind the label names (None for ``(a)``: the parent decides) and the heading text."""
    lead = indent(content)
    m = _LABEL_RE.match(content, lead)
    if m is None:
        return _free_label(content, number, column, explicit)
    rest = content[m.end() :]
    kind = explicit or label_kind(m.group())
    if not rest.strip():
        return kind, None
    sep = _LABEL_SEPARATOR_RE.match(rest)
    if sep is None:
        fail_at(
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
    label = squash(content[: sep.start()] if sep else content)
    if not label:
        fail_at(number, column, "a heading needs a label such as 'Article 1' after its '#' marks")
    if explicit is None:
        fail_at(
            number,
            column + indent(content),
            f"unknown label {label!r}: a heading starts "
            f"with {_ACCEPTED_LABELS}, or names its kind, e.g. {{#id kind=article}}",
        )
    if sep is None:
        return explicit, None
    return explicit, _heading_text(content[sep.end() :], number, column + sep.end())


def _heading_text(raw: str, number: int, column: int) -> str | None:
    for i, ch in enumerate(raw):
        if ch in "[]{}":
            fail_at(
                number,
                column + i,
                "a heading cannot hold brackets or braces (bracket unagreed words in the body)",
            )
    return squash(raw) or None


def label_kind(label: str) -> Kind | None:
    """The kind a label names; None for ``(a)``, whose kind depends on the parent."""
    low = label.lower()
    if low[0].isdigit():
        return Kind.PARAGRAPH
    if low[0] == "(":
        return None
    word = re.match(r"[a-z]+", low)
    assert word is not None
    return _KIND_WORDS["pp" if word.group().startswith("pp") else word.group()]


def lettered_kind(parent: Kind | None) -> Kind:
    """``(a)`` is a point under a sub-paragraph and a sub-paragraph anywhere else."""
    return Kind.POINT if parent is Kind.SUBPARAGRAPH else Kind.SUBPARAGRAPH


# --- the outline --------------------------------------------------------------------------------


@dataclass
class _Outline:
    roots: list[Node] = field(default_factory=list)
    stack: list[Node] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)
    """Explicit id → the line of its heading."""


def read_outline(lines: list[str], start: int, require_ids: bool) -> _Outline:
    """The heading lines from ``start`` on, as an outline of nodes with their body lines."""
    outline = _Outline()
    current: Node | None = None
    for index in range(start, len(lines)):
        line = lines[index]
        if line.startswith("#"):
            current = _add_heading(outline, line, index + 1, require_ids)
        elif line.startswith(" ") and INDENTED_HEADING_RE.match(line):
            fail_at(
                index + 1,
                1,
                "a heading must start at the first column "
                "(write \\# to start a paragraph with '#')",
            )
        elif current is not None:
            current.body_lines.append((index + 1, line))
        elif not is_blank(line):
            fail_at(
                index + 1,
                indent(line) + 1,
                "body text before the first heading: start "
                "the provisions with a heading such as '# Preamble {#preamble}'",
            )
    return outline


def _add_heading(outline: _Outline, line: str, number: int, require_ids: bool) -> Node:
    node, column = _parse_heading(line, number)
    if node.id is None and require_ids:
        fail_at(number, column, "heading without id where one is required: add {#id} at the end")
    if node.id is not None:
        if node.id in outline.ids:
            fail_at(
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
        fail_at(number, 1, f"heading level jumps to {node.depth} '#': {expected}")
    del outline.stack[node.depth - 1 :]
    parent = outline.stack[-1] if outline.stack else None
    if node.kind is None:
        node.kind = lettered_kind(parent.kind if parent else None)
    (parent.children if parent else outline.roots).append(node)
    outline.stack.append(node)
    return node


# --- ids ----------------------------------------------------------------------------------------


def assign_ids(
    nodes: list[Node],
    parent: Node | None,
    annex: str | None,
    article: list[int],
    used: set[str],
    new_for: NewIds | None = None,
) -> None:
    """Give every heading without an id one made from its kind and position, as numbered; with
    ``new_for``, a made id the base does not know is marked as its author's."""
    counts: dict[Kind, int] = {}
    for node in nodes:
        kind = node.kind or Kind.PARAGRAPH
        if kind is Kind.ARTICLE:
            article[0] += 1
            n = article[0]
        else:
            n = counts[kind] = counts.get(kind, 0) + 1
        if node.id is None:
            made = _make_id(kind, n, parent, annex)
            if new_for:
                made = new_for.mark(made, parent.id if parent else None)
            node.id = _unique(made, used, node.line)
        inner = node.id if kind is Kind.ANNEX else annex
        deeper = [0] if kind is Kind.ANNEX else article
        assign_ids(node.children, node, inner, deeper, used, new_for)


@dataclass(frozen=True, slots=True)
class NewIds:
    """The ids of the version a return amends, and the returning delegation: a heading the
    delegation added without an id gets one marked as its own (``art-1.3-pk``), so that two
    delegations adding a paragraph at the same place add two, not two wordings of one."""

    known: frozenset[str]
    author: str

    def mark(self, made: str, parent: str | None) -> str:
        """``made`` marked where the base has no such id, unless the parent is new too (its id
        is in ``made`` already)."""
        if made in self.known or (parent is not None and parent not in self.known):
            return made
        return f"{made}-{self.author.lower()}"


def _make_id(kind: Kind, n: int, parent: Node | None, annex: str | None) -> str:
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
        fail_at(
            line,
            1,
            f"cannot make an id for this heading ({made!r} is too long): give it one with {{#id}}",
        )
    used.add(made)
    return made
