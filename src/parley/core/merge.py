"""Three-way merge of negotiating texts: by provision id first, then word by word inside a body.

``merge(base, ours, theirs, ours_by, theirs_by)`` integrates two amended versions of ``base``.
Provisions are matched by their stable ids, so renumbering and moves are never mistaken for
deletions. Each provision's existence, place (parent and order among its siblings), kind, heading,
reservations and body are merged separately. A body is merged with ``diff3`` over the tokens of
``words.body_tokens`` (words, spaces, punctuation; a bracket or options group is one token),
aligned by ``word_diff`` on words: a space never anchors a match, and the space between two
neighbouring words stays a common separator, so edits to neighbouring words both apply.

Rules (each chosen so that no edit is lost without a trace):

* An edit on one side only is applied; the same edit on both sides is applied once.
* Overlapping different edits in a body become an ``Options`` group, one option per side
  (``ours_by`` first), covering the clashing words only: runs both sides wrote identically at the
  start or end of the clash, or inside it when at least ``MIN_SHARED_WORDS`` words long, stay
  outside the options; the clash is then widened to whole words (``fox.`` against ``fox!``).
  Edits that touch without overlapping also clash, as in ``git merge-file``.
* An option never starts or ends with a space and never holds a line break: spaces at its edges
  move outside the group, and a clash spanning line breaks becomes one group per line.
* Brackets inside a clash stay inside the option bodies. Options cannot nest, so a clash holding an
  existing options group is flattened: a side whose clashing words are just that group contributes
  its alternatives unchanged (each keeps its proposer); a side that also changed words around
  groups contributes one option per alternative (the i-th alternative of each group in place),
  attributed to that side. Identical options (same proposer and words) are given once.
* A provision deleted on one side and untouched on the other is deleted. If the other side changed
  it (content, place, or anything below it), the whole subtree is kept as that side has it, each
  body turned into options [that side's body, empty by the deleting side], and one ``edit/delete``
  conflict names the subtree's root.
* A provision added on one side is placed after the same preceding sibling as on its side;
  additions by both sides at one place keep ours' first. Added on both sides under one id: merged
  with an empty base (options where the bodies differ).
* Heading, kind, title and language cannot hold options: different changes to a heading (or the
  title) are merged word by word when they do not clash; otherwise ours' value is kept and the
  conflict records both. Reservations: a code either side added is kept; a code removed by one
  side is removed (the other side can only have kept it or removed it too).
* Moves apply like renames in git (a move on one side and an edit on the other both apply); two
  different moves of one provision keep ours' place and record a ``move`` conflict. Moves on both
  sides that would nest provisions deeper than ``text.MAX_DEPTH`` lift what is too deep to the
  deepest level allowed (a ``depth`` conflict each).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import TypeVar

from parley.core.diff3 import Chunk, ChunkKind, diff3, merge3
from parley.core.text import (
    MAX_DEPTH,
    Bracket,
    Inline,
    Option,
    Options,
    Provision,
    Run,
    Text,
    check_code,
    plain,
    walk,
)
from parley.core.words import (
    Opcode,
    OpTag,
    Token,
    body_from_tokens,
    body_tokens,
    diff,
    is_word,
    split,
)
from parley.errors import InvalidInputError

T = TypeVar("T")

MIN_SHARED_WORDS = 3
"""Words a run inside a clash must hold, when both sides wrote it, to stay outside the options."""


class ConflictKind(StrEnum):
    """What the mediator has to decide."""

    WORDING = "wording"
    """Overlapping edits in a body, now an options group."""
    EDIT_DELETE = "edit/delete"
    """One side deleted a provision the other changed; kept, with its bodies as options."""
    HEADING = "heading"
    """Different new headings; ours' is kept."""
    KIND = "kind"
    """Different new kinds; ours' is kept."""
    MOVE = "move"
    """Different new places; ours' is kept."""
    DEPTH = "depth"
    """Moves would nest it deeper than ``text.MAX_DEPTH``; lifted to the deepest level allowed."""
    TITLE = "title"
    """Different new titles; ours' is kept."""
    LANGUAGE = "language"
    """Different new languages; ours' is kept."""


