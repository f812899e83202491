"""Turning the clashes of a body merge into options groups attributed to each side."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from parley.core.merge_words import (
    Clash,
    Common,
    Piece,
    Reading,
    Sides,
    T,
    is_space,
    join_pieces,
    spaced,
    to_pieces,
    widen,
    word_chunks,
)
from parley.core.text import Bracket, Inline, Option, Options, Run, plain
from parley.core.words import Token, body_from_tokens, split


@dataclass(frozen=True, slots=True)
class BodyMerge:
    """A merged body, with the words of each side wherever the merge had to make options."""

    body: tuple[Inline, ...]
    clashes: tuple[tuple[str, str], ...] = ()
    options_created: int = 0


def merge_inlines(
    base: tuple[Inline, ...], ours: tuple[Inline, ...], theirs: tuple[Inline, ...], sides: Sides
) -> BodyMerge:
    """Merge three bodies for checked sides: the step ``merge_body`` and the tree merge share."""
    if ours == theirs or base == theirs:
        return BodyMerge(ours)
    if base == ours:
        return BodyMerge(theirs)
    tokens = (spaced(base), spaced(ours), spaced(theirs))
    return emit(widen(join_pieces(to_pieces(word_chunks(*tokens)))), sides)


def emit(pieces: Iterable[Piece], sides: Sides) -> BodyMerge:
    """The merged body from its pieces, each clash made into options attributed to its side."""
    tokens: list[Token] = []
    clashes: list[tuple[str, str]] = []
    created = 0
    for piece in pieces:
        if isinstance(piece, Common):
            tokens.extend(piece.tokens)
            continue
        made = _alternatives(piece, sides)
        groups = sum(isinstance(t, Options) for t in made)
        if groups:
            clashes.append((_words(piece.ours), _words(piece.theirs)))
            created += groups
        tokens.extend(made)
    return BodyMerge(body_from_tokens(tidy(tokens)), tuple(clashes), created)


def _words(tokens: Sequence[Token]) -> str:
    return plain(body_from_tokens(tidy(tokens)))


def _alternatives(clash: Clash, sides: Sides) -> list[Token]:
    """The options for one clash, spaces moved outside, one group per line."""
    readings = _unique([*_readings(clash.ours, sides.ours), *_readings(clash.theirs, sides.theirs)])
    lead = _edge_space([r for _, r in readings], 0)
    trail = _edge_space([r for _, r in readings], -1)
    lines = [(who, _lines(r)) for who, r in readings]
    out: list[Token] = [lead] if lead else []
    for i in range(max(len(ls) for _, ls in lines)):
        if i:
            out.append("\n")
        out.extend(_group([(who, ls[i] if i < len(ls) else ()) for who, ls in lines]))
    if trail:
        out.append(trail)
    return out


def _readings(tokens: tuple[Token, ...], proposer: str) -> list[Reading]:
    """What one side proposes for a clash, with existing options groups flattened."""
    groups = [t for t in tokens if isinstance(t, Options)]
    solid = [t for t in tokens if not is_space(t)]
    if len(groups) == 1 and len(solid) == 1:  # its spaces and breaks stay around each reading
        at = tokens.index(groups[0])
        before = tuple(str(t) for t in tokens[:at])  # spaces only
        after = tuple(str(t) for t in tokens[at + 1 :])
        return [(o.proposer, (*before, *_option_tokens(o.body), *after)) for o in groups[0].options]
    width = max((len(g.options) for g in groups), default=1)
    return [(proposer, _pick(tokens, i)) for i in range(width)]


def _pick(tokens: tuple[Token, ...], i: int) -> tuple[str | Bracket, ...]:
    """The tokens with each options group replaced by its ``i``-th alternative (or its last)."""
    out: list[str | Bracket] = []
    for token in tokens:
        if isinstance(token, Options):
            out.extend(_option_tokens(token.options[min(i, len(token.options) - 1)].body))
        else:
            out.append(token)
    return tuple(out)


def _option_tokens(body: tuple[Run | Bracket, ...]) -> tuple[str | Bracket, ...]:
    out: list[str | Bracket] = []
    for item in body:
        out.extend(split(item.text) if isinstance(item, Run) else [item])
    return tuple(out)


def _unique(readings: Iterable[Reading]) -> list[Reading]:
    return list(dict.fromkeys(readings))


def _edge_space(readings: list[tuple[str | Bracket, ...]], end: int) -> str | None:
    """The space to put outside the group at one end, if a side has one there. Only a plain
    space: a line break stays with the side that wrote it, so that each side's paragraphs start
    where it started them (``_lines``); moved outside, it would make a paragraph no side has."""
    found = {str(r[end]) for r in readings if r and is_space(r[end]) and r[end] != "\n"}
    return min(found) if found else None


def _lines(tokens: tuple[str | Bracket, ...]) -> list[tuple[str | Bracket, ...]]:
    """A side's words paragraph by paragraph: a break at the start or end of the clash gives
    that side an empty first or last paragraph of it."""
    lines: list[list[str | Bracket]] = [[]]
    for token in tokens:
        if token != "\n":
            lines[-1].append(token)
        elif lines[-1] or len(lines) == 1:  # two breaks in a row are one
            lines.append([])
    return [tuple(tidy(line)) for line in lines]


def _group(options: list[Reading]) -> list[Token]:
    """An options group, or the words themselves when every option says the same."""
    bodies = {tokens for _, tokens in options}
    if len(bodies) == 1:
        return [*bodies.pop()]
    return [Options(tuple(Option(who, _option_body(tokens)) for who, tokens in _unique(options)))]


def _option_body(tokens: tuple[str | Bracket, ...]) -> tuple[Run | Bracket, ...]:
    items: list[Run | Bracket] = []
    for token in tokens:
        if isinstance(token, Bracket):
            items.append(token)
        elif items and isinstance(items[-1], Run):
            items[-1] = Run(items[-1].text + token)
        else:
            items.append(Run(token))
    return tuple(items)


def tidy(tokens: Iterable[T]) -> list[T]:
    """No space at either end, no two spaces in a row (a line break wins over a space)."""
    out: list[T] = []
    for token in tokens:
        if is_space(token) and (not out or is_space(out[-1])):
            if out and token == "\n":
                out[-1] = token
            continue
        out.append(token)
    if out and is_space(out[-1]):
        out.pop()
    return out
