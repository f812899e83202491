"""RFC 6962 / 9162 Merkle tree: public vectors, the recursive definitions, and mutations."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from parley.core.merkle import (
    EMPTY_ROOT,
    MemoryHashes,
    RememberedHashes,
    consistency_proof_length,
    frontier,
    inclusion_proof_length,
    leaf_hash,
    node_hash,
    prove_consistency,
    prove_inclusion,
    root,
    root_from_inclusion_proof,
    roots_from_consistency_proof,
    split_stored_hash_index,
    stored_hash_count,
    stored_hash_index,
    stored_hashes_for_append,
    tree_hash,
    verify_consistency,
    verify_inclusion,
)
from parley.errors import InvalidInputError, ProofError
from tests.conftest import SHARED_VECTORS, shared_vectors

MAX = 320
LEAVES = [leaf_hash(f"entry {i}".encode()) for i in range(MAX)]
STORE = MemoryHashes()
for _leaf in LEAVES:
    STORE.append_leaf_hash(_leaf)


# --- the recursive definitions of RFC 9162 §2.1, written as plainly as possible -----------------


def _split(n: int) -> int:
    """Largest power of two strictly below n."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


@cache
def ref_mth(lo: int, hi: int) -> bytes:
    if hi - lo == 0:
        return EMPTY_ROOT
    if hi - lo == 1:
        return LEAVES[lo]
    k = _split(hi - lo)
    return node_hash(ref_mth(lo, lo + k), ref_mth(lo + k, hi))


def ref_path(m: int, lo: int, hi: int) -> list[bytes]:
    if hi - lo == 1:
        return []
    k = _split(hi - lo)
    if m < k:
        return [*ref_path(m, lo, lo + k), ref_mth(lo + k, hi)]
    return [*ref_path(m - k, lo + k, hi), ref_mth(lo, lo + k)]


def ref_subproof(m: int, lo: int, hi: int, whole: bool) -> list[bytes]:
    if m == hi - lo:
        return [] if whole else [ref_mth(lo, hi)]
    k = _split(hi - lo)
    if m <= k:
        return [*ref_subproof(m, lo, lo + k, whole), ref_mth(lo + k, hi)]
    return [*ref_subproof(m - k, lo + k, hi, False), ref_mth(lo, lo + k)]