@dataclass(frozen=True, slots=True)
class Conflict:
    """One place where the sides disagree: which provision, what kind, what each side has."""

    provision: str | None
    """The provision's id, or None for the text itself (title, language)."""
    kind: ConflictKind
    ours: str
    """What ours has there (words, heading, place, "deleted" …); empty for nothing."""
    theirs: str


@dataclass(frozen=True, slots=True)
class MergeResult:
    """The merged text and everything the mediator must still look at, in document order."""

    text: Text
    conflicts: tuple[Conflict, ...] = ()
    options_created: int = 0
    """How many options groups the merge made (existing groups are not counted)."""

    @property
    def clean(self) -> bool:
        """True when the merge made no options and recorded no conflict."""
        return not self.conflicts and self.options_created == 0


@dataclass(frozen=True, slots=True)
class BodyMerge:
    """A merged body, with the words of each side wherever the merge had to make options."""

    body: tuple[Inline, ...]
    clashes: tuple[tuple[str, str], ...] = ()
    options_created: int = 0


def merge(base: Text, ours: Text, theirs: Text, ours_by: str, theirs_by: str) -> MergeResult:
    """Merge two amended versions of ``base``; options are attributed to ``ours_by``/``theirs_by``.

    The texts must be valid (as ``parse`` and ``from_json`` return them); so is the result.
    """
    sides = _sides(ours_by, theirs_by)
    return _Merger(_index(base), _index(ours), _index(theirs), sides).run(base, ours, theirs)


def merge_body(
    base: Sequence[Inline],
    ours: Sequence[Inline],
    theirs: Sequence[Inline],
    ours_by: str,
    theirs_by: str,
) -> BodyMerge:
    """Merge two amended versions of one provision body, word by word."""
    return _merge_body(tuple(base), tuple(ours), tuple(theirs), _sides(ours_by, theirs_by))


# --- bodies -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Sides:
    ours: str
    theirs: str


@dataclass(frozen=True, slots=True)
class _Common:
    """Tokens the merge settled."""

    tokens: tuple[Token, ...]


@dataclass(frozen=True, slots=True)
class _Clash:
    """Tokens the sides disagree on, as each side has them."""

    ours: tuple[Token, ...]
    theirs: tuple[Token, ...]

    def around(self, before: tuple[Token, ...], after: tuple[Token, ...]) -> _Clash:
        return _Clash(before + self.ours + after, before + self.theirs + after)

    def then(self, other: _Clash) -> _Clash:
        return _Clash(self.ours + other.ours, self.theirs + other.theirs)

    def swapped(self) -> _Clash:
        return _Clash(self.theirs, self.ours)


_Piece = _Common | _Clash
_Reading = tuple[str, tuple[str | Bracket, ...]]
"""One alternative a side proposes: proposer and tokens (no options group inside)."""


def _sides(ours_by: str, theirs_by: str) -> _Sides:
    check_code(ours_by, "ours' label")
    check_code(theirs_by, "theirs' label")
    if ours_by == theirs_by:
        raise InvalidInputError(f"the two sides need different labels, both are {ours_by!r}")
    return _Sides(ours_by, theirs_by)


def _merge_body(
    base: tuple[Inline, ...], ours: tuple[Inline, ...], theirs: tuple[Inline, ...], sides: _Sides
) -> BodyMerge:
    if ours == theirs or base == theirs:
        return BodyMerge(ours)
    if base == ours:
        return BodyMerge(theirs)
    tokens = (_spaced(base), _spaced(ours), _spaced(theirs))
    return _emit(_widen(_join(_pieces(diff3(*tokens, differ=word_diff)))), sides)


def _spaced(body: Sequence[Inline]) -> list[Token]:
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
        if out and _is_space(token):
            out[-1].append(token)
        else:
            out.append([token])
    return [tuple(unit) for unit in out]


