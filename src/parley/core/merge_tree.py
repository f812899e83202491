"""The tree-level merge: each provision's existence, place, kind, heading and reservations."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum

from parley.core.merge_options import emit, merge_inlines, tidy
from parley.core.merge_places import (
    Tree,
    build,
    descendants,
    merge_order,
    moved_ids,
    place_missing,
    place_of,
)
from parley.core.merge_words import Clash, Sides, T, word_chunks
from parley.core.text import MAX_DEPTH, Inline, Provision, Text, walk
from parley.core.words import Token, body_tokens, split


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


def _bare(p: Provision, body: tuple[Inline, ...] | None = None) -> Provision:
    """The provision without its children (built directly: ``dataclasses.replace`` is slow)."""
    return Provision(p.id, p.kind, p.heading, p.body if body is None else body, p.reservations)


def _own(p: Provision) -> tuple[object, ...]:
    """A provision's own content, without its children."""
    return (p.kind, p.heading, p.body, p.reservations)


def _codes(
    base: tuple[str, ...], ours: tuple[str, ...], theirs: tuple[str, ...]
) -> tuple[str, ...]:
    """Reservations: every addition kept; a code held in the base survives only if both kept it."""
    b, o, t = set(base), set(ours), set(theirs)
    return tuple(sorted((o & t) | (o - b) | (t - b)))


class Merger:
    """One merge: the three indexed texts, the sides, and what has been recorded so far."""

    def __init__(self, base: Tree, ours: Tree, theirs: Tree, sides: Sides) -> None:
        self.b, self.o, self.t, self.sides = base, ours, theirs, sides
        self.conflicts: list[Conflict] = []
        self.options = 0
        self.moved_o = moved_ids(base, ours)
        self.moved_t = moved_ids(base, theirs)
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
        text = Text(title, language, build(contents, order))
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
            if place_of(self.o, pid, common) != place_of(self.t, pid, common):
                self._conflict(
                    pid, ConflictKind.MOVE, self._where(self.o, pid), self._where(self.t, pid)
                )

    def _where(self, tree: Tree, pid: str) -> str:
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
        order, unkept = merge_order(b, o, t)
        recorded = {c.provision for c in self.conflicts if c.kind is ConflictKind.MOVE}
        for pid in sorted(unkept - recorded):
            ours, theirs = self._between(self.o, pid), self._between(self.t, pid)
            self._conflict(pid, ConflictKind.MOVE, ours, theirs)
        return place_missing(order, members, (o, t, b))

    def _between(self, tree: Tree, pid: str) -> str:
        """``_where``, and the sibling that follows: moves that agree on what a provision
        follows may still disagree on what it precedes."""
        siblings = tree.children[tree.parent[pid]]
        n = siblings.index(pid)
        follows = f", before {siblings[n + 1]}" if n + 1 < len(siblings) else ", last"
        return self._where(tree, pid) + follows

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
                below = descendants(child, order)
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
        clash = Clash((), tokens) if by_ours else Clash(tokens, ())
        merged = emit([clash] if tokens else [], self.sides.at(pid))
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
        body = merge_inlines(b.body if b else (), o.body, t.body, self.sides.at(pid))
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
    chunks = word_chunks(_line(base), _line(ours), _line(theirs))
    if any(chunk.resolved is None for chunk in chunks):
        return None
    merged = [token for chunk in chunks for token in chunk.resolved or ()]
    return "".join(str(t) for t in tidy(merged)) or None


def _line(s: str) -> list[Token]:
    return [*split(s), " "]


def _in_document_order(conflicts: list[Conflict], text: Text) -> tuple[Conflict, ...]:
    position = {p.id: n for n, (p, _) in enumerate(walk(text))}
    end = len(position)
    return tuple(
        sorted(
            conflicts, key=lambda c: -1 if c.provision is None else position.get(c.provision, end)
        )
    )
