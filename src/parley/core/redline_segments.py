"""The pieces of a body diff (words, brackets, options), and reading either version back."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from parley.core import words
from parley.core.text import Bracket, Inline, Option, Options
from parley.core.words import Token


class Op(StrEnum):
    """What happened to a stretch of words."""

    EQUAL = "equal"
    INSERT = "insert"
    DELETE = "delete"


class Change(StrEnum):
    """What happened to a provision; one provision may show several of these."""

    ADDED = "added"
    REMOVED = "removed"
    MOVED = "moved"
    """Its parent changed, or it left the longest run of siblings kept in their old order."""
    RENUMBERED = "renumbered"
    """Its display label changed ("Article 4" became "Article 5")."""
    KIND = "kind"
    HEADING = "heading"
    RESERVATIONS = "reservations"
    BODY = "body"


class AtomChange(StrEnum):
    """What happened to a bracket, to a group of options, or to one option in a group."""

    UNCHANGED = "unchanged"
    ADDED = "added"
    """New, with new words."""
    REMOVED = "removed"
    """Gone, with its words."""
    OPENED = "opened"
    """Existing words were put in brackets, or offered as one of a new group of options."""
    RESOLVED = "resolved"
    """The brackets (or the other options) are gone and the words (one wording) are kept."""
    CHANGED = "changed"
    """Its words or holders changed; for options, some alternatives changed."""


# --- segments of a body diff --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Words:
    """Words, spaces and punctuation kept, inserted or deleted, as they read in the text."""

    op: Op
    text: str


@dataclass(frozen=True, slots=True)
class BracketDiff:
    """A bracket in either version and what happened to it."""

    change: AtomChange
    old: Bracket | None
    new: Bracket | None
    words: tuple[Words, ...]
    """Its words from old to new (all kept when resolved, opened or only the holders changed)."""

    @property
    def holders_added(self) -> tuple[str, ...]:
        """Participants who hold the bracket open now and did not before."""
        return minus(_holders(self.new), _holders(self.old))

    @property
    def holders_removed(self) -> tuple[str, ...]:
        """Participants who held the bracket open before and no longer do."""
        return minus(_holders(self.old), _holders(self.new))


@dataclass(frozen=True, slots=True)
class OptionDiff:
    """One alternative wording in a group of options and what happened to it."""

    change: AtomChange
    """UNCHANGED, ADDED, REMOVED or CHANGED."""
    old: Option | None
    new: Option | None
    body: tuple[Words | BracketDiff, ...]

    @property
    def proposer(self) -> str:
        """Who proposed this wording (the new proposer when there is one)."""
        option = self.new or self.old
        assert option is not None
        return option.proposer


@dataclass(frozen=True, slots=True)
class OptionsDiff:
    """A group of options in either version and what happened to it."""

    change: AtomChange
    old: Options | None
    new: Options | None
    options: tuple[OptionDiff, ...]
    chosen: int | None = None
    """Index in ``options`` of the wording kept (RESOLVED) or of the existing words (OPENED)."""


Segment = Words | BracketDiff | OptionsDiff


def _holders(bracket: Bracket | None) -> tuple[str, ...]:
    return bracket.holders if bracket else ()


def minus(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    """The codes of ``a`` missing from ``b``, in ``a``'s order."""
    return tuple(x for x in a if x not in b)


# --- reading a body diff back -------------------------------------------------------------------


def before(segments: Iterable[Segment]) -> tuple[Inline, ...]:
    """The old body a diff was made from."""
    return words.body_from_tokens([t for s in segments for t in _side_tokens(s, old=True)])


def after(segments: Iterable[Segment]) -> tuple[Inline, ...]:
    """The new body a diff was made to."""
    return words.body_from_tokens([t for s in segments for t in _side_tokens(s, old=False)])


def _side_tokens(segment: Segment, *, old: bool) -> list[Token]:
    if isinstance(segment, Words):
        shown = segment.op is Op.EQUAL or segment.op is (Op.DELETE if old else Op.INSERT)
        return [segment.text] if shown else []
    atom = segment.old if old else segment.new
    if atom is not None:
        return [atom]
    settled = AtomChange.OPENED if old else AtomChange.RESOLVED
    if segment.change is not settled:
        return []
    if isinstance(segment, BracketDiff):
        return ["".join(w.text for w in segment.words)]
    assert segment.chosen is not None
    option = segment.options[segment.chosen].new or segment.options[segment.chosen].old
    assert option is not None
    return words.body_tokens(option.body)


OPTION_SEPARATOR = " / "
"""How ``text.plain`` joins alternatives, and so how ``flat`` does."""


def flat(segments: Iterable[Segment]) -> Iterator[Words]:
    """The diff as words only: brackets dissolved into their words, options joined by " / ".

    Joining the kept and deleted words gives ``text.plain`` of the old body; the kept and inserted
    words give that of the new body.
    """
    for segment in segments:
        if isinstance(segment, Words):
            yield segment
        elif isinstance(segment, BracketDiff):
            yield from segment.words
        else:
            yield from _flat_options(segment.options)


_IN_OLD = frozenset({AtomChange.UNCHANGED, AtomChange.REMOVED, AtomChange.CHANGED})
_IN_NEW = frozenset({AtomChange.UNCHANGED, AtomChange.ADDED, AtomChange.CHANGED})


def sides(option: OptionDiff) -> tuple[bool, bool]:
    """Whether an option's words read in the old version, and in the new one."""
    return option.change in _IN_OLD, option.change in _IN_NEW


def _flat_options(options: Iterable[OptionDiff]) -> Iterator[Words]:
    old_seen = new_seen = False
    for option in options:
        in_old, in_new = sides(option)
        sep_old, sep_new = in_old and old_seen, in_new and new_seen
        if sep_old or sep_new:
            op = Op.EQUAL if sep_old and sep_new else Op.DELETE if sep_old else Op.INSERT
            yield Words(op, OPTION_SEPARATOR)
        yield from flat(option.body)
        old_seen, new_seen = old_seen or in_old, new_seen or in_new


def atoms(segments: Iterable[Segment]) -> Iterator[BracketDiff | OptionDiff]:
    """Every bracket and every single option in a diff, including brackets inside options."""
    for segment in segments:
        if isinstance(segment, BracketDiff):
            yield segment
        elif isinstance(segment, OptionsDiff):
            for option in segment.options:
                yield option
                yield from atoms(option.body)
