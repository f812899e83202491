"""Where merged provisions go: a text indexed by id, moves, sibling order, and the rebuilt tree."""

from __future__ import annotations

from dataclasses import dataclass

from parley.core.diff3 import ChunkKind, diff3
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


def emit_order(
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


def prefer_ours(emitted: list[tuple[str, bool]]) -> list[str]:
    """Each id once: where ours has it if the sides placed it differently, else its only place."""
    keep: dict[str, int] = {}
    for n, (pid, ours) in enumerate(emitted):
        if pid not in keep or (ours and not emitted[keep[pid]][1]):
            keep[pid] = n
    return [pid for n, (pid, _) in enumerate(emitted) if keep[pid] == n]


def place_missing(
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
