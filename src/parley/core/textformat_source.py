"""Reading a text file's lines and header, and placing each error at its line and column."""

from __future__ import annotations

import re
import unicodedata
from typing import NoReturn

from parley.core.text import LANGUAGE_RE
from parley.errors import InvalidInputError

MAX_DEPTH = 8
"""Deepest heading level (``########``)."""

SEPARATOR = " — "
"""What the canonical form writes between a label and its heading text."""

_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_SPACES_RE = re.compile(" {2,}")
_HEADER_RE = re.compile(r"([A-Za-z][A-Za-z0-9_-]*) *:(.*)")
INDENTED_HEADING_RE = re.compile(r" +#+ ")

Located = tuple[int, str]
"""A source line: its 1-based number and its text."""


def fail_at(line: int, column: int, message: str) -> NoReturn:
    """Raise the parse error at a line and column, so every fault points into the file."""
    raise InvalidInputError(message, line=line, column=column)


# --- reading the source -------------------------------------------------------------------------


def prepare(source: str, first_line: int = 1) -> list[str]:
    """Lines of ``source`` with LF line ends, tabs as spaces, NFC; control characters refused."""
    if source.startswith("\ufeff"):
        source = source[1:]
    source = source.replace("\r\n", "\n")
    bad = _CONTROL_RE.search(source)
    if bad:
        start = source.rfind("\n", 0, bad.start()) + 1
        line = first_line + source.count("\n", 0, bad.start())
        what = " (a carriage return without a line feed)" if bad.group() == "\r" else ""
        fail_at(
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


def is_blank(line: str) -> bool:
    """True for a line with nothing but spaces: it separates paragraphs."""
    return not line.strip(" ")


def squash(s: str) -> str:
    """Collapse runs of spaces and drop white space at both ends."""
    return (_SPACES_RE.sub(" ", s) if "  " in s else s).strip()


def collapse(s: str) -> str:
    """The text with runs of spaces made single, as a reader sees it."""
    return _SPACES_RE.sub(" ", s) if "  " in s else s


def indent(s: str) -> int:
    """How many spaces a line starts with, for columns in error messages."""
    return len(s) - len(s.lstrip(" "))


# --- the header ---------------------------------------------------------------------------------


_Header = dict[str, tuple[str, int, int]]
"""Canonical header key → (value, line, column of the value)."""

_HEADER_KEYS = {"title": "Title", "language": "Language"}


def parse_header(lines: list[str]) -> tuple[str, str, dict[str, int], int]:
    """Title, language, the line of each key, and the index of the first line after the header."""
    i = 0
    while i < len(lines) and is_blank(lines[i]):
        i += 1
    first = i
    header: _Header = {}
    while i < len(lines) and not is_blank(lines[i]) and not lines[i].startswith("#"):
        _header_line(header, lines[i], i + 1, i == first)
        i += 1
    title = header.get("Title")
    if title is None:
        fail_at(
            first + 1 if first < len(lines) else 1,
            1,
            "missing title: the file must start with a line 'Title: …'",
        )
    if not title[0]:
        fail_at(title[1], title[2], "empty title: write the agreement's title after 'Title:'")
    language = header.get("Language", ("en", 0, 0))
    if not LANGUAGE_RE.fullmatch(language[0]):
        fail_at(
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
            fail_at(number, 1, "the file must start with a header line 'Title: …'")
        fail_at(number, 1, "expected a header line 'Key: value' (or a blank line after the header)")
    key = _HEADER_KEYS.get(m.group(1).lower())
    if key is None:
        fail_at(number, 1, f"unknown header key {m.group(1)!r}: expected Title or Language")
    if key in header:
        fail_at(number, 1, f"duplicate header key {key!r} (first on line {header[key][1]})")
    value = m.group(2)
    header[key] = (squash(value), number, m.start(2) + indent(value) + 1)
