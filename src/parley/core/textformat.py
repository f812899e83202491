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

from parley.core.text import Provision, Text, check_visible, validate
from parley.core.textformat_headings import NewIds, Node, assign_ids, read_outline
from parley.core.textformat_inline import parse_body, parse_body_lines
from parley.core.textformat_render import render, render_body
from parley.core.textformat_source import (
    MAX_DEPTH,
    SEPARATOR,
    Located,
    fail_at,
    parse_header,
    prepare,
)
from parley.errors import InvalidInputError

__all__ = [
    "MAX_DEPTH",
    "SEPARATOR",
    "Located",
    "parse",
    "parse_body",
    "parse_bytes",
    "render",
    "render_body",
]

_PROVISION_RE = re.compile(r"provision '([^']*)'")


# --- parse --------------------------------------------------------------------------------------


def parse(source: str, *, require_ids: bool = False, new_for: NewIds | None = None) -> Text:
    """A valid text from a file in the text format; InvalidInputError with line and column if not.

    Headings without ``{#id}`` get ids made from their kind and position (``art-3.1.a``), unless
    ``require_ids`` is set, which makes a missing id an error. ``new_for`` (a return: the base's
    ids and the delegation) marks a made id the base does not know as the delegation's.
    """
    lines = prepare(source)
    title, language, header_lines, start = parse_header(lines)
    outline = read_outline(lines, start, require_ids)
    assign_ids(outline.roots, None, None, [0], set(outline.ids), new_for)
    text = Text(title, language, tuple(_freeze(node) for node in outline.roots))
    return _validated(text, outline.roots, header_lines)


def parse_bytes(data: bytes, *, require_ids: bool = False, new_for: NewIds | None = None) -> Text:
    """As ``parse``, from bytes that must be UTF-8; a bad byte is reported with its place."""
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        column = len(data[line_start : error.start].decode("utf-8")) + 1
        fail_at(
            data.count(b"\n", 0, error.start) + 1,
            column,
            f"not valid UTF-8: byte 0x{data[error.start]:02X} ({error.reason}); "
            "save the file as UTF-8",
        )
    return parse(source, require_ids=require_ids, new_for=new_for)


def _freeze(node: Node) -> Provision:
    assert node.id is not None and node.kind is not None
    return Provision(
        id=node.id,
        kind=node.kind,
        heading=node.heading,
        body=parse_body_lines(node.body_lines) if node.body_lines else (),
        reservations=node.reservations,
        children=tuple(_freeze(child) for child in node.children),
    )


def _validated(text: Text, roots: list[Node], header_lines: dict[str, int]) -> Text:
    """``validate`` the text, placing any fault at the heading or header line it comes from."""
    try:
        check_visible(validate(text))
        return text
    except InvalidInputError as error:
        found = _PROVISION_RE.search(error.reason)
        line = 1
        if found:
            line = _line_of(roots, found.group(1)) or 1
        elif error.reason.startswith("language"):
            line = header_lines.get("Language", 1)
        elif error.reason.startswith("title"):
            line = header_lines.get("Title", 1)
        fail_at(line, 1, error.reason)


def _line_of(nodes: list[Node], provision_id: str) -> int | None:
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if node.id == provision_id:
            return node.line
        stack.extend(node.children)
    return None
