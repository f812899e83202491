"""Three-way comparison of sequences: which regions each side changed, and where they clash.

Both sides are diffed against the base (with ``words.diff`` unless another two-way diff is
given). Base items matched on both sides, at consecutive places, are *stable*; they cut the three
sequences into chunks. A chunk changed on one side only takes that side; a chunk changed
identically on both sides is taken once; a chunk changed differently on both sides is a conflict.
Changes that merely touch (one ends where the other starts, or two insertions at the same place)
are a conflict too, as in GNU diff3 and ``git merge-file``: nothing tells a tool whether such
edits belong together.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from parley.core.words import Opcode, diff

H = TypeVar("H", bound=Hashable)

Differ = Callable[[Sequence[H], Sequence[H]], list[Opcode]]
"""A two-way diff: difflib-style opcodes turning its first sequence into its second."""


class ChunkKind(StrEnum):
    """What happened to one region of the base."""

    STABLE = "stable"
    """Unchanged on both sides."""
    A = "a"
    """Changed on side ``a`` only."""
    B = "b"
    """Changed on side ``b`` only."""
    SAME = "same"
    """Changed identically on both sides."""
    CONFLICT = "conflict"
    """Changed differently on both sides (or by edits that touch)."""


@dataclass(frozen=True, slots=True)
class Chunk(Generic[H]):
    """One region: its items in the base and on each side, and what happened to it."""

    kind: ChunkKind
    base: tuple[H, ...]
    a: tuple[H, ...]
    b: tuple[H, ...]

    @property
    def resolved(self) -> tuple[H, ...] | None:
        """The merged items of this region, or None for a conflict."""
        if self.kind is ChunkKind.CONFLICT:
            return None
        return self.b if self.kind is ChunkKind.B else self.a


def diff3(
    base: Sequence[H], a: Sequence[H], b: Sequence[H], differ: Differ[H] = diff
) -> list[Chunk[H]]:
    """Cut ``base``, ``a`` and ``b`` into stable and changed chunks, in order.

    Joining the chunks' ``base`` (or ``a``, or ``b``) parts gives that sequence back exactly.
    """
    seq = _Sequences(tuple(base), tuple(a), tuple(b), differ)
    chunks: list[Chunk[H]] = []
    i = j = k = 0
    while i < len(seq.base) or j < len(seq.a) or k < len(seq.b):
        n = seq.stable_run(i, j, k)
        if n:
            chunks.append(seq.chunk(ChunkKind.STABLE, (i, i + n), (j, j + n), (k, k + n)))
            i, j, k = i + n, j + n, k + n
            continue
        i2, j2, k2 = seq.next_sync(i)
        chunks.append(seq.changed((i, i2), (j, j2), (k, k2)))
        i, j, k = i2, j2, k2
    return chunks


def merge3(
    base: Sequence[H], a: Sequence[H], b: Sequence[H], differ: Differ[H] = diff
) -> list[H] | None:
    """The merged sequence when no chunk conflicts, else None."""
    out: list[H] = []
    for chunk in diff3(base, a, b, differ):
        resolved = chunk.resolved
        if resolved is None:
            return None
        out.extend(resolved)
    return out


def _matches(base: tuple[H, ...], side: tuple[H, ...], differ: Differ[H]) -> list[int]:
    """For each base index, the index of the side item it is matched with, or -1."""
    if base == side:
        return list(range(len(base)))
    where = [-1] * len(base)
    for tag, i1, i2, j1, _ in differ(base, side):
        if tag == "equal":
            where[i1:i2] = range(j1, j1 + i2 - i1)
    return where


class _Sequences(Generic[H]):
    """The three sequences and, for each base item, where each side matched it (-1: nowhere)."""

    __slots__ = ("_in_a", "_in_b", "a", "b", "base")

    def __init__(
        self, base: tuple[H, ...], a: tuple[H, ...], b: tuple[H, ...], differ: Differ[H]
    ) -> None:
        self.base, self.a, self.b = base, a, b
        self._in_a = _matches(base, a, differ)
        self._in_b = _matches(base, b, differ)

    def stable_run(self, i: int, j: int, k: int) -> int:
        """How many base items from ``i`` are matched at ``j…`` in ``a`` and ``k…`` in ``b``."""
        n = 0
        while i + n < len(self.base) and self._in_a[i + n] == j + n and self._in_b[i + n] == k + n:
            n += 1
        return n

    def next_sync(self, i: int) -> tuple[int, int, int]:
        """The next base index matched on both sides, with its places in ``a`` and ``b``."""
        while i < len(self.base):
            if self._in_a[i] >= 0 and self._in_b[i] >= 0:
                return i, self._in_a[i], self._in_b[i]
            i += 1
        return len(self.base), len(self.a), len(self.b)

    def changed(self, bi: tuple[int, int], ai: tuple[int, int], bj: tuple[int, int]) -> Chunk[H]:
        """Classify a region that is not stable."""
        base, a, b = self.base[slice(*bi)], self.a[slice(*ai)], self.b[slice(*bj)]
        if a == base:
            kind = ChunkKind.B
        elif b == base:
            kind = ChunkKind.A
        elif a == b:
            kind = ChunkKind.SAME
        else:
            kind = ChunkKind.CONFLICT
        return Chunk(kind, base, a, b)

    def chunk(
        self, kind: ChunkKind, bi: tuple[int, int], ai: tuple[int, int], bj: tuple[int, int]
    ) -> Chunk[H]:
        return Chunk(kind, self.base[slice(*bi)], self.a[slice(*ai)], self.b[slice(*bj)])
