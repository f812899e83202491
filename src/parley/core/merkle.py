"""RFC 6962 / RFC 9162 Merkle tree: hashes, tree heads, inclusion and consistency proofs.

Pure: no I/O. Storage is reached only through ``HashReader``, which reads *stored hashes* by index.
Stored hashes are numbered in the order an append-only log writes them (the numbering of Go's
``golang.org/x/mod/sumdb/tlog``): appending leaf n writes its leaf hash, then the hash of every
perfect subtree that leaf completes, lowest first. A perfect subtree's hash never changes once
written, so any tree head or proof of any tree size is a fold over O(log n) stored hashes, fetched
in one batch, whether the hashes live in a list, a database or a set of static tiles.

Proof verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 step by step, with the edge-case policy of
the transparency-dev test vectors: a proof must have exactly the length the sizes imply, every hash
is exactly 32 bytes, a consistency proof from size 0 is refused, and equal sizes need an empty proof
and equal roots. Every failure raises ``ProofError`` saying what was expected and what was found.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

from parley.errors import InvalidInputError, ProofError

HASH_SIZE = 32
"""SHA-256 output length; every leaf, node and root hash has exactly this many bytes."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) = SHA-256 of the empty string (RFC 9162 §2.1.1)."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


class HashReader(Protocol):
    """Where stored hashes come from: a list, a database table, static tiles."""

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """The stored hashes at ``indexes``, in the same order; one call per batch on purpose."""
        ...


# --- hashing (RFC 9162 §2.1.1) -------------------------------------------------------------------


