"""diff3 over plain sequences: chunk kinds, the classic examples, and its algebra."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from parley.core.diff3 import Chunk, ChunkKind, diff3, merge3
from tests.conftest import shared_vectors

S, A, B, SAME, CONFLICT = (
    ChunkKind.STABLE, ChunkKind.A, ChunkKind.B, ChunkKind.SAME, ChunkKind.CONFLICT,
)  # fmt: skip


def kinds(base: str, a: str, b: str) -> list[tuple[ChunkKind, str, str, str]]:
    """Chunks of three strings compared letter by letter, as (kind, base, a, b)."""
    return [(c.kind, "".join(c.base), "".join(c.a), "".join(c.b)) for c in diff3(base, a, b)]


def test_identical_sequences_are_one_stable_chunk() -> None:
    assert kinds("abc", "abc", "abc") == [(S, "abc", "abc", "abc")]
    assert diff3("", "", "") == []


def test_a_change_on_one_side_takes_that_side() -> None:
    assert kinds("abcde", "aXcde", "abcde") == [
        (S, "a", "a", "a"), (A, "b", "X", "b"), (S, "cde", "cde", "cde"),
    ]  # fmt: skip
    assert kinds("abcde", "abcde", "abcdeY") == [(S, "abcde", "abcde", "abcde"), (B, "", "", "Y")]


def test_the_same_change_on_both_sides_is_taken_once() -> None:
    assert kinds("abc", "aXc", "aXc") == [
        (S, "a", "a", "a"), (SAME, "b", "X", "X"), (S, "c", "c", "c"),
    ]  # fmt: skip
    assert merge3("abc", "aXc", "aXc") == list("aXc")


def test_separate_changes_merge_and_overlapping_ones_conflict() -> None:
    assert merge3("abcde", "aXcde", "abcYe") == list("aXcYe")
    assert kinds("abcde", "aXcde", "aZcde")[1] == (CONFLICT, "b", "X", "Z")
    assert merge3("abcde", "aXcde", "aZcde") is None


def test_touching_changes_conflict_as_in_git() -> None:
    assert kinds("abcd", "aXcd", "abYd")[1] == (CONFLICT, "bc", "Xc", "bY")
    assert kinds("abc", "aXbc", "aYbc")[1] == (CONFLICT, "", "X", "Y")
    assert kinds("abc", "aXbc", "aXbc")[1] == (SAME, "", "X", "X")


def test_an_edit_against_a_deletion_conflicts() -> None:
    assert kinds("abc", "ac", "aXc")[1] == (CONFLICT, "b", "", "X")


def test_deletions_on_both_sides() -> None:
    assert merge3("abcde", "acde", "abce") == list("ace")
    assert merge3("abc", "", "") == []


def test_resolved_is_none_only_for_conflicts() -> None:
    assert Chunk(CONFLICT, (1,), (2,), (3,)).resolved is None
    assert Chunk(B, (1,), (1,), (3,)).resolved == (3,)
    assert Chunk(A, (1,), (2,), (1,)).resolved == (2,)
    assert Chunk(SAME, (1,), (2,), (2,)).resolved == (2,)


def _with_markers(base: list[str], a: list[str], b: list[str]) -> list[str]:
    """Lines merged with conflict markers, as merge3 and ``git merge-file`` print them."""
    out: list[str] = []
    for chunk in diff3(base, a, b):
        if chunk.resolved is None:
            out += ["<<<<<<< LAO\n", *chunk.a, "=======\n", *chunk.b, ">>>>>>> TAO\n"]
        else:
            out.extend(chunk.resolved)
    return out


def test_the_diffutils_manual_example_merges_line_by_line_as_printed() -> None:
    vector = json.loads(shared_vectors("merge", "lao-tzu.json").read_text(encoding="utf-8"))
    base, ours, theirs = (vector[k].splitlines(keepends=True) for k in ("base", "ours", "theirs"))
    assert "".join(_with_markers(base, ours, theirs)) == vector["merged_line_level"]


# --- properties ---------------------------------------------------------------------------------

sequences = st.lists(st.sampled_from("abcdef"), max_size=12)


@given(sequences, sequences, sequences)
def test_chunks_rebuild_each_sequence(base: list[str], a: list[str], b: list[str]) -> None:
    chunks = diff3(base, a, b)
    assert [x for c in chunks for x in c.base] == base
    assert [x for c in chunks for x in c.a] == a
    assert [x for c in chunks for x in c.b] == b
    for chunk in chunks:
        if chunk.kind is S:
            assert chunk.base == chunk.a == chunk.b
        elif chunk.kind is A:
            assert chunk.b == chunk.base != chunk.a
        elif chunk.kind is B:
            assert chunk.a == chunk.base
        elif chunk.kind is SAME:
            assert chunk.a == chunk.b != chunk.base
        else:
            assert len({chunk.base, chunk.a, chunk.b}) == 3


@given(sequences, sequences)
def test_one_sided_changes_merge_to_that_side(x: list[str], y: list[str]) -> None:
    assert merge3(x, x, y) == y
    assert merge3(x, y, x) == y
    assert merge3(x, y, y) == y


@given(sequences, sequences, sequences)
def test_swapping_the_sides_mirrors_the_chunks(base: list[str], a: list[str], b: list[str]) -> None:
    mirror = {A: B, B: A}
    forward = [(mirror.get(c.kind, c.kind), c.base, c.b, c.a) for c in diff3(base, a, b)]
    backward = [(c.kind, c.base, c.a, c.b) for c in diff3(base, b, a)]
    assert forward == backward


@given(st.integers(0, 30), st.data())
def test_edits_separated_by_an_untouched_item_always_merge(n: int, data: st.DataObject) -> None:
    """Distinct items, each edited on at most one side, never two edited neighbours."""
    base = [f"x{i}" for i in range(n)]
    a, b, expected = [], [], []
    last = ""
    for item in base:
        side = data.draw(st.sampled_from("-ab")) if last == "-" else "-"
        last = side
        new = [f"{item}{side}"] * data.draw(st.integers(0, 2))  # replaced or deleted
        a += new if side == "a" else [item]
        b += new if side == "b" else [item]
        expected += new if side != "-" else [item]
    assert merge3(base, a, b) == expected