def flip(value: bytes, bit: int) -> bytes:
    data = bytearray(value)
    data[bit // 8] ^= 1 << (bit % 8)
    return bytes(data)


# --- known answers -------------------------------------------------------------------------------


def test_known_answers_from_the_go_test_suite() -> None:
    assert leaf_hash(b"L123456").hex() == (
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )
    assert node_hash(b"N123", b"N456").hex() == (
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


def test_empty_tree_and_empty_leaf_differ() -> None:
    assert root([]) == EMPTY_ROOT == tree_hash(0, MemoryHashes())
    assert EMPTY_ROOT.hex().startswith("e3b0c442")
    assert leaf_hash(b"").hex().startswith("6e340b9c")


RFC_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
RFC_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
              "606162636465666768696a6b6c6d6e6f"]  # fmt: skip
RFC_STORE = MemoryHashes()
RFC_STORE.extend(bytes.fromhex(leaf) for leaf in RFC_LEAVES)


def test_eight_leaf_roots_from_the_research_notes() -> None:
    hashes = [leaf_hash(bytes.fromhex(leaf)) for leaf in RFC_LEAVES]
    for size, expected in enumerate(RFC_ROOTS):
        assert root(hashes[:size]).hex() == expected
        assert tree_hash(size, RFC_STORE).hex() == expected


def test_rfc6962_roots_vector_file() -> None:
    data = json.loads(shared_vectors("merkle", "rfc6962-roots.json").read_text(encoding="utf-8"))
    hashes = [leaf_hash(bytes.fromhex(leaf)) for leaf in data["leafInputs"]]
    store = MemoryHashes()
    for size, expected in enumerate(data["rootHashes"]):
        assert root(hashes[:size]).hex() == expected
        assert store.root().hex() == expected
        if size < len(hashes):
            store.append_leaf_hash(hashes[size])


# --- transparency-dev probes ---------------------------------------------------------------------


def _vector_names(kind: str) -> list[str]:
    """File names for parametrization; the test itself skips when the folder is absent."""
    base = SHARED_VECTORS / "merkle" / "testdata" / kind
    names = sorted(p.relative_to(base).as_posix() for p in base.rglob("*.json"))
    return names or ["(vectors absent)"]


def _load(kind: str, name: str) -> dict[str, Any]:
    path: Path = shared_vectors("merkle", "testdata", kind) / name
    if not path.exists():
        pytest.skip(f"no vector {name}")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


@pytest.mark.parametrize("name", _vector_names("inclusion"))
def test_inclusion_vector(name: str) -> None:
    v = _load("inclusion", name)
    proof = [_b64(item) for item in v["proof"] or []]
    args = (v["leafIdx"], v["treeSize"], _b64(v["leafHash"]), proof, _b64(v["root"]))
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
        return
    verify_inclusion(*args)
    if 0 < v["treeSize"] <= 8 and v["root"] == _rfc_b64_root(v["treeSize"]):
        assert prove_inclusion(v["leafIdx"], v["treeSize"], RFC_STORE) == proof


STRICTER_THAN_VECTORS: set[str] = set()
"""Vectors Parley deliberately refuses (none: equal sizes compare roots byte for byte)."""


@pytest.mark.parametrize("name", _vector_names("consistency"))
def test_consistency_vector(name: str) -> None:
    v = _load("consistency", name)
    proof = [_b64(item) for item in v["proof"] or []]
    args = (v["size1"], v["size2"], proof, _b64(v["root1"]), _b64(v["root2"]))
    if name in STRICTER_THAN_VECTORS:
        assert not v["wantErr"]
        with pytest.raises(ProofError, match="must be 32 bytes"):
            verify_consistency(*args)
        return
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
        return
    verify_consistency(*args)
    if 0 < v["size2"] <= 8 and v["root2"] == _rfc_b64_root(v["size2"]):
        assert prove_consistency(v["size1"], v["size2"], RFC_STORE) == proof


def _rfc_b64_root(size: int) -> str:
    return base64.b64encode(bytes.fromhex(RFC_ROOTS[size])).decode()


def test_vector_folders_hold_the_expected_probes() -> None:
    base = shared_vectors("merkle", "testdata")
    assert len(list((base / "inclusion").rglob("*.json"))) >= 90
    assert len(list((base / "consistency").rglob("*.json"))) >= 90


# --- generation equals the recursive definitions -------------------------------------------------


def test_root_equals_recursive_mth_for_every_size() -> None:
    for size in range(MAX + 1):
        assert root(LEAVES[:size]) == ref_mth(0, size) == tree_hash(size, STORE)


def test_small_trees_exhaustively() -> None:
    for size in range(1, 65):
        tree_root = ref_mth(0, size)
        for index in range(size):
            proof = prove_inclusion(index, size, STORE)
            assert proof == ref_path(index, 0, size)
            assert len(proof) == inclusion_proof_length(index, size)
            verify_inclusion(index, size, LEAVES[index], proof, tree_root)
        for old in range(1, size + 1):
            proof = prove_consistency(old, size, STORE)
            assert proof == ref_subproof(old, 0, size, True)
            verify_consistency(old, size, proof, ref_mth(0, old), tree_root)


def test_consistency_length_formula_matches_the_definition() -> None:
    for size in range(2, 131):
        for old in range(1, size):
            assert consistency_proof_length(old, size) == len(ref_subproof(old, 0, size, True))


sizes = st.integers(min_value=1, max_value=MAX)


@settings(max_examples=40)
@given(size=sizes)
def test_every_inclusion_proof_of_a_size_verifies(size: int) -> None:
    tree_root = root(LEAVES[:size])
    for index in range(size):
        proof = prove_inclusion(index, size, STORE)
        assert proof == ref_path(index, 0, size)
        verify_inclusion(index, size, LEAVES[index], proof, tree_root)


@settings(max_examples=40)
@given(size=sizes)
def test_every_consistency_proof_of_a_size_verifies(size: int) -> None:
    tree_root = root(LEAVES[:size])
    for old in range(1, size + 1):
        proof = prove_consistency(old, size, STORE)
        assert proof == ref_subproof(old, 0, size, True)
        verify_consistency(old, size, proof, ref_mth(0, old), tree_root)


# --- mutations fail ------------------------------------------------------------------------------


@st.composite
def inclusion_cases(draw: st.DrawFn) -> tuple[int, int, list[bytes]]:
    size = draw(st.integers(min_value=2, max_value=MAX))
    index = draw(st.integers(min_value=0, max_value=size - 1))
    return index, size, prove_inclusion(index, size, STORE)


@st.composite
def consistency_cases(draw: st.DrawFn) -> tuple[int, int, list[bytes]]:
    size = draw(st.integers(min_value=2, max_value=MAX))
    old = draw(st.integers(min_value=1, max_value=size - 1))
    return old, size, prove_consistency(old, size, STORE)


@given(case=inclusion_cases(), data=st.data())
def test_inclusion_bit_flips_fail(case: tuple[int, int, list[bytes]], data: st.DataObject) -> None:
    index, size, proof = case
    position = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    bit = data.draw(st.integers(min_value=0, max_value=255))
    bad = [*proof[:position], flip(proof[position], bit), *proof[position + 1 :]]
    tree_root = ref_mth(0, size)
    with pytest.raises(ProofError):
        verify_inclusion(index, size, LEAVES[index], bad, tree_root)
    with pytest.raises(ProofError):
        verify_inclusion(index, size, flip(LEAVES[index], bit), proof, tree_root)
    with pytest.raises(ProofError):
        verify_inclusion(index, size, LEAVES[index], proof, flip(tree_root, bit))


@given(case=inclusion_cases(), data=st.data())
def test_inclusion_at_a_wrong_index_fails(
    case: tuple[int, int, list[bytes]], data: st.DataObject
) -> None:
    index, size, proof = case
    other = data.draw(st.integers(min_value=0, max_value=2 * size))
    assume(other != index)
    with pytest.raises(ProofError):
        verify_inclusion(other, size, LEAVES[index], proof, ref_mth(0, size))


@given(case=inclusion_cases(), data=st.data())
def test_inclusion_at_a_wrong_size_fails(
    case: tuple[int, int, list[bytes]], data: st.DataObject
) -> None:
    index, size, proof = case
    other = data.draw(st.integers(min_value=0, max_value=MAX))
    assume(other != size)
    with pytest.raises(ProofError):
        verify_inclusion(index, other, LEAVES[index], proof, ref_mth(0, other))
    if index >= other or len(proof) != inclusion_proof_length(index, other):
        with pytest.raises(ProofError):
            verify_inclusion(index, other, LEAVES[index], proof, ref_mth(0, size))


@given(case=inclusion_cases(), extra=st.binary(min_size=32, max_size=32))
def test_inclusion_truncated_or_extended_fails(
    case: tuple[int, int, list[bytes]], extra: bytes
) -> None:
    index, size, proof = case
    tree_root = ref_mth(0, size)
    for bad in (proof[:-1], proof[1:], [*proof, extra], [extra, *proof], [*proof, tree_root]):
        with pytest.raises(ProofError):
            verify_inclusion(index, size, LEAVES[index], bad, tree_root)


@given(case=consistency_cases(), data=st.data())
def test_consistency_bit_flips_fail(
    case: tuple[int, int, list[bytes]], data: st.DataObject
) -> None:
    old, size, proof = case
    position = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    bit = data.draw(st.integers(min_value=0, max_value=255))
    bad = [*proof[:position], flip(proof[position], bit), *proof[position + 1 :]]
    old_root, new_root = ref_mth(0, old), ref_mth(0, size)
    with pytest.raises(ProofError):
        verify_consistency(old, size, bad, old_root, new_root)
    with pytest.raises(ProofError):
        verify_consistency(old, size, proof, flip(old_root, bit), new_root)
    with pytest.raises(ProofError):
        verify_consistency(old, size, proof, old_root, flip(new_root, bit))


@given(case=consistency_cases(), data=st.data())
def test_consistency_at_wrong_sizes_fails(
    case: tuple[int, int, list[bytes]], data: st.DataObject
) -> None:
    old, size, proof = case
    other_old = data.draw(st.integers(min_value=0, max_value=MAX))
    other_size = data.draw(st.integers(min_value=0, max_value=MAX))
    assume(other_old != old)
    assume(other_size != size)
    with pytest.raises(ProofError):
        verify_consistency(other_old, size, proof, ref_mth(0, other_old), ref_mth(0, size))
    with pytest.raises(ProofError):
        verify_consistency(old, other_size, proof, ref_mth(0, old), ref_mth(0, other_size))


@given(case=consistency_cases(), extra=st.binary(min_size=32, max_size=32))
def test_consistency_truncated_extended_or_swapped_fails(
    case: tuple[int, int, list[bytes]], extra: bytes
) -> None:
    old, size, proof = case
    old_root, new_root = ref_mth(0, old), ref_mth(0, size)
    for bad in (proof[:-1], proof[1:], [*proof, extra], [extra, *proof], [old_root, *proof]):
        with pytest.raises(ProofError):
            verify_consistency(old, size, bad, old_root, new_root)
    with pytest.raises(ProofError):
        verify_consistency(old, size, proof, new_root, old_root)


def test_proof_errors_say_what_was_expected_and_found() -> None:
    proof = prove_inclusion(3, 8, STORE)
    with pytest.raises(ProofError, match="must have 3 hashes, found 2"):
        verify_inclusion(3, 8, LEAVES[3], proof[:2], ref_mth(0, 8))
    with pytest.raises(ProofError, match="must be 32 bytes, found 31"):
        verify_inclusion(3, 8, LEAVES[3][:31], proof, ref_mth(0, 8))
    with pytest.raises(ProofError, match=f"expected {ref_mth(0, 7).hex()}"):
        verify_inclusion(3, 7, LEAVES[3], [*proof[:2], flip(proof[2], 0)], ref_mth(0, 7))
    with pytest.raises(ProofError, match="need 0 < size1 <= size2, found size1 0, size2 0"):
        verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)