def _flat(units: Iterable[_Unit]) -> tuple[Token, ...]:
    return tuple(token for unit in units for token in unit)


def _pieces(chunks: Iterable[Chunk[Token]]) -> list[_Piece]:
    out: list[_Piece] = []
    for chunk in chunks:
        resolved = chunk.resolved
        if resolved is None:
            out.extend(_refine(chunk.a, chunk.b))
        else:
            out.append(_Common(resolved))
    return out


def _refine(ours: tuple[Token, ...], theirs: tuple[Token, ...]) -> list[_Piece]:
    """Take out of a clash what both sides wrote: a common start and end, long shared runs."""
    head = _common_prefix(ours, theirs)
    tail = _common_prefix(ours[head:][::-1], theirs[head:][::-1])
    inner = _shared_runs(ours[head : len(ours) - tail], theirs[head : len(theirs) - tail])
    return [_Common(ours[:head]), *inner, _Common(ours[len(ours) - tail :])]


def _common_prefix(a: Sequence[T], b: Sequence[T]) -> int:
    n = 0
    while n < len(a) and n < len(b) and a[n] == b[n]:
        n += 1
    return n


def _shared_runs(ours: tuple[Token, ...], theirs: tuple[Token, ...]) -> list[_Piece]:
    """Split a clash at long runs both sides wrote, comparing in one fixed order of the sides so
    that swapping the sides swaps the options and nothing else."""
    swap = _order_key(ours) > _order_key(theirs)
    a, b = _units(theirs if swap else ours), _units(ours if swap else theirs)
    out: list[_Piece] = []
    pending = _Clash((), ())
    for tag, i1, i2, j1, j2 in diff(a, b):
        shared = _flat(a[i1:i2])
        if tag == "equal" and sum(map(is_word, shared)) >= MIN_SHARED_WORDS:
            out += [pending, _Common(shared)]
            pending = _Clash((), ())
        else:
            pending = pending.then(_Clash(shared, _flat(b[j1:j2])))
    out.append(pending)
    return [p.swapped() if swap and isinstance(p, _Clash) else p for p in out]


def _order_key(tokens: Sequence[Token]) -> tuple[str, ...]:
    return tuple(t if isinstance(t, str) else repr(t) for t in tokens)


def _join(pieces: Iterable[_Piece]) -> list[_Piece]:
    """Drop empty pieces and join neighbours of the same sort."""
    out: list[_Piece] = []
    for piece in pieces:
        if isinstance(piece, _Common) and not piece.tokens:
            continue
        if isinstance(piece, _Clash) and not piece.ours and not piece.theirs:
            continue
        last = out[-1] if out else None
        if isinstance(last, _Common) and isinstance(piece, _Common):
            out[-1] = _Common(last.tokens + piece.tokens)
        elif isinstance(last, _Clash) and isinstance(piece, _Clash):
            out[-1] = last.then(piece)
        else:
            out.append(piece)
    return out


def _is_space(token: object) -> bool:
    return isinstance(token, str) and token.isspace()


def _glued(tokens: Sequence[Token]) -> int:
    """How many tokens at the start are letters or marks touching the next word (no space)."""
    n = 0
    while n < len(tokens) and isinstance(tokens[n], str) and not _is_space(tokens[n]):
        n += 1
    return n


def _widen(pieces: list[_Piece]) -> list[_Piece]:
    """Stretch every clash to whole words: take in the letters and marks that touch it."""
    right = _widen_right(pieces)
    flipped = [_flip(p) for p in reversed(right)]
    return [_flip(p) for p in reversed(_widen_right(flipped))]


def _flip(piece: _Piece) -> _Piece:
    if isinstance(piece, _Common):
        return _Common(piece.tokens[::-1])
    return _Clash(piece.ours[::-1], piece.theirs[::-1])


