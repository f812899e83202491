"""Reading provision bodies: words, brackets with their holders, options groups and escapes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NoReturn

from parley.core.text import (
    CODE_RE,
    Bracket,
    Inline,
    Kind,
    Option,
    Options,
    Provision,
    Run,
    Text,
    normalize_body,
    validate,
)
from parley.core.textformat_headings import CODE_RULE, read_codes
from parley.core.textformat_source import (
    INDENTED_HEADING_RE,
    Located,
    collapse,
    fail_at,
    indent,
    is_blank,
    prepare,
    squash,
)
from parley.errors import InvalidInputError

_STOP_PLAIN = re.compile(r"[\[\]{}\\]")
_STOP_OPTION = re.compile(r"[\[\]{}|\\]")
_HOLDERS_RE = re.compile(r"\{([^{}\[\]|\\]*)\}")
_PROPOSER_RE = re.compile(r" *([^\s:\[\]{}|\\]*) *:")
_ESCAPABLE = frozenset("[]{}|\\#")


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
        fail_at(line, column, message)

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
            if self.p[pos] == "{" and "]" not in self.p[pos:]:  # '[four times a year{PK}'
                self.fail(
                    start,
                    "unclosed bracket: the '[' opened here has no ']' before the '{' (holders "
                    "follow the closing bracket, as in [words]{AF,PK})",
                )
            self.brace(pos)
        words = squash(words)
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
        return read_codes(m.group(1), "holder", line, column), m.end()

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
                m.start(1), f"bad proposer code {m.group(1)!r}: a participant code is {CODE_RULE}"
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
        items.append(Run(collapse(words)))


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
        words = collapse(joined).strip(" ")
        return [Run(words)] if words else []
    return _trim(_InlineReader(joined, _Locator(pieces)).paragraph(), " ")


def parse_body_lines(lines: list[Located]) -> tuple[Inline, ...]:
    """A body from its source lines: blank lines separate paragraphs, wrapped lines join."""
    out: list[Inline] = []
    pieces: list[Located] = []
    for located in [*lines, (0, "")]:
        if not is_blank(located[1]):
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
    lines = prepare(source, line)
    for i, text in enumerate(lines):
        if text.startswith("#") or INDENTED_HEADING_RE.match(text):
            fail_at(
                line + i,
                indent(text) + 1,
                "a line cannot start with '#' in a body (write \\# to start a paragraph with '#')",
            )
    body = parse_body_lines([(line + i, text) for i, text in enumerate(lines)])
    try:
        validate(Text("body", provisions=(Provision("body", Kind.PARAGRAPH, body=body),)))
    except InvalidInputError as error:
        fail_at(line, 1, error.reason.removeprefix("provision 'body': "))
    return body
