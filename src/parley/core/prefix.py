"""Hashes as people type them: the first few hex digits, completed against what exists.

One rule for the embedded store and for a server's client: at least ``MIN_DIGITS`` hex digits
(a trailing ``…``, as Parley prints short hashes, is allowed), and exactly one match.
"""

from __future__ import annotations

from collections.abc import Iterable

from parley.errors import InvalidInputError, NotFoundError

MIN_DIGITS = 4
_HEX = frozenset("0123456789abcdef")


def hex_prefix(typed: str, what: str) -> str:
    """``typed`` as a lowercase hex prefix; refuse what cannot be one, as typed."""
    prefix = typed.rstrip("…").lower()
    if len(prefix) < MIN_DIGITS or not set(prefix) <= _HEX:
        raise InvalidInputError(
            f"{what} must be a hash or at least {MIN_DIGITS} hex digits of one, found {typed!r}"
        )
    return prefix


def complete_hash(candidates: Iterable[str], typed: str, what: str) -> str:
    """The one candidate that ``typed`` starts (see ``hex_prefix``)."""
    prefix = hex_prefix(typed, what)
    return one_match(sorted({c for c in candidates if c.startswith(prefix)}), prefix, what)


def one_match(matches: list[str], prefix: str, what: str) -> str:
    """The only match of ``prefix``; refuse none or several."""
    if not matches:
        raise NotFoundError(f"no {what} {prefix}…")
    if len(matches) > 1:
        raise InvalidInputError(
            f"{prefix}… is ambiguous ({len(matches)} matches): give more digits"
        )
    return matches[0]


def negotiation_id(ids: Iterable[str], typed: str) -> str:
    """A negotiation's full id from the id or its first digits."""
    known = list(ids)
    if typed in known:
        return typed
    return complete_hash(known, typed, "negotiation")
