"""Where merged provisions go: a text indexed by id, moves, sibling order, and the rebuilt tree."""

from __future__ import annotations

from dataclasses import dataclass

from parley.core.text import Provision, Text, walk
from parley.core.words import diff


@dataclass(frozen=True, slots=True)
class Tree:
    """A text indexed by id: each provision, its parent (None at the top), its children's ids."""

    nodes: dict[str, Provision]
    parent: dict[str, str | None]
    children: dict[str | None, tuple[str, ...]]


def index_tree(text: Text) -> Tree:
    """Index a text by id once, so the merge looks up parents and children directly."""
    nodes: dict[str, Provision] = {}
    parent: dict[str, str | None] = {}
    children: dict[str | None, tuple[str, ...]] = {None: tuple(p.id for p in text.provisions)}
    for provision, ancestors in walk(text):
        nodes[provision.id] = provision
        parent[provision.id] = ancestors[-1] if ancestors else None
        children[provision.id] = tuple(c.id for c in provision.children)
    return Tree(nodes, parent, children)


def moved_ids(base: Tree, side: Tree) -> set[str]:
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


def place_of(tree: Tree, pid: str, common: set[str]) -> tuple[str | None, str | None]:
    """Parent and the nearest preceding sibling both sides have: what a move changes."""
    parent = tree.parent[pid]
    siblings = tree.children[parent]
    for sibling in reversed(siblings[: siblings.index(pid)]):
        if sibling in common:
            return parent, sibling
    return parent, None


def merge_order(
    base: tuple[str, ...], ours: tuple[str, ...], theirs: tuple[str, ...]
) -> tuple[list[str], set[str]]:
    """The order of the siblings all three have, with every move of each side taken; and the
    siblings a side moved to a place the other side's moves did not leave (a move conflict).

    A side moved the siblings that are out of place against the base (those outside a longest
    run kept in order). The others keep the base's order; each moved one is then put after the
    sibling it follows on the side that moved it, ours first, and where both moved one, where
    ours has it. Taking one side's order whole when the orders differ would drop the other
    side's moves; a moved sibling that cannot stand, against every sibling neither side moved,
    as its side has it, is reported rather than lost without a word.
    """
    common = set(base) & set(ours) & set(theirs)
    b, o, t = ([x for x in seq if x in common] for seq in (base, ours, theirs))
    moved_o = set(b) - _in_place(b, o)
    moved_by_t = set(b) - _in_place(b, t)
    moved_t = moved_by_t - moved_o
    out = [x for x in b if x not in moved_o and x not in moved_t]
    still, placed = set(out), {*out, ""}
    pending = [(x, o) for x in o if x in moved_o] + [(x, t) for x in t if x in moved_t]
    while pending:
        # the next whose neighbour on its side is placed (it may be one the other side moved);
        # if none is (moves that chase each other), the first, after what precedes it placed
        ready = next((n for n, (x, side) in enumerate(pending) if _before(x, side) in placed), 0)
        pid, side = pending.pop(ready)
        at = _slot(pid, side, out, placed, still)
        while side is t and at < len(out) and out[at] in moved_o and out[at] not in still:
            at += 1  # ours' moves to the same place come first
        out.insert(at, pid)
        placed.add(pid)
    unkept = {x for x in moved_o if not _kept(x, o, out, still)}
    unkept |= {x for x in moved_by_t if not _kept(x, t, out, still)}
    return out, unkept


def _slot(pid: str, side: list[str], out: list[str], placed: set[str], still: set[str]) -> int:
    """Where ``pid`` goes in ``out``: between the siblings neither side moved that surround it
    on ``side``, and there right after the sibling it follows on ``side`` if that one is placed
    in between."""
    n = side.index(pid)
    before = next((x for x in reversed(side[:n]) if x in still), None)
    after = next((x for x in side[n + 1 :] if x in still), None)
    low = 0 if before is None else out.index(before) + 1
    high = len(out) if after is None else out.index(after)
    anchor = next((x for x in reversed(side[:n]) if x in placed), None)
    if anchor is not None and low <= out.index(anchor) + 1 <= high:
        return out.index(anchor) + 1
    return low


def _before(pid: str, side: list[str]) -> str:
    """The sibling just before ``pid`` on ``side`` ("" when it comes first: always placed)."""
    n = side.index(pid)
    return side[n - 1] if n else ""


def _kept(pid: str, side: list[str], merged: list[str], still: set[str]) -> bool:
    """Whether ``pid`` stands before and after the same unmoved siblings as on ``side``."""
    here, there = merged.index(pid), side.index(pid)
    return all((merged.index(x) < here) == (side.index(x) < there) for x in still)


def place_missing(
    order: list[str], members: set[str], sequences: tuple[tuple[str, ...], ...]
) -> list[str]:
    """Put the ids ``order`` lacks (additions, moves from elsewhere, kept despite a deletion)
    after their neighbour in the first of ``sequences`` that has them; where two sequences put
    some after the same neighbour, the earlier sequence's come first."""
    placed = set(order)
    missing = members - placed
    out = list(order)
    earlier: set[str] = set()
    for seq in sequences:
        now: set[str] = set()
        for n, pid in enumerate(seq):
            if pid not in missing:
                continue
            anchor = next((x for x in reversed(seq[:n]) if x in placed), None)
            at = 0 if anchor is None else out.index(anchor) + 1
            while at < len(out) and out[at] in earlier:
                at += 1
            out.insert(at, pid)
            placed.add(pid)
            now.add(pid)
            missing.discard(pid)
        earlier |= now
    return out


def descendants(pid: str, order: dict[str | None, list[str]]) -> list[str]:
    """Every provision below ``pid``, in document order."""
    out: list[str] = []
    stack = list(reversed(order.get(pid, [])))
    while stack:
        x = stack.pop()
        out.append(x)
        stack.extend(reversed(order.get(x, [])))
    return out


def build(
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