def test_equal_sizes_need_an_empty_proof_and_equal_roots() -> None:
    verify_consistency(5, 5, [], ref_mth(0, 5), ref_mth(0, 5))
    assert prove_consistency(5, 5, STORE) == []
    with pytest.raises(ProofError, match="empty proof"):
        verify_consistency(5, 5, [ref_mth(0, 5)], ref_mth(0, 5), ref_mth(0, 5))
    with pytest.raises(ProofError, match="roots differ"):
        verify_consistency(5, 5, [], ref_mth(0, 5), ref_mth(0, 4))


def test_root_helpers_return_what_the_proof_leads_to() -> None:
    proof = prove_inclusion(6, 11, STORE)
    assert root_from_inclusion_proof(6, 11, LEAVES[6], proof) == ref_mth(0, 11)
    proof = prove_consistency(6, 11, STORE)
    assert roots_from_consistency_proof(6, 11, proof, ref_mth(0, 6)) == (
        ref_mth(0, 6),
        ref_mth(0, 11),
    )


def test_generation_refuses_impossible_requests() -> None:
    for index, size in ((0, 0), (5, 5), (-1, 3)):
        with pytest.raises(InvalidInputError):
            prove_inclusion(index, size, STORE)
    for old, new in ((0, 4), (5, 4), (0, 0)):
        with pytest.raises(InvalidInputError):
            prove_consistency(old, new, STORE)
    with pytest.raises(InvalidInputError, match="leaf hash 1 must be 32 bytes"):
        root([LEAVES[0], b"short"])