def _widen_right(pieces: list[_Piece]) -> list[_Piece]:
    out: list[_Piece] = []
    for piece in pieces:
        last = out[-1] if out else None
        if isinstance(last, _Clash) and isinstance(piece, _Clash):
            out[-1] = last.then(piece)
            continue
        if isinstance(last, _Clash) and isinstance(piece, _Common):
            n = _glued(piece.tokens) if _touches(last, out[-2] if len(out) > 1 else None) else 0
            out[-1] = last.around((), piece.tokens[:n])
            if n == len(piece.tokens):
                continue
            piece = _Common(piece.tokens[n:])
        out.append(piece)
    return out


def _touches(clash: _Clash, before: _Piece | None) -> bool:
    """Whether either side's text runs into what follows the clash without a space."""
    context = before.tokens[-1:] if isinstance(before, _Common) else ()
    for side in (clash.ours, clash.theirs):
        last = side[-1:] or context
        if last and not _is_space(last[0]):
            return True
    return False


def _emit(pieces: Iterable[_Piece], sides: _Sides) -> BodyMerge:
    tokens: list[Token] = []
    clashes: list[tuple[str, str]] = []
    created = 0
    for piece in pieces:
        if isinstance(piece, _Common):
            tokens.extend(piece.tokens)
            continue
        made = _alternatives(piece, sides)
        groups = sum(isinstance(t, Options) for t in made)
        if groups:
            clashes.append((_words(piece.ours), _words(piece.theirs)))
            created += groups
        tokens.extend(made)
    return BodyMerge(body_from_tokens(_tidy(tokens)), tuple(clashes), created)


def _words(tokens: Sequence[Token]) -> str:
    return plain(body_from_tokens(_tidy(tokens)))


def _alternatives(clash: _Clash, sides: _Sides) -> list[Token]:
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


def _readings(tokens: tuple[Token, ...], proposer: str) -> list[_Reading]:
    """What one side proposes for a clash, with existing options groups flattened."""
    groups = [t for t in tokens if isinstance(t, Options)]
    solid = [t for t in tokens if not _is_space(t)]
    if len(groups) == 1 and len(solid) == 1:
        return [(o.proposer, _option_tokens(o.body)) for o in groups[0].options]
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


def _unique(readings: Iterable[_Reading]) -> list[_Reading]:
    return list(dict.fromkeys(readings))


def _edge_space(readings: list[tuple[str | Bracket, ...]], end: int) -> str | None:
    """The space to put outside the group at one end: a line break if any side has one there."""
    found = {str(r[end]) for r in readings if r and _is_space(r[end])}
    if not found:
        return None
    return "\n" if "\n" in found else " " if " " in found else min(found)


def _lines(tokens: tuple[str | Bracket, ...]) -> list[tuple[str | Bracket, ...]]:
    lines: list[list[str | Bracket]] = [[]]
    for token in _tidy(tokens):
        if token == "\n":
            lines.append([])
        else:
            lines[-1].append(token)
    return [tuple(_tidy(line)) for line in lines]


def _group(options: list[_Reading]) -> list[Token]:
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


def _tidy(tokens: Iterable[T]) -> list[T]:
    """No space at either end, no two spaces in a row (a line break wins over a space)."""
    out: list[T] = []
    for token in tokens:
        if _is_space(token) and (not out or _is_space(out[-1])):
            if out and token == "\n":
                out[-1] = token
            continue
        out.append(token)
    if out and _is_space(out[-1]):
        out.pop()
    return out


# --- the provision tree -------------------------------------------------------------------------


class _Absent(Enum):
    ABSENT = "absent"


ABSENT = _Absent.ABSENT


def _pick3(base: T | _Absent, ours: T, theirs: T) -> tuple[T, bool]:
    """Three-way choice of one value: (merged value, whether both sides changed it differently)."""
    if ours == theirs or base == theirs:
        return ours, False
    if base == ours:
        return theirs, False
    return ours, True


@dataclass(frozen=True, slots=True)
class _Tree:
    """A text indexed by id: each provision, its parent (None at the top), its children's ids."""

    nodes: dict[str, Provision]
    parent: dict[str, str | None]
    children: dict[str | None, tuple[str, ...]]


