"""Words: how a provision body is cut into tokens for redlines and merges, and put back together.

A token is a word (letters and digits), a number written with separators ("1,000,000", "10.5",
"2024-2025", "15.01.2025", "10:30": a changed digit shows, and merges, as a changed number, never
as a new number put together from two), one run of white space, one punctuation character, or a
whole bracket or options group (atomic: compared as a unit). Joining the tokens of a body gives the
body back exactly, so a diff over tokens loses nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher
from typing import Literal, TypeVar

from parley.core.text import Bracket, Inline, Options, Run, normalize_body

Token = str | Bracket | Options
"""A word, space or punctuation mark, or an atomic bracket or options group."""

T = TypeVar("T")

OpTag = Literal["equal", "replace", "delete", "insert"]
Opcode = tuple[OpTag, int, int, int, int]
"""As difflib: (tag, a_start, a_end, b_start, b_end)."""

_NUMBER = (
    r"\d{1,3}(?:[ \u00a0\u202f\u2009]\d{3})+(?:[.,]\d+)?(?!\d)"
    r"|\d+(?:[.,:/\-\u2010\u2011\u2013\u066b\u066c]\d+)+\w*"
)
"""Digits in groups of three after a space (``1 000 000``; as often a no-break or thin space),
or joined by separators (a thousands comma, a decimal point, a date's or a range's dash, a
time's colon, a slash, the Arabic decimal and thousands marks), with the letters run into the
last ("3.5m", "12-13th")."""
_TOKEN_RE = re.compile(_NUMBER + r"|\w+|\n|[^\S\n]+|[^\w\s]", re.UNICODE)


def split(text: str) -> list[str]:
    """Cut plain text into word, space and punctuation tokens; ``"".join`` restores it."""
    return _TOKEN_RE.findall(text)


def body_tokens(body: Sequence[Inline]) -> list[Token]:
    """Tokens of a body: words of runs, and each bracket or options group as one token."""
    out: list[Token] = []
    for item in body:
        if isinstance(item, Run):
            out.extend(split(item.text))
        else:
            out.append(item)
    return out


def body_from_tokens(tokens: Sequence[Token]) -> tuple[Inline, ...]:
    """Put tokens back into a normalized body (adjacent words joined into runs)."""
    items: list[Inline] = []
    words: list[str] = []
    for token in tokens:
        if isinstance(token, str):
            words.append(token)
            continue
        if words:
            items.append(Run("".join(words)))
            words = []
        items.append(token)
    if words:
        items.append(Run("".join(words)))
    return normalize_body(items)


def diff(a: Sequence[T], b: Sequence[T]) -> list[Opcode]:
    """Opcodes turning ``a`` into ``b`` (difflib's matching-block diff, no junk heuristic)."""
    if list(a) == list(b):
        return [("equal", 0, len(a), 0, len(b))] if a else []
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return [(tag, i1, i2, j1, j2) for tag, i1, i2, j1, j2 in matcher.get_opcodes()]


def is_word(token: Token) -> bool:
    """True for a word or punctuation token (not white space, not an atom)."""
    return isinstance(token, str) and not token.isspace()
