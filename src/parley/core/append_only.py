"""An immutable sequence that grows by one item in constant time, for what a state accumulates.

A negotiation's statements only ever grow, and every state along the way keeps its own view of
them. As a tuple, each new statement copied all the earlier ones: a long negotiation paid for its
whole history at every move. Here the views share one list and each knows its own length; the
list only grows, so no view ever sees an item appended after it. A view that is not the longest
(a state forked from an older one) copies its items once when it grows, as a tuple would.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar, overload

T = TypeVar("T")


class AppendOnly(Sequence[T]):
    """The first ``length`` items of a list that is only ever appended to."""

    __slots__ = ("_items", "_length")

    def __init__(self, items: Sequence[T] = ()) -> None:
        self._items: list[T] = list(items)
        self._length = len(self._items)

    def plus(self, item: T) -> AppendOnly[T]:
        """This sequence with ``item`` at its end; this one is unchanged."""
        items, length = self._items, self._length
        if len(items) == length:
            items.append(item)
            # A single step each under the interpreter's lock: when the list grew by exactly
            # one, the append was this one, and no other view has claimed that place.
            if len(items) == length + 1 and items[length] is item:
                return self._view(items, length + 1)
        return self._view([*items[:length], item], length + 1)

    @staticmethod
    def _view(items: list[T], length: int) -> AppendOnly[T]:
        grown: AppendOnly[T] = AppendOnly.__new__(AppendOnly)
        grown._items, grown._length = items, length
        return grown

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...
    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        if isinstance(index, slice):
            return tuple(self)[index]
        if not -self._length <= index < self._length:
            raise IndexError("index out of range")
        return self._items[index % self._length]

    def __iter__(self) -> Iterator[T]:
        items = self._items
        return (items[i] for i in range(self._length))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, AppendOnly | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"AppendOnly({list(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (AppendOnly, (list(self),))
