"""Aligning three versions of a body word by word and narrowing each clash to the words it needs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from parley.core.diff3 import Chunk, ChunkKind, diff3
from parley.core.text import Bracket, Inline, check_code
from parley.core.words import Opcode, OpTag, Token, body_tokens, diff, is_word
from parley.errors import InvalidInputError

T = TypeVar("T")

MIN_SHARED_WORDS = 3
"""Words a run inside a clash must hold, when both sides wrote it, to stay outside the options."""


# --- bodies -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sides:
    """The two sides' labels, which options are attributed to (``ours`` first); ``ours_at``
    names ours' author provision by provision where ours holds several authors' work (the
    running result of an integration)."""

    ours: str
    theirs: str
    ours_at: Mapping[str, str] = field(default_factory=dict)

    def at(self, provision: str) -> Sides:
        """The sides as they are for one provision."""
        ours = self.ours_at.get(provision, self.ours)
        return self if ours == self.ours else Sides(ours, self.theirs)


@dataclass(frozen=True, slots=True)
class Common:
    """Tokens the merge settled."""

    tokens: tuple[Token, ...]


@dataclass(frozen=True, slots=True)
class Clash:
    """Tokens the sides disagree on, as each side has them."""

    ours: tuple[Token, ...]
    theirs: tuple[Token, ...]

    def around(self, before: tuple[Token, ...], after: tuple[Token, ...]) -> Clash:
        return Clash(before + self.ours + after, before + self.theirs + after)

    def then(self, other: Clash) -> Clash:
        return Clash(self.ours + other.ours, self.theirs + other.theirs)

    def swapped(self) -> Clash:
        return Clash(self.theirs, self.ours)


Piece = Common | Clash
Reading = tuple[str, tuple[str | Bracket, ...]]
"""One alternative a side proposes: proposer and tokens (no options group inside)."""


def checked_sides(ours_by: str, theirs_by: str, ours_at: Mapping[str, str] | None = None) -> Sides:
    """The sides' labels, checked: valid codes and different, so every option is attributable."""
    check_code(theirs_by, "theirs' label")
    for label in (ours_by, *(ours_at or {}).values()):
        check_code(label, "ours' label")
        if label == theirs_by:
            raise InvalidInputError(f"the two sides need different labels, both are {label!r}")
    return Sides(ours_by, theirs_by, dict(ours_at or {}))


def spaced(body: Sequence[Inline]) -> list[Token]:
    """Tokens of a body with a space after the last word, so that the end is nothing special."""
    return [*body_tokens(body), " "] if body else []


_Unit = tuple[Token, ...]
"""A word, mark or atom with the space after it: what the diff aligns, so a space never anchors."""


def word_diff(a: Sequence[Token], b: Sequence[Token]) -> list[Opcode]:
    """Opcodes turning tokens ``a`` into ``b``, aligned on words rather than on spaces.

    Units (a word and the space after it) are matched by their word alone, so a space never
    anchors a match and a space turned into a line break is a change of that space only. Each
    changed stretch then gives back the tokens it starts and ends with unchanged, so the space
    between two edited neighbouring words stays a common separator.
    """
    ua, ub = _units(a), _units(b)
    sa, sb = _starts(ua), _starts(ub)
    out: list[Opcode] = []
    for tag, i1, i2, j1, j2 in diff([u[0] for u in ua], [u[0] for u in ub]):
        if tag != "equal":
            out += _trimmed(a, b, (sa[i1], sa[i2], sb[j1], sb[j2]))
            continue
        for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
            out += _trimmed(a, b, (sa[i], sa[i + 1], sb[j], sb[j + 1]))
    return out


def _starts(units: list[_Unit]) -> list[int]:
    starts = [0]
    for unit in units:
        starts.append(starts[-1] + len(unit))
    return starts


def _trimmed(
    a: Sequence[Token], b: Sequence[Token], span: tuple[int, int, int, int]
) -> list[Opcode]:
    i1, i2, j1, j2 = span
    head = _common_prefix(a[i1:i2], b[j1:j2])
    tail = _common_prefix(a[i1 + head : i2][::-1], b[j1 + head : j2][::-1])
    middle: OpTag = (
        "replace"
        if i2 - i1 > head + tail and j2 - j1 > head + tail
        else ("delete" if i2 - i1 > head + tail else "insert")
    )
    out: list[Opcode] = []
    if head:
        out.append(("equal", i1, i1 + head, j1, j1 + head))
    if i2 - i1 > head + tail or j2 - j1 > head + tail:
        out.append((middle, i1 + head, i2 - tail, j1 + head, j2 - tail))
    if tail:
        out.append(("equal", i2 - tail, i2, j2 - tail, j2))
    return out


