"""AppendOnly behaves as a tuple that grows by copying, however its views are forked."""

from __future__ import annotations

import pickle
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.core.append_only import AppendOnly

# Each step grows one of the views made so far (chosen by index modulo their number).
steps = st.lists(st.tuples(st.integers(min_value=0), st.integers()), max_size=60)


@given(steps)
def test_every_view_keeps_exactly_what_a_tuple_would(ops: list[tuple[int, int]]) -> None:
    views: list[AppendOnly[int]] = [AppendOnly()]
    models: list[tuple[int, ...]] = [()]
    for pick, item in ops:
        at = pick % len(views)
        views.append(views[at].plus(item))
        models.append((*models[at], item))
        for view, model in zip(views, models, strict=True):
            assert tuple(view) == model
            assert len(view) == len(model)
            assert view == model


@given(st.lists(st.integers(), max_size=20), st.integers(min_value=-25, max_value=25))
def test_indexing_and_slicing_as_a_tuple(items: list[int], index: int) -> None:
    view = AppendOnly(items)
    grown = view.plus(99)  # the shared list is now longer than ``view``
    model = tuple(items)
    if -len(model) <= index < len(model):
        assert view[index] == model[index]
    else:
        with pytest.raises(IndexError):
            view[index]
    assert view[1:index] == model[1:index]
    assert list(reversed(view)) == list(reversed(model))
    assert grown[-1] == 99 and 99 not in view[len(view) :]


def test_a_forked_view_does_not_see_its_siblings_items() -> None:
    base = AppendOnly(["a"])
    left = base.plus("b")
    right = base.plus("c")  # the shared list already has "b" after base: right copies
    assert (tuple(base), tuple(left), tuple(right)) == (("a",), ("a", "b"), ("a", "c"))
    assert tuple(left.plus("d")) == ("a", "b", "d") and tuple(right.plus("e")) == ("a", "c", "e")


def test_equal_views_hash_alike_and_survive_pickling() -> None:
    view = AppendOnly([1, 2]).plus(3)
    assert view == AppendOnly([1, 2, 3]) and hash(view) == hash(AppendOnly([1, 2, 3]))
    assert view != AppendOnly([1, 2]) and view != [1, 2, 3]
    assert pickle.loads(pickle.dumps(view)) == (1, 2, 3)


def _race(base: AppendOnly[int], items: range) -> dict[int, AppendOnly[int]]:
    """Grow ``base`` by each item, each in its own thread, all released at once."""
    grown: dict[int, AppendOnly[int]] = {}
    start = threading.Barrier(len(items))

    def grow(item: int) -> None:
        start.wait()
        grown[item] = base.plus(item)

    threads = [threading.Thread(target=grow, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return grown


def test_threads_growing_one_view_each_get_their_own_item() -> None:
    for _ in range(50):
        base = AppendOnly(range(10))
        grown = _race(base, range(100, 108))
        assert all(tuple(view) == (*range(10), item) for item, view in grown.items())
        assert tuple(base) == tuple(range(10))


class _Overtaken(list[int]):
    """A list on which another view appends first, just before the append asked for: the
    moment a thread switch would fall, made certain."""

    def append(self, item: int) -> None:
        super().append(-1)
        super().append(item)


def test_a_view_overtaken_while_growing_copies_instead_of_claiming_the_place() -> None:
    base = AppendOnly([1, 2])
    shared = _Overtaken([1, 2])
    base._items = shared  # the list the views share, as ``plus`` finds it
    grown = base.plus(3)
    assert tuple(grown) == (1, 2, 3) and grown._items is not shared