# --- stored-hash numbering -----------------------------------------------------------------------


def test_stored_hash_numbering_is_append_order() -> None:
    order = [(0, 0), (0, 1), (1, 0), (0, 2), (0, 3), (1, 1), (2, 0), (0, 4)]
    assert [stored_hash_index(level, n) for level, n in order] == list(range(8))
    assert [stored_hash_count(n) for n in range(9)] == [0, 1, 3, 4, 7, 8, 10, 11, 15]


@given(st.integers(min_value=0, max_value=2**64))
def test_split_stored_hash_index_inverts_the_numbering(index: int) -> None:
    level, n = split_stored_hash_index(index)
    assert stored_hash_index(level, n) == index


@given(st.integers(min_value=0, max_value=62), st.integers(min_value=0, max_value=2**40))
def test_stored_hash_index_inverts_the_split(level: int, n: int) -> None:
    assert split_stored_hash_index(stored_hash_index(level, n)) == (level, n)


def test_every_stored_hash_is_its_perfect_subtree() -> None:
    assert len(STORE.stored) == stored_hash_count(MAX)
    for index, value in enumerate(STORE.stored):
        level, n = split_stored_hash_index(index)
        assert value == ref_mth(n << level, (n + 1) << level)


def test_extend_stores_the_same_hashes_as_append() -> None:
    entries = [f"entry {i}".encode() for i in range(MAX)]
    fast = MemoryHashes()
    fast.extend(entries[:100])
    assert fast.extend(entries[100:]) == MAX
    assert list(fast.stored) == list(STORE.stored)
    slow = MemoryHashes()
    assert [slow.append(entry) for entry in entries[:3]] == [0, 1, 2]


def test_memory_hashes_reopen_from_stored_hashes() -> None:
    reopened = MemoryHashes(STORE.stored[: stored_hash_count(77)])
    assert reopened.size == 77
    assert reopened.root() == ref_mth(0, 77)
    with pytest.raises(InvalidInputError, match="whole append"):
        MemoryHashes(STORE.stored[: stored_hash_count(4) - 1])
    with pytest.raises(InvalidInputError):
        reopened.read_hashes([stored_hash_count(77)])


# --- reads are O(log n) and batched --------------------------------------------------------------