def _units(tokens: Iterable[Token]) -> list[_Unit]:
    out: list[list[Token]] = []
    for token in tokens:
        if out and is_space(token):
            out[-1].append(token)
        else:
            out.append([token])
    return [tuple(unit) for unit in out]


def _flat(units: Iterable[_Unit]) -> tuple[Token, ...]:
    return tuple(token for unit in units for token in unit)


_OURS = {ChunkKind.A, ChunkKind.CONFLICT}
_THEIRS = {ChunkKind.B, ChunkKind.CONFLICT}


def word_chunks(
    base: Sequence[Token], ours: Sequence[Token], theirs: Sequence[Token]
) -> list[Chunk[Token]]:
    """``diff3`` of three token lists aligned on words, with the merge's two safety rules:
    edits by both sides that touch clash (``touching_edits_clash``), and so does a word one
    side moved that the other took out (``moves_against_removals``)."""
    return touching_edits_clash(moves_against_removals(diff3(base, ours, theirs, word_diff)))


def touching_edits_clash(chunks: Sequence[Chunk[Token]]) -> list[Chunk[Token]]:
    """Edits by both sides that touch become one conflict: inside one word, or in neighbouring
    words with only a space between them.

    Word by word, "1,000,000" made "1,500,000" by one side and "2,000,000" by the other are two
    changes that do not overlap, separated by an unchanged comma; taken together they give
    "2,500,000", an amount neither side wrote. So too "shall meet" made "may meet" by one side
    and "shall not meet" by the other: "may not meet". So changed chunks joined by unchanged
    tokens that are all letters and marks (one word) or all spaces (neighbouring words, not a
    paragraph break), when both sides changed something in them that the other did not, become
    one conflict: the mediator sees each side's words (``git merge-file`` run on one word a line
    sees edits to neighbouring lines the same way).
    """
    out: list[Chunk[Token]] = []
    i = 0
    while i < len(chunks):
        end = _touching_end(chunks, i)
        group = chunks[i : end + 1]
        kinds = {chunk.kind for chunk in group}
        if end > i and kinds & _OURS and kinds & _THEIRS:
            out.append(_conflict(group))
        else:
            out.extend(group)
        i = end + 1
    return out


def _touching_end(chunks: Sequence[Chunk[Token]], i: int) -> int:
    """The last chunk of the run of changed chunks from ``i`` that touch one another."""
    if chunks[i].kind is ChunkKind.STABLE:
        return i
    end = i
    while (
        end + 2 < len(chunks)
        and chunks[end + 1].kind is ChunkKind.STABLE
        and _joins(chunks[end + 1].base)
        and chunks[end + 2].kind is not ChunkKind.STABLE
    ):
        end += 2
    return end


def _joins(tokens: Sequence[Token]) -> bool:
    """Unchanged tokens that leave the edits on either side touching: one word's letters and
    marks, or the spaces between two neighbouring words (not a paragraph break)."""
    spaces = [is_space(token) for token in tokens]
    if all(spaces):
        return "\n" not in tokens
    return not any(spaces)


def moves_against_removals(chunks: Sequence[Chunk[Token]]) -> list[Chunk[Token]]:
    """A word one side moved (took out in one place and put in another) that the other side
    took out: where the move puts it is a conflict, the other side's alternative without it.

    Diffed word by word, the move is a removal and an insertion. The removal is the same edit
    as the other side's, so it is taken once; the insertion, made by one side only, would be
    taken too, and the other side's deletion of the word would be lost without a trace.
    """
    removed_o, removed_t = Counter[Token](), Counter[Token]()
    for chunk in chunks:
        removed_o |= _words(chunk.base) - _words(chunk.a)
        removed_t |= _words(chunk.base) - _words(chunk.b)
    gone = removed_o & removed_t
    out: list[Chunk[Token]] = []
    for chunk in chunks:
        side = chunk.a if chunk.kind is ChunkKind.A else chunk.b
        if chunk.kind in (ChunkKind.A, ChunkKind.B) and _words(side) - _words(chunk.base) & gone:
            chunk = Chunk(ChunkKind.CONFLICT, chunk.base, chunk.a, chunk.b)
        out.append(chunk)
    return out


def _words(tokens: Sequence[Token]) -> Counter[Token]:
    """The words among ``tokens`` (letters or digits: not spaces, marks or atoms)."""
    return Counter(t for t in tokens if isinstance(t, str) and any(c.isalnum() for c in t))


def _conflict(group: Sequence[Chunk[Token]]) -> Chunk[Token]:
    def joined(side: str) -> tuple[Token, ...]:
        return tuple(token for chunk in group for token in getattr(chunk, side))

    return Chunk(ChunkKind.CONFLICT, joined("base"), joined("a"), joined("b"))