def _index(text: Text) -> _Tree:
    nodes: dict[str, Provision] = {}
    parent: dict[str, str | None] = {}
    children: dict[str | None, tuple[str, ...]] = {None: tuple(p.id for p in text.provisions)}
    for provision, ancestors in walk(text):
        nodes[provision.id] = provision
        parent[provision.id] = ancestors[-1] if ancestors else None
        children[provision.id] = tuple(c.id for c in provision.children)
    return _Tree(nodes, parent, children)


def _bare(p: Provision, body: tuple[Inline, ...] | None = None) -> Provision:
    """The provision without its children (built directly: ``dataclasses.replace`` is slow)."""
    return Provision(p.id, p.kind, p.heading, p.body if body is None else body, p.reservations)


def _own(p: Provision) -> tuple[object, ...]:
    """A provision's own content, without its children."""
    return (p.kind, p.heading, p.body, p.reservations)


def _moved(base: _Tree, side: _Tree) -> set[str]:
    """Ids ``side`` moved: to another parent, or out of order among the same siblings."""
    moved = {x for x, p in side.parent.items() if x in base.parent and base.parent[x] != p}
    for parent, kids in base.children.items():
        if side.children.get(parent) == kids:
            continue
        before = [c for c in kids if c in side.parent and side.parent[c] == parent]
        after = [
            c
            for c in side.children.get(parent, ())
            if c in base.parent and base.parent[c] == parent
        ]
        if before != after:
            moved |= set(before) - _in_place(before, after)
    return moved


def _in_place(before: list[str], after: list[str]) -> set[str]:
    return {x for tag, i1, i2, _, _ in diff(before, after) if tag == "equal" for x in before[i1:i2]}


def _codes(
    base: tuple[str, ...], ours: tuple[str, ...], theirs: tuple[str, ...]
) -> tuple[str, ...]:
    """Reservations: every addition kept; a code held in the base survives only if both kept it."""
    b, o, t = set(base), set(ours), set(theirs)
    return tuple(sorted((o & t) | (o - b) | (t - b)))


