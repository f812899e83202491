"""Aligning two versions' provisions by id: what each provision changed, what moved, the summary."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise

from parley.core import words
from parley.core.redline_body import diff_body, whole_segments
from parley.core.redline_segments import (
    OPTION_SEPARATOR,
    AtomChange,
    BracketDiff,
    Change,
    Op,
    Segment,
    atoms,
    flat,
    minus,
)
from parley.core.text import Kind, Provision, Text, cite, numbering, walk

# --- provision changes --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Side:
    """A provision as it stands in one version: what it is called and where it is."""

    kind: Kind
    label: str
    citation: str
    parent: str | None
    heading: str | None
    reservations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ProvisionChange:
    """Everything that changed about one provision (matched by id across the two versions)."""

    id: str
    changes: tuple[Change, ...]
    """In the order of ``Change``; never empty."""
    old: Side | None
    """None when the provision was added."""
    new: Side | None
    """None when the provision was removed."""
    body: tuple[Segment, ...] = ()
    """The word diff of the body; empty when the body did not change."""

    @property
    def added(self) -> bool:
        return Change.ADDED in self.changes

    @property
    def removed(self) -> bool:
        return Change.REMOVED in self.changes

    @property
    def moved(self) -> bool:
        return Change.MOVED in self.changes

    @property
    def renumbered(self) -> bool:
        return Change.RENUMBERED in self.changes

    @property
    def kind_changed(self) -> bool:
        return Change.KIND in self.changes

    @property
    def heading_changed(self) -> bool:
        return Change.HEADING in self.changes

    @property
    def body_changed(self) -> bool:
        return Change.BODY in self.changes

    @property
    def reservations_added(self) -> tuple[str, ...]:
        """Parties who entered a reservation on the provision."""
        return minus(_reservations(self.new), _reservations(self.old))

    @property
    def reservations_removed(self) -> tuple[str, ...]:
        """Parties who lifted their reservation on the provision."""
        return minus(_reservations(self.old), _reservations(self.new))


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts for the top of a redline."""

    added: int = 0
    removed: int = 0
    moved: int = 0
    renumbered: int = 0
    changed: int = 0
    """Provisions in both versions whose kind, heading, reservations or words changed."""
    words_inserted: int = 0
    words_deleted: int = 0
    brackets_added: int = 0
    """Brackets added or opened over existing words."""
    brackets_removed: int = 0
    """Brackets removed with their words, or resolved (words kept)."""
    options_added: int = 0
    """Alternative wordings added (each alternative of a new group counts)."""
    options_removed: int = 0
    """Alternative wordings removed (each dropped alternative of a resolved group counts)."""


@dataclass(frozen=True, slots=True)
class Redline:
    """The differences between two versions of a text."""

    old_title: str
    new_title: str
    old_language: str
    new_language: str
    changes: tuple[ProvisionChange, ...]
    """In reading order of the new text; removed provisions stand where they were."""
    summary: Summary

    @property
    def title_changed(self) -> bool:
        return self.old_title != self.new_title

    @property
    def language_changed(self) -> bool:
        return self.old_language != self.new_language

    @property
    def unchanged(self) -> bool:
        """True when the two versions say exactly the same thing."""
        return not self.changes and not self.title_changed and not self.language_changed


def _reservations(side: Side | None) -> tuple[str, ...]:
    return side.reservations if side else ()


# --- comparing two texts ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Tree:
    """Where every provision of one version stands, for aligning the versions by id."""

    provisions: dict[str, Provision]
    parents: dict[str, str | None]
    order: dict[str, int]
    children: dict[str | None, list[str]]
    labels: dict[str, str]

    @classmethod
    def of(cls, text: Text) -> _Tree:
        provisions: dict[str, Provision] = {}
        parents: dict[str, str | None] = {}
        children: dict[str | None, list[str]] = {}
        for provision, ancestors in walk(text):
            parent = ancestors[-1] if ancestors else None
            provisions[provision.id] = provision
            parents[provision.id] = parent
            children.setdefault(parent, []).append(provision.id)
        order = {pid: i for i, pid in enumerate(provisions)}
        return cls(provisions, parents, order, children, numbering(text))

    def side(self, pid: str) -> Side:
        """The provision's label, citation and attributes in this version."""
        provision = self.provisions[pid]
        path = [pid]
        while (parent := self.parents[path[-1]]) is not None:
            path.append(parent)
        path.reverse()
        kinds = {x: self.provisions[x].kind for x in path}
        return Side(
            kind=provision.kind,
            label=self.labels[pid],
            citation=cite(path, self.labels, kinds),
            parent=self.parents[pid],
            heading=provision.heading,
            reservations=provision.reservations,
        )


_Key = tuple[int, int, int]


def compare(old: Text, new: Text) -> Redline:
    """The redline from ``old`` to ``new``; provisions unchanged in every respect are left out."""
    a, b = _Tree.of(old), _Tree.of(new)
    moved = _moved(a, b)
    entries = [*_present(a, b, moved), *_gone(a, b)]
    entries.sort(key=lambda entry: entry[0])
    changes = tuple(change for _, change in entries)
    return Redline(old.title, new.title, old.language, new.language, changes, summarize(changes))