def to_pieces(chunks: Iterable[Chunk[Token]]) -> list[Piece]:
    """The diff3 chunks as common runs and clashes, each clash narrowed to the words that differ."""
    out: list[Piece] = []
    for chunk in chunks:
        resolved = chunk.resolved
        if resolved is None:
            out.extend(_refine(chunk.a, chunk.b))
        else:
            out.append(Common(resolved))
    return out


def _refine(ours: tuple[Token, ...], theirs: tuple[Token, ...]) -> list[Piece]:
    """Take out of a clash what both sides wrote: a common start and end, long shared runs."""
    head = _common_prefix(ours, theirs)
    tail = _common_prefix(ours[head:][::-1], theirs[head:][::-1])
    inner = _shared_runs(ours[head : len(ours) - tail], theirs[head : len(theirs) - tail])
    return [Common(ours[:head]), *inner, Common(ours[len(ours) - tail :])]


def _common_prefix(a: Sequence[T], b: Sequence[T]) -> int:
    n = 0
    while n < len(a) and n < len(b) and a[n] == b[n]:
        n += 1
    return n


def _shared_runs(ours: tuple[Token, ...], theirs: tuple[Token, ...]) -> list[Piece]:
    """Split a clash at long runs both sides wrote, comparing in one fixed order of the sides so
    that swapping the sides swaps the options and nothing else."""
    swap = _order_key(ours) > _order_key(theirs)
    a, b = _units(theirs if swap else ours), _units(ours if swap else theirs)
    out: list[Piece] = []
    pending = Clash((), ())
    for tag, i1, i2, j1, j2 in diff(a, b):
        shared = _flat(a[i1:i2])
        if tag == "equal" and sum(map(is_word, shared)) >= MIN_SHARED_WORDS:
            out += [pending, Common(shared)]
            pending = Clash((), ())
        else:
            pending = pending.then(Clash(shared, _flat(b[j1:j2])))
    out.append(pending)
    return [p.swapped() if swap and isinstance(p, Clash) else p for p in out]


def _order_key(tokens: Sequence[Token]) -> tuple[str, ...]:
    return tuple(t if isinstance(t, str) else repr(t) for t in tokens)


def join_pieces(pieces: Iterable[Piece]) -> list[Piece]:
    """Drop empty pieces and join neighbours of the same sort."""
    out: list[Piece] = []
    for piece in pieces:
        if isinstance(piece, Common) and not piece.tokens:
            continue
        if isinstance(piece, Clash) and not piece.ours and not piece.theirs:
            continue
        last = out[-1] if out else None
        if isinstance(last, Common) and isinstance(piece, Common):
            out[-1] = Common(last.tokens + piece.tokens)
        elif isinstance(last, Clash) and isinstance(piece, Clash):
            out[-1] = last.then(piece)
        else:
            out.append(piece)
    return out


def is_space(token: object) -> bool:
    """True for a whitespace token, which never anchors a match."""
    return isinstance(token, str) and token.isspace()


def _glued(tokens: Sequence[Token]) -> int:
    """How many tokens at the start are letters or marks touching the next word (no space)."""
    n = 0
    while n < len(tokens) and isinstance(tokens[n], str) and not is_space(tokens[n]):
        n += 1
    return n


def widen(pieces: list[Piece]) -> list[Piece]:
    """Stretch every clash to whole words: take in the letters and marks that touch it."""
    right = _widen_right(pieces)
    flipped = [_flip(p) for p in reversed(right)]
    return [_flip(p) for p in reversed(_widen_right(flipped))]


def _flip(piece: Piece) -> Piece:
    if isinstance(piece, Common):
        return Common(piece.tokens[::-1])
    return Clash(piece.ours[::-1], piece.theirs[::-1])


def _widen_right(pieces: list[Piece]) -> list[Piece]:
    out: list[Piece] = []
    for piece in pieces:
        last = out[-1] if out else None
        if isinstance(last, Clash) and isinstance(piece, Clash):
            out[-1] = last.then(piece)
            continue
        if isinstance(last, Clash) and isinstance(piece, Common):
            n = _glued(piece.tokens) if _touches(last, out[-2] if len(out) > 1 else None) else 0
            out[-1] = last.around((), piece.tokens[:n])
            if n == len(piece.tokens):
                continue
            piece = Common(piece.tokens[n:])
        out.append(piece)
    return out


def _touches(clash: Clash, before: Piece | None) -> bool:
    """Whether either side's text runs into what follows the clash without a space."""
    context = before.tokens[-1:] if isinstance(before, Common) else ()
    for side in (clash.ours, clash.theirs):
        last = side[-1:] or context
        if last and not is_space(last[0]):
            return True
    return False