class _Merger:
    """One merge: the three indexed texts, the sides, and what has been recorded so far."""

    def __init__(self, base: _Tree, ours: _Tree, theirs: _Tree, sides: _Sides) -> None:
        self.b, self.o, self.t, self.sides = base, ours, theirs, sides
        self.conflicts: list[Conflict] = []
        self.options = 0
        self.moved_o = _moved(base, ours)
        self.moved_t = _moved(base, theirs)
        self.deleted_by_ours: dict[str, bool] = {}
        """Provisions one side deleted that the merge keeps: True when ours deleted them."""

    def run(self, base: Text, ours: Text, theirs: Text) -> MergeResult:
        title = self._title(base.title, ours.title, theirs.title)
        language = self._language(base.language, ours.language, theirs.language)
        parents = self._parents()
        alive = self._survivors(parents)
        contents = {pid: self._content(pid) for pid in parents if pid in alive}
        self._move_conflicts(alive)
        members: dict[str | None, set[str]] = {}
        for pid in contents:
            members.setdefault(parents[pid], set()).add(pid)
        order = {p: self._order(p, ids) for p, ids in members.items()}
        self._limit_depth(order)
        text = Text(title, language, _build(contents, order))
        return MergeResult(text, _in_document_order(self.conflicts, text), self.options)

    def _conflict(self, pid: str | None, kind: ConflictKind, ours: str, theirs: str) -> None:
        self.conflicts.append(Conflict(pid, kind, ours, theirs))

    # text fields

    def _title(self, base: str, ours: str, theirs: str) -> str:
        merged = _merge_line(base, ours, theirs)
        if merged is None:
            self._conflict(None, ConflictKind.TITLE, ours, theirs)
            return ours
        return merged

    def _language(self, base: str, ours: str, theirs: str) -> str:
        language, clash = _pick3(base, ours, theirs)
        if clash:
            self._conflict(None, ConflictKind.LANGUAGE, ours, theirs)
        return language

    # structure

    def _ids(self) -> list[str]:
        return [*self.o.nodes, *(pid for pid in self.t.nodes if pid not in self.o.nodes)]

    def _parents(self) -> dict[str, str | None]:
        """The merged parent of every provision either side has."""
        parents: dict[str, str | None] = {}
        for pid in self._ids():
            if pid in self.o.parent and pid in self.t.parent:
                base = self.b.parent.get(pid, ABSENT)
                parents[pid] = _pick3(base, self.o.parent[pid], self.t.parent[pid])[0]
            else:
                parents[pid] = self.o.parent[pid] if pid in self.o.parent else self.t.parent[pid]
        self._break_cycles(parents)
        return parents

    def _break_cycles(self, parents: dict[str, str | None]) -> None:
        """Moves from both sides can make a provision its own ancestor; ours' place breaks it."""
        done: set[str] = set()
        for start in parents:
            path: dict[str, None] = {}
            node: str | None = start
            while node is not None and node not in done:
                if node in path:
                    ids = list(path)
                    self._cut(ids[ids.index(node) :], parents)
                    path, node = {}, start
                    continue
                path[node] = None
                node = parents[node]
            done.update(path)

    def _cut(self, cycle: list[str], parents: dict[str, str | None]) -> None:
        for pid in cycle:
            if pid in self.o.parent and parents[pid] != self.o.parent[pid]:
                parents[pid] = self.o.parent[pid]
                self._conflict(
                    pid, ConflictKind.MOVE, self._where(self.o, pid), self._where(self.t, pid)
                )
                return
        parents[cycle[0]] = None

    def _survivors(self, parents: dict[str, str | None]) -> set[str]:
        """Ids in the merged text; fills ``deleted_by_ours`` for those kept despite a deletion."""
        alive = {pid for pid in parents if self._stays(pid)}
        for pid in [p for p in parents if p in alive]:
            up = parents[pid]
            while up is not None and up not in alive:
                alive.add(up)
                self.deleted_by_ours[up] = up not in self.o.nodes
                up = parents[up]
        stack = list(self.deleted_by_ours)
        while stack:
            pid = stack.pop()
            keeper = self.t if self.deleted_by_ours[pid] else self.o
            for child in keeper.children[pid]:
                if child not in alive:
                    alive.add(child)
                    self.deleted_by_ours[child] = self.deleted_by_ours[pid]
                    stack.append(child)
        self._edit_delete_conflicts(parents)
        return alive

    def _stays(self, pid: str) -> bool:
        in_o, in_t = pid in self.o.nodes, pid in self.t.nodes
        if (in_o and in_t) or pid not in self.b.nodes:
            return True
        keeper, moved = (self.o, self.moved_o) if in_o else (self.t, self.moved_t)
        if pid in moved or _own(keeper.nodes[pid]) != _own(self.b.nodes[pid]):
            self.deleted_by_ours[pid] = not in_o
            return True
        if set(keeper.children[pid]) - set(self.b.children[pid]):
            self.deleted_by_ours[pid] = not in_o  # a provision added or moved into it
            return True
        return False

    def _edit_delete_conflicts(self, parents: dict[str, str | None]) -> None:
        for pid, by_ours in self.deleted_by_ours.items():
            up = parents[pid]
            if up is not None and self.deleted_by_ours.get(up) is by_ours:
                continue
            ours, theirs = ("deleted", "changed") if by_ours else ("changed", "deleted")
            self._conflict(pid, ConflictKind.EDIT_DELETE, ours, theirs)

    def _move_conflicts(self, alive: set[str]) -> None:
        both = [p for p in self.o.nodes if p in self.t.nodes and p in alive]
        common = set(both)
        recorded = {c.provision for c in self.conflicts if c.kind is ConflictKind.MOVE}
        for pid in both:
            moved = pid not in self.b.nodes or (pid in self.moved_o and pid in self.moved_t)
            if not moved or pid in recorded:
                continue
            if _place(self.o, pid, common) != _place(self.t, pid, common):
                self._conflict(
                    pid, ConflictKind.MOVE, self._where(self.o, pid), self._where(self.t, pid)
                )

    def _where(self, tree: _Tree, pid: str) -> str:
        if pid not in tree.parent:
            return "deleted"
        parent = tree.parent[pid]
        siblings = tree.children[parent]
        n = siblings.index(pid)
        under = f"under {parent}" if parent else "at the top level"
        return f"{under}, after {siblings[n - 1]}" if n else f"{under}, first"

    # order among siblings

    def _order(self, parent: str | None, members: set[str]) -> list[str]:
        b, o, t = (
            tuple(c for c in tree.children.get(parent, ()) if c in members)
            for tree in (self.b, self.o, self.t)
        )
        placed = _prefer_ours(_emit_order(b, o, t))
        return _place_missing(placed, members, (o, t, b))

    def _limit_depth(self, order: dict[str | None, list[str]]) -> None:
        """Moves on both sides can stack provisions deeper than a text may nest: what would be
        too deep is lifted, in document order, beside its ancestor at the deepest level."""
        stack: list[tuple[str | None, int]] = [(None, 0)]
        while stack:
            pid, depth = stack.pop()
            if depth < MAX_DEPTH - 1:
                stack.extend((child, depth + 1) for child in order.get(pid, []))
                continue
            lifted: list[str] = []
            for child in order.get(pid, []):
                below = _descendants(child, order)
                lifted += [child, *below]
                for x in below:
                    self._conflict(
                        x, ConflictKind.DEPTH, self._where(self.o, x), self._where(self.t, x)
                    )
                order[child] = []
            order[pid] = lifted

    # content

    def _content(self, pid: str) -> Provision:
        if pid in self.deleted_by_ours:
            return self._kept(pid, self.deleted_by_ours[pid])
        o, t = self.o.nodes.get(pid), self.t.nodes.get(pid)
        if o is None:
            return _bare(self.t.nodes[pid])
        if t is None:
            return _bare(o)
        return self._fields(pid, self.b.nodes.get(pid), o, t)

    def _kept(self, pid: str, by_ours: bool) -> Provision:
        keeper = (self.t if by_ours else self.o).nodes[pid]
        tokens = tuple(body_tokens(keeper.body))
        clash = _Clash((), tokens) if by_ours else _Clash(tokens, ())
        merged = _emit([clash] if tokens else [], self.sides)
        self.options += merged.options_created
        return _bare(keeper, merged.body)

    def _fields(self, pid: str, b: Provision | None, o: Provision, t: Provision) -> Provision:
        if _own(o) == _own(t) or (b is not None and _own(b) == _own(t)):
            return _bare(o)
        if b is not None and _own(b) == _own(o):
            return _bare(t)
        kind, clash = _pick3(b.kind if b else ABSENT, o.kind, t.kind)
        if clash:
            self._conflict(pid, ConflictKind.KIND, o.kind.value, t.kind.value)
        body = _merge_body(b.body if b else (), o.body, t.body, self.sides)
        self.options += body.options_created
        for ours, theirs in body.clashes:
            self._conflict(pid, ConflictKind.WORDING, ours, theirs)
        return Provision(
            id=pid,
            kind=kind,
            heading=self._heading(pid, b.heading if b else ABSENT, o.heading, t.heading),
            body=body.body,
            reservations=_codes(b.reservations if b else (), o.reservations, t.reservations),
        )

    def _heading(
        self, pid: str, base: str | _Absent | None, ours: str | None, theirs: str | None
    ) -> str | None:
        heading, clash = _pick3(base, ours, theirs)
        if not clash:
            return heading
        if isinstance(base, str) and ours is not None and theirs is not None:
            merged = _merge_line(base, ours, theirs)
            if merged is not None:
                return merged
        self._conflict(pid, ConflictKind.HEADING, ours or "", theirs or "")
        return ours