def _present(a: _Tree, b: _Tree, moved: set[str]) -> Iterator[tuple[_Key, ProvisionChange]]:
    """Changes of the provisions in the new text: added ones and changed ones."""
    for pid, position in b.order.items():
        if pid not in a.provisions:
            body = tuple(whole_segments(words.body_tokens(b.provisions[pid].body), Op.INSERT))
            yield (position, 0, 0), ProvisionChange(pid, (Change.ADDED,), None, b.side(pid), body)
            continue
        change = _changed(pid, a, b, moved)
        if change is not None:
            yield (position, 0, 0), change


def _changed(pid: str, a: _Tree, b: _Tree, moved: set[str]) -> ProvisionChange | None:
    """What changed about a provision found in both versions, or None if nothing did."""
    old, new = a.provisions[pid], b.provisions[pid]
    found = tuple(
        change
        for change, differs in (
            (Change.MOVED, pid in moved),
            (Change.RENUMBERED, a.labels[pid] != b.labels[pid]),
            (Change.KIND, old.kind is not new.kind),
            (Change.HEADING, old.heading != new.heading),
            (Change.RESERVATIONS, old.reservations != new.reservations),
            (Change.BODY, old.body is not new.body and old.body != new.body),
        )
        if differs
    )
    if not found:
        return None
    body = diff_body(old.body, new.body) if Change.BODY in found else ()
    return ProvisionChange(pid, found, a.side(pid), b.side(pid), body)


def _gone(a: _Tree, b: _Tree) -> Iterator[tuple[_Key, ProvisionChange]]:
    """Removed provisions, each placed after the last old provision before it that survived."""
    if all(pid in b.order for pid in a.order):
        return
    anchor = -1
    for pid, position in a.order.items():
        if pid in b.order:
            anchor = b.order[pid]
            continue
        body = tuple(whole_segments(words.body_tokens(a.provisions[pid].body), Op.DELETE))
        change = ProvisionChange(pid, (Change.REMOVED,), a.side(pid), None, body)
        yield (anchor, 1, position), change


def _moved(a: _Tree, b: _Tree) -> set[str]:
    """Ids whose parent changed, or which left the longest run of siblings kept in old order."""
    moved: set[str] = set()
    for parent, ids in b.children.items():
        stayed: list[str] = []
        for pid in ids:
            if pid not in a.parents:
                continue
            if a.parents[pid] == parent:
                stayed.append(pid)
            else:
                moved.add(pid)
        positions = [a.order[pid] for pid in stayed]
        moved.update(stayed[k] for k in _out_of_order(positions))
    return moved


def _out_of_order(values: list[int]) -> list[int]:
    """Indexes of the values outside one longest increasing subsequence (patience sorting)."""
    if all(x < y for x, y in pairwise(values)):
        return []
    tails: list[int] = []
    tail_at: list[int] = []
    back = [-1] * len(values)
    for i, value in enumerate(values):
        k = bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_at.append(i)
        else:
            tails[k], tail_at[k] = value, i
        back[i] = tail_at[k - 1] if k else -1
    kept: set[int] = set()
    i = tail_at[-1]
    while i >= 0:
        kept.add(i)
        i = back[i]
    return [i for i in range(len(values)) if i not in kept]


# --- the summary --------------------------------------------------------------------------------

_CONTENT = frozenset({Change.KIND, Change.HEADING, Change.RESERVATIONS, Change.BODY})
_BRACKET_ADDED = frozenset({AtomChange.ADDED, AtomChange.OPENED})
_BRACKET_REMOVED = frozenset({AtomChange.REMOVED, AtomChange.RESOLVED})


def summarize(changes: Iterable[ProvisionChange]) -> Summary:
    """Counts of provisions, words, brackets and options added, removed and changed."""
    counts = dict.fromkeys(Summary.__dataclass_fields__, 0)
    for change in changes:
        for what in (Change.ADDED, Change.REMOVED, Change.MOVED, Change.RENUMBERED):
            counts[what.value] += what in change.changes
        counts["changed"] += bool(change.old and change.new and _CONTENT & set(change.changes))
        _count_body(change.body, counts)
    return Summary(**counts)


def _count_body(body: tuple[Segment, ...], counts: dict[str, int]) -> None:
    for w in flat(body):
        if w.op is not Op.EQUAL and w.text != OPTION_SEPARATOR:
            key = "words_inserted" if w.op is Op.INSERT else "words_deleted"
            counts[key] += count_words(w.text)
    for atom in atoms(body):
        prefix = "brackets" if isinstance(atom, BracketDiff) else "options"
        counts[f"{prefix}_added"] += atom.change in _BRACKET_ADDED
        counts[f"{prefix}_removed"] += atom.change in _BRACKET_REMOVED


def count_words(text: str) -> int:
    """Words in ``text`` as a reader counts them (punctuation and spaces are not words)."""
    return sum(1 for token in words.split(text) if token[0].isalnum() or token[0] == "_")