class PeriodicHashes:
    """A consistent tree of any size without storage: leaf i is leaf i mod 256 of a base tree.

    Every aligned subtree of 256 or more leaves then has the same hash per level, so any stored
    hash is a table lookup, and proofs at ten million leaves verify like real ones.
    """

    def __init__(self) -> None:
        base = [leaf_hash(bytes([i])) for i in range(256)]
        self.levels = [base]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            self.levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below), 2)])
        self.calls = 0
        self.hashes_read = 0

    def hash_at(self, level: int, n: int) -> bytes:
        if level < len(self.levels):
            row = self.levels[level]
            return row[n % len(row)]
        value = self.levels[-1][0]
        for _ in range(len(self.levels) - 1, level):
            value = node_hash(value, value)
        return value

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        self.calls += 1
        self.hashes_read += len(indexes)
        return [self.hash_at(*split_stored_hash_index(index)) for index in indexes]

    def leaf(self, index: int) -> bytes:
        return self.levels[0][index % 256]


BIG = 10_000_000


def test_periodic_reader_is_a_real_tree() -> None:
    reader = PeriodicHashes()
    leaves = [reader.leaf(i) for i in range(700)]
    for size in (1, 255, 256, 257, 513, 700):
        assert tree_hash(size, reader) == root(leaves[:size])


@given(st.integers(min_value=0, max_value=BIG - 1))
def test_inclusion_at_ten_million_leaves_reads_little(index: int) -> None:
    reader = PeriodicHashes()
    tree_root = tree_hash(BIG, reader)
    reader.calls = reader.hashes_read = 0
    proof = prove_inclusion(index, BIG, reader)
    assert reader.calls == 1
    assert reader.hashes_read <= 64
    verify_inclusion(index, BIG, reader.leaf(index), proof, tree_root)


@given(st.integers(min_value=1, max_value=BIG))
def test_consistency_at_ten_million_leaves_reads_little(old: int) -> None:
    reader = PeriodicHashes()
    old_root, new_root = tree_hash(old, reader), tree_hash(BIG, reader)
    reader.calls = reader.hashes_read = 0
    proof = prove_consistency(old, BIG, reader)
    assert reader.calls <= 1
    assert reader.hashes_read <= 64
    verify_consistency(old, BIG, proof, old_root, new_root)


def test_tree_head_and_append_read_once() -> None:
    reader = PeriodicHashes()
    tree_hash(BIG - 1, reader)
    assert (reader.calls, reader.hashes_read) == (1, (BIG - 1).bit_count())
    new = stored_hashes_for_append(2**23 - 1, reader.leaf(2**23 - 1), reader)
    assert reader.calls == 2
    assert len(new) == 24
    assert new[-1] == reader.hash_at(23, 0)


class _Recorder:
    """A hash reader over ``stored`` that records the indexes asked for."""

    def __init__(self, stored: list[bytes]) -> None:
        self.stored = stored
        self.asked: set[int] = set()

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        self.asked.update(indexes)
        return [self.stored[i] for i in indexes]


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 5000), st.integers(1, 70))
def test_appends_read_only_the_frontier_or_what_they_wrote(size: int, count: int) -> None:
    log = MemoryHashes()
    log.extend_leaf_hashes([leaf_hash(i.to_bytes(4, "big")) for i in range(size)])
    before = stored_hash_count(size)
    reader = _Recorder(log.stored)
    for n in range(size, size + count):
        written = stored_hashes_for_append(n, leaf_hash(n.to_bytes(4, "big")), reader)
        reader.stored.extend(written)
    older = {i for i in reader.asked if i < before}
    assert older <= set(frontier(size))
    assert tree_hash(size, reader) == tree_hash(size, log)  # the frontier is the tree's head


def test_the_frontier_of_a_few_sizes() -> None:
    assert frontier(0) == []
    assert frontier(1) == [stored_hash_index(0, 0)]
    assert frontier(6) == [stored_hash_index(2, 0), stored_hash_index(1, 2)]
    assert len(frontier(2**20 - 1)) == 20


class _Counting:
    """A HashReader that counts how often each stored hash is read."""

    def __init__(self, inner: MemoryHashes) -> None:
        self.inner = inner
        self.reads: list[int] = []

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        self.reads += indexes
        return self.inner.read_hashes(indexes)


@given(st.integers(min_value=1, max_value=300))
def test_remembered_hashes_give_the_same_proofs_reading_each_hash_once(size: int) -> None:
    store = MemoryHashes()
    for i in range(size):
        store.append(str(i).encode())
    counting = _Counting(store)
    remembered = RememberedHashes(counting)
    for index in range(size):
        assert prove_inclusion(index, size, remembered) == prove_inclusion(index, size, store)
    assert len(counting.reads) == len(set(counting.reads))