def _merge_line(base: str, ours: str, theirs: str) -> str | None:
    """A heading or title merged word by word; None when the edits clash or nothing is left."""
    merged = merge3(_line(base), _line(ours), _line(theirs), word_diff)
    if merged is None:
        return None
    return "".join(str(t) for t in _tidy(merged)) or None


def _line(s: str) -> list[Token]:
    return [*split(s), " "]


def _place(tree: _Tree, pid: str, common: set[str]) -> tuple[str | None, str | None]:
    """Parent and the nearest preceding sibling both sides have: what a move changes."""
    parent = tree.parent[pid]
    siblings = tree.children[parent]
    for sibling in reversed(siblings[: siblings.index(pid)]):
        if sibling in common:
            return parent, sibling
    return parent, None


def _emit_order(
    base: tuple[str, ...], ours: tuple[str, ...], theirs: tuple[str, ...]
) -> list[tuple[str, bool]]:
    """Sibling ids in merged order, each marked True when it is where ours (also) has it."""
    if ours == theirs or base == theirs:
        return [(x, True) for x in ours]
    if base == ours:
        return [(x, False) for x in theirs]
    out: list[tuple[str, bool]] = []
    for chunk in diff3(base, ours, theirs):
        if chunk.kind is ChunkKind.CONFLICT:
            out += [(x, True) for x in chunk.a]
            out += [(x, False) for x in chunk.b if x not in chunk.a]
        elif chunk.kind is ChunkKind.B:
            out += [(x, False) for x in chunk.b]
        else:
            out += [(x, True) for x in chunk.a]
    return out