def leaf_hash(entry: bytes) -> bytes:
    """SHA-256(0x00 || entry); the prefix keeps a leaf from ever passing for an inner node."""
    return hashlib.sha256(_LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right), the hash of an inner node."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over ``leaf_hashes`` for any size, including 0, in O(n) time and O(log n) memory.

    Leaves are merged into perfect subtrees as they come (a carry per trailing one bit of the
    count), then the remaining subtrees are folded right to left, which is MTH's split at the
    largest power of two below n.
    """
    edge: list[bytes] = []
    for n, value in enumerate(leaf_hashes):
        _require_stored(value, f"leaf hash {n}")
        _push(edge, n, value)
    return _fold(edge) if edge else EMPTY_ROOT


def _push(edge: list[bytes], n: int, value: bytes) -> None:
    """Append leaf n's hash to the right edge, merging each perfect subtree it completes."""
    while n & 1:
        value = node_hash(edge.pop(), value)
        n >>= 1
    edge.append(value)


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Combine perfect subtree hashes, largest (leftmost) first, into the hash of their range."""
    value = hashes[-1]
    for left in reversed(hashes[:-1]):
        value = node_hash(left, value)
    return value


# --- stored-hash numbering -----------------------------------------------------------------------


def stored_hash_count(n: int) -> int:
    """How many hashes a log of n leaves has stored: one per perfect subtree, 2n - popcount(n)."""
    _require_natural(n, "tree size")
    return 2 * n - n.bit_count()


def stored_hash_index(level: int, n: int) -> int:
    """Index of the hash of the n-th perfect subtree of 2**level leaves.

    It is written while appending the subtree's last leaf m = (n+1)·2**level - 1: after the
    stored_hash_count(m) hashes of earlier leaves, m's own leaf hash, and the nodes of levels
    1 .. level-1 that m completes first.
    """
    _require_natural(level, "level")
    _require_natural(n, "subtree index")
    return stored_hash_count(((n + 1) << level) - 1) + level


def split_stored_hash_index(index: int) -> tuple[int, int]:
    """The (level, n) whose stored hash sits at ``index``; the inverse of stored_hash_index."""
    _require_natural(index, "stored hash index")
    # The leaf being appended when ``index`` was written is the largest m with
    # 2m - popcount(m) <= index; start from a close estimate and step to it.
    leaf = (index + (index // 2).bit_count()) // 2
    while 2 * leaf - leaf.bit_count() > index:
        leaf -= 1
    while 2 * (leaf + 1) - (leaf + 1).bit_count() <= index:
        leaf += 1
    level = index - (2 * leaf - leaf.bit_count())
    return level, ((leaf + 1) >> level) - 1


def _tree_size_for_count(count: int) -> int:
    """The tree size whose stored hash count is ``count``; refuses a half-written append."""
    size = count // 2
    while stored_hash_count(size) < count:
        size += 1
    if stored_hash_count(size) != count:
        raise InvalidInputError(f"{count} stored hashes do not end on a whole append")
    return size


def _trailing_ones(n: int) -> int:
    return (~n & (n + 1)).bit_length() - 1


def _subtrees(lo: int, hi: int) -> list[tuple[int, int]]:
    """Perfect subtrees (level, n) covering [lo, hi), largest first.

    Valid for every range a proof or tree head asks for: lo is a multiple of a power of two at
    least as large as hi - lo, so each piece is aligned to its own size.
    """
    pieces: list[tuple[int, int]] = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        pieces.append((level, lo >> level))
        lo += 1 << level
    return pieces


def _read(reader: HashReader, indexes: Sequence[int]) -> list[bytes]:
    """One batched read, checked: a short answer or a bad hash is a broken store."""
    if not indexes:
        return []
    hashes = reader.read_hashes(indexes)
    if len(hashes) != len(indexes):
        raise InvalidInputError(f"asked for {len(indexes)} stored hashes, got {len(hashes)}")
    for index, value in zip(indexes, hashes, strict=True):
        _require_stored(value, f"stored hash {index}")
    return hashes


def _range_hashes(ranges: Sequence[tuple[int, int]], reader: HashReader) -> list[bytes]:
    """MTH of each [lo, hi) range, from the stored hashes of its perfect subtrees, in one read."""
    pieces = [_subtrees(lo, hi) for lo, hi in ranges]
    indexes = [stored_hash_index(level, n) for piece in pieces for level, n in piece]
    hashes = _read(reader, indexes)
    out: list[bytes] = []
    start = 0
    for piece in pieces:
        out.append(_fold(hashes[start : start + len(piece)]))
        start += len(piece)
    return out


# --- storage-backed operations -------------------------------------------------------------------


def stored_hashes_for_append(n: int, leaf_hash: bytes, reader: HashReader) -> list[bytes]:
    """The stored hashes to write, in order, when appending leaf n (the tree has n leaves now).

    The leaf hash, then one node per trailing one bit of n: each completes a perfect subtree
    whose left half was written earlier. The left halves are read in one call.
    """
    _require_natural(n, "leaf index")
    _require_stored(leaf_hash, "leaf hash")
    levels = range(_trailing_ones(n))
    lefts = _read(reader, [stored_hash_index(level, (n >> level) - 1) for level in levels])
    out = [leaf_hash]
    for left in lefts:
        out.append(node_hash(left, out[-1]))
    return out


def frontier(size: int) -> list[int]:
    """Stored-hash indexes of the perfect subtrees that make up the tree of ``size`` leaves.

    Every stored hash that appends from ``size`` on will read (``stored_hashes_for_append``) is
    one of these or is written by those appends, so a batch of appends needs one read of them.
    """
    _require_natural(size, "tree size")
    return [stored_hash_index(level, n) for level, n in _subtrees(0, size)]


def tree_hash(size: int, reader: HashReader) -> bytes:
    """MTH of the first ``size`` leaves: a fold of popcount(size) stored hashes, one read."""
    _require_natural(size, "tree size")
    return _range_hashes([(0, size)], reader)[0] if size else EMPTY_ROOT


def prove_inclusion(index: int, size: int, reader: HashReader) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, leaf side first, in one read."""
    if not 0 <= index < size:
        raise InvalidInputError(f"leaf index must be in [0, {size}), found {index}")
    return _range_hashes(_inclusion_ranges(index, size), reader)


