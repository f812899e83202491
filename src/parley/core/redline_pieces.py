"""One walk over a body diff, as marked pieces of text and group openings, shared by every view."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from parley.core.redline import (
    AtomChange,
    BracketDiff,
    Op,
    OptionDiff,
    OptionsDiff,
    Segment,
    Words,
    sides,
)
from parley.core.redline_describe import describe
from parley.core.text import Bracket

# --- pieces: the shared walk --------------------------------------------------------------------


class Role(StrEnum):
    """What a piece of a rendered body is."""

    WORDS = "words"
    BRACKET = "bracket"
    """The square brackets around words not yet agreed."""
    HOLDERS = "holders"
    """Who holds a bracket open: ``{AF,PK}``."""
    OPTIONS = "options"
    """The marks around and between alternatives: ``[[``, `` | ``, ``]]``."""
    PROPOSER = "proposer"
    """Who proposed an alternative: ``AF:``."""


@dataclass(frozen=True, slots=True)
class Piece:
    """Text to show, kept, inserted or deleted."""

    op: Op
    role: Role
    text: str


@dataclass(frozen=True, slots=True)
class Open:
    """Start of a bracket, an options group or one option, with a note saying what happened."""

    what: str
    """``bracket``, ``options`` or ``option``."""
    change: AtomChange
    note: str


@dataclass(frozen=True, slots=True)
class Close:
    """End of the innermost ``Open``."""


Event = Piece | Open | Close

_MARK_OP = {
    AtomChange.UNCHANGED: Op.EQUAL,
    AtomChange.CHANGED: Op.EQUAL,
    AtomChange.ADDED: Op.INSERT,
    AtomChange.OPENED: Op.INSERT,
    AtomChange.REMOVED: Op.DELETE,
    AtomChange.RESOLVED: Op.DELETE,
}
"""How the marks of a bracket or options group show, by what happened to it."""


_SHOWN = str.maketrans(
    {
        "\u00a0": "⍽", "\u2007": "⍽", "\u202f": "⍽",  # no-break spaces
        "\u200c": "⟨ZWNJ⟩", "\u200d": "⟨ZWJ⟩",
        "\u200e": "⟨LRM⟩", "\u200f": "⟨RLM⟩", "\u061c": "⟨ALM⟩",
    }
)  # fmt: skip
"""Characters a text may hold that look like a plain space or like nothing: in words deleted or
inserted they are shown by a mark, or a change of one into another would look like no change
("30 days" with a no-break space for a space)."""


def shown(words: str) -> str:
    """Changed words as a reader must see them: ``_SHOWN``'s characters marked."""
    return words.translate(_SHOWN)


def pieces(segments: Iterable[Segment]) -> Iterator[Event]:
    """The body diff as a stream of pieces to show, in reading order (changed words ``shown``)."""
    for segment in segments:
        if isinstance(segment, Words):
            text = segment.text if segment.op is Op.EQUAL else shown(segment.text)
            yield Piece(segment.op, Role.WORDS, text)
        elif isinstance(segment, BracketDiff):
            yield from _bracket_pieces(segment)
        else:
            yield from _options_pieces(segment)


def _bracket_pieces(segment: BracketDiff) -> Iterator[Event]:
    op = _MARK_OP[segment.change]
    yield Open("bracket", segment.change, describe(segment))
    yield Piece(op, Role.BRACKET, "[")
    yield from pieces(segment.words)
    yield Piece(op, Role.BRACKET, "]")
    old, new = _holders_text(segment.old), _holders_text(segment.new)
    if segment.change is not AtomChange.CHANGED or old == new:
        if old or new:
            yield Piece(op, Role.HOLDERS, old or new)
    else:
        if old:
            yield Piece(Op.DELETE, Role.HOLDERS, old)
        if new:
            yield Piece(Op.INSERT, Role.HOLDERS, new)
    yield Close()


def _holders_text(bracket: Bracket | None) -> str:
    return "{" + ",".join(bracket.holders) + "}" if bracket and bracket.holders else ""


def _options_pieces(segment: OptionsDiff) -> Iterator[Event]:
    op = _MARK_OP[segment.change]
    yield Open("options", segment.change, describe(segment))
    yield Piece(op, Role.OPTIONS, "[[")
    old_seen = new_seen = False
    for option in segment.options:
        in_old, in_new = sides(option)
        sep_old, sep_new = in_old and old_seen, in_new and new_seen
        if sep_old or sep_new:
            sep = Op.EQUAL if sep_old and sep_new else Op.DELETE if sep_old else Op.INSERT
            yield Piece(op if sep is Op.EQUAL else sep, Role.OPTIONS, " | ")
        yield from _option_pieces(option, op)
        old_seen, new_seen = old_seen or in_old, new_seen or in_new
    yield Piece(op, Role.OPTIONS, "]]")
    yield Close()


def _option_pieces(option: OptionDiff, group_op: Op) -> Iterator[Event]:
    op = _MARK_OP[option.change] if option.change in _ONE_SIDED else group_op
    yield Open("option", option.change, describe(option))
    yield Piece(op, Role.PROPOSER, f"{option.proposer}: " if option.body else f"{option.proposer}:")
    yield from pieces(option.body)
    yield Close()


_ONE_SIDED = frozenset({AtomChange.ADDED, AtomChange.REMOVED})