def _prefer_ours(emitted: list[tuple[str, bool]]) -> list[str]:
    """Each id once: where ours has it if the sides placed it differently, else its only place."""
    keep: dict[str, int] = {}
    for n, (pid, ours) in enumerate(emitted):
        if pid not in keep or (ours and not emitted[keep[pid]][1]):
            keep[pid] = n
    return [pid for n, (pid, _) in enumerate(emitted) if keep[pid] == n]


def _place_missing(
    order: list[str], members: set[str], sequences: tuple[tuple[str, ...], ...]
) -> list[str]:
    """Put back ids the order merge dropped (kept despite a deletion) after their neighbour."""
    placed = set(order)
    missing = members - placed
    out = list(order)
    for seq in sequences:
        for n, pid in enumerate(seq):
            if pid not in missing:
                continue
            anchor = next((x for x in reversed(seq[:n]) if x in placed), None)
            out.insert(0 if anchor is None else out.index(anchor) + 1, pid)
            placed.add(pid)
            missing.discard(pid)
    return out


def _descendants(pid: str, order: dict[str | None, list[str]]) -> list[str]:
    """Every provision below ``pid``, in document order."""
    out: list[str] = []
    stack = list(reversed(order.get(pid, [])))
    while stack:
        x = stack.pop()
        out.append(x)
        stack.extend(reversed(order.get(x, [])))
    return out


def _build(
    contents: dict[str, Provision], order: dict[str | None, list[str]]
) -> tuple[Provision, ...]:
    """The provision tree, built bottom-up without recursion (texts may nest deeply)."""
    preorder: list[str] = []
    stack = list(reversed(order.get(None, [])))
    while stack:
        pid = stack.pop()
        preorder.append(pid)
        stack.extend(reversed(order.get(pid, [])))
    built: dict[str, Provision] = {}
    for pid in reversed(preorder):
        children = tuple(built[c] for c in order.get(pid, []))
        c = contents[pid]
        built[pid] = Provision(c.id, c.kind, c.heading, c.body, c.reservations, children)
    return tuple(built[pid] for pid in order.get(None, []))


def _in_document_order(conflicts: list[Conflict], text: Text) -> tuple[Conflict, ...]:
    position = {p.id: n for n, (p, _) in enumerate(walk(text))}
    end = len(position)
    return tuple(
        sorted(
            conflicts, key=lambda c: -1 if c.provision is None else position.get(c.provision, end)
        )
    )