def prove_consistency(old: int, new: int, reader: HashReader) -> list[bytes]:
    """PROOF(old, D[0:new]) of RFC 9162 §2.1.4.1, in one read; empty when the sizes are equal."""
    if not 0 < old <= new:
        raise InvalidInputError(
            f"consistency proofs need 0 < old size <= new size, found old {old}, new {new}"
        )
    return _range_hashes(_consistency_ranges(old, new), reader)


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The [lo, hi) ranges whose MTHs make up PATH(index, D[0:size]), leaf side first.

    RFC 9162 §2.1.3.1 walked from the root: at each split k (largest power of two below the
    range size) the sibling half is a proof element and the half holding the leaf is entered.
    """
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = 1 << ((hi - lo - 1).bit_length() - 1)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()
    return ranges


def _consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """The ranges of SUBPROOF(old, D[0:new], true) (RFC 9162 §2.1.4.1), leaf side first.

    Descending while the old tree's edge is inside the range; once it entered a right half, the
    subtree it finally ends on (the old tree's last perfect subtree) is part of the proof.
    """
    ranges: list[tuple[int, int]] = []
    lo, hi, whole = 0, new, True
    while old != hi:
        k = 1 << ((hi - lo - 1).bit_length() - 1)
        if old <= lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo, whole = lo + k, False
    if not whole:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


# --- proof sizes ---------------------------------------------------------------------------------


def inclusion_proof_length(index: int, size: int) -> int:
    """Hashes in PATH(index, D[0:size]): inner + border (RFC 9162 §2.1.3.2 consequence).

    ``inner`` levels lie below the point where the leaf's path and the tree's right edge meet;
    above it there is one hash per left sibling on the edge, ``border`` of them.
    """
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def consistency_proof_length(size1: int, size2: int) -> int:
    """Hashes in PROOF(size1, D[0:size2]) for 0 < size1 < size2.

    The inclusion path of the old tree's last leaf, minus the levels inside the old tree's last
    perfect subtree (its trailing zero bits), plus that subtree's own hash unless it is the whole
    old tree (size1 a power of two: the verifier already has that hash, the old root).
    """
    shift = (size1 & -size1).bit_length() - 1
    seed = 0 if size1 == 1 << shift else 1
    return seed + inclusion_proof_length(size1 - 1, size2) - shift


# --- verification (RFC 9162 §2.1.3.2, §2.1.4.2) --------------------------------------------------


def root_from_inclusion_proof(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]
) -> bytes:
    """The root an inclusion proof leads to (RFC 9162 §2.1.3.2 steps 1–4)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index must be in [0, {size}), found {index}")
    _require_hash(leaf_hash, "leaf hash")
    _require_proof(proof, inclusion_proof_length(index, size))
    fn, sn, value = index, size - 1, leaf_hash
    for item in proof:
        if sn == 0:
            raise ProofError("proof goes on past the root")
        if fn & 1 or fn == sn:
            value = node_hash(item, value)
            fn, sn = _skip_right_edge(fn, sn)
        else:
            value = node_hash(value, item)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("proof stops below the root")
    return value


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with ``root``."""
    _require_hash(root, "root")
    found = root_from_inclusion_proof(index, size, leaf_hash, proof)
    if found != root:
        raise ProofError(
            f"inclusion proof of leaf {index} in tree size {size} leads to root {found.hex()}, "
            f"expected {root.hex()}"
        )


def roots_from_consistency_proof(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes
) -> tuple[bytes, bytes]:
    """The (old, new) roots a consistency proof leads to, for 0 < size1 < size2 (§2.1.4.2 1–6)."""
    if not 0 < size1 < size2:
        raise ProofError(f"need 0 < size1 < size2, found size1 {size1}, size2 {size2}")
    _require_hash(root1, "first root")
    _require_proof(proof, consistency_proof_length(size1, size2))
    path = [root1, *proof] if size1 & (size1 - 1) == 0 else list(proof)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    first = second = path[0]
    for item in path[1:]:
        if sn == 0:
            raise ProofError("proof goes on past the root")
        if fn & 1 or fn == sn:
            first, second = node_hash(item, first), node_hash(item, second)
            fn, sn = _skip_right_edge(fn, sn)
        else:
            second = node_hash(second, item)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("proof stops below the root")
    return first, second


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of ``size2`` with ``root2`` extends the tree of ``size1``/``root1``.

    Equal sizes need no hashing: the roots must be identical and the proof empty, whatever their
    length (as RFC 9162 and the transparency-dev vectors have it).
    """
    if size1 <= 0 or size1 > size2:
        raise ProofError(f"need 0 < size1 <= size2, found size1 {size1}, size2 {size2}")
    if size1 == size2:
        _check_same_tree(size1, proof, root1, root2)
        return
    _require_hash(root1, "first root")
    _require_hash(root2, "second root")
    first, second = roots_from_consistency_proof(size1, size2, proof, root1)
    for name, found, expected in (("first", first, root1), ("second", second, root2)):
        if found != expected:
            raise ProofError(
                f"consistency proof {size1} -> {size2} leads to {name} root {found.hex()}, "
                f"expected {expected.hex()}"
            )


def _check_same_tree(size: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Equal sizes: nothing to prove, so the proof must be empty and the roots identical."""
    if proof:
        raise ProofError(f"sizes are equal ({size}): expected an empty proof, found {len(proof)}")
    if root1 != root2:
        raise ProofError(f"sizes are equal ({size}) but roots differ: {root1.hex()}, {root2.hex()}")


def _skip_right_edge(fn: int, sn: int) -> tuple[int, int]:
    """After a left sibling with fn even: climb the levels where the node has no right sibling."""
    while fn and not fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


# --- input checks --------------------------------------------------------------------------------


def _require_hash(value: bytes, name: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{name} must be {HASH_SIZE} bytes, found {len(value)}")


def _require_proof(proof: Sequence[bytes], expected: int) -> None:
    if len(proof) != expected:
        raise ProofError(f"proof must have {expected} hashes, found {len(proof)}")
    for i, item in enumerate(proof):
        _require_hash(item, f"proof hash {i}")


def _require_stored(value: bytes, name: str) -> None:
    if len(value) != HASH_SIZE:
        raise InvalidInputError(f"{name} must be {HASH_SIZE} bytes, found {len(value)}")


def _require_natural(value: int, name: str) -> None:
    if value < 0:
        raise InvalidInputError(f"{name} must not be negative, found {value}")


# --- in memory -----------------------------------------------------------------------------------


class RememberedHashes:
    """A HashReader that reads each stored hash once: many proofs against one checkpoint (a
    bundle's) share most of the tree's upper hashes."""

    def __init__(self, reader: HashReader) -> None:
        self.reader = reader
        self._known: dict[int, bytes] = {}

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        missing = sorted({i for i in indexes if i not in self._known})
        if missing:
            self._known.update(zip(missing, self.reader.read_hashes(missing), strict=True))
        return [self._known[i] for i in indexes]


class MemoryHashes:
    """Stored hashes in memory, one list per level: an in-memory log, and a reference store.

    Kept by level rather than in stored-hash order so that appending a batch hashes each level
    in one pass; ``read_hashes`` maps stored-hash indexes to (level, n).
    """

    __slots__ = ("_levels",)

    def __init__(self, stored: Iterable[bytes] = ()) -> None:
        """Start empty, or from hashes some store wrote, in stored-hash order (taken as given)."""
        self._levels: list[list[bytes]] = [[]]
        hashes = list(stored)
        size = _tree_size_for_count(len(hashes))
        position = 0
        for n in range(size):
            for level in range(_trailing_ones(n) + 1):
                _require_stored(hashes[position], f"stored hash {position}")
                self._level(level).append(hashes[position])
                position += 1

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self._levels[0])

    @property
    def stored(self) -> list[bytes]:
        """All stored hashes in stored-hash order, e.g. to copy them into another store."""
        out: list[bytes] = []
        for n in range(self.size):
            levels = range(_trailing_ones(n) + 1)
            out.extend(self._levels[level][((n + 1) >> level) - 1] for level in levels)
        return out

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """HashReader: the stored hashes at ``indexes``."""
        levels = self._levels
        out: list[bytes] = []
        for index in indexes:
            level, n = split_stored_hash_index(index)
            if level >= len(levels) or n >= len(levels[level]):
                raise InvalidInputError(f"no stored hash {index} in a tree of size {self.size}")
            out.append(levels[level][n])
        return out

    def append(self, entry: bytes) -> int:
        """Append one entry; returns its leaf index."""
        return self.append_leaf_hash(leaf_hash(entry))

    def append_leaf_hash(self, value: bytes) -> int:
        """Append one leaf by its hash, through the same path a persistent store would take."""
        index = self.size
        for level, stored in enumerate(stored_hashes_for_append(index, value, self)):
            self._level(level).append(stored)
        return index

    def extend(self, entries: Iterable[bytes]) -> int:
        """Append many entries fast (same stored hashes as ``append``); returns the new size."""
        sha256 = hashlib.sha256
        self._add_leaves([sha256(_LEAF_PREFIX + entry).digest() for entry in entries])
        return self.size

    def extend_leaf_hashes(self, hashes: Sequence[bytes]) -> int:
        """Append many leaves by hash; returns the new size."""
        for i, value in enumerate(hashes):
            _require_stored(value, f"leaf hash {i}")
        self._add_leaves(hashes)
        return self.size

    def _add_leaves(self, hashes: Sequence[bytes]) -> None:
        """Add leaf hashes, then pair up each level in one pass over its new hashes."""
        self._levels[0].extend(hashes)
        sha256, level = hashlib.sha256, 0
        while len(self._levels[level]) > 1:
            below, above = self._levels[level], self._level(level + 1)
            pairs = iter(below[2 * len(above) :])  # an odd last hash waits for its sibling
            nodes = zip(pairs, pairs, strict=False)
            above.extend([sha256(_NODE_PREFIX + a + b).digest() for a, b in nodes])
            level += 1

    def root(self) -> bytes:
        """MTH of the whole log."""
        return tree_hash(self.size, self)

    def _level(self, level: int) -> list[bytes]:
        if level == len(self._levels):
            self._levels.append([])
        return self._levels[level]
