"""C2SP tlog-tiles: paths, the tiles of a tree, tile bytes, proofs from tiles, entry bundles."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.core.merkle import (
    MemoryHashes,
    leaf_hash,
    prove_consistency,
    prove_inclusion,
    root,
    stored_hash_index,
    tree_hash,
    verify_inclusion,
)
from parley.core.tiles import (
    ENTRIES,
    MAX_INDEX,
    MAX_LEVEL,
    TILE_WIDTH,
    Tile,
    TileHashReader,
    changed_tiles,
    decode_entry_bundle,
    encode_entry_bundle,
    entry_bundle_path,
    entry_bundles_for_size,
    parse_tile_path,
    split_tile,
    tile_bytes,
    tile_path,
    tile_width,
    tiles_for_size,
)
from parley.errors import InvalidInputError

# --- paths ---------------------------------------------------------------------------------------

# (level, n, width or None, path): Tessera's and Go sumdb's tables without the height element,
# plus the example of the C2SP spec.
TILE_PATHS = [
    (15, 123456789, 41, "tile/15/x123/x456/789.p/41"),
    (15, 455667, None, "tile/15/x455/667"),
    (5, 123456078, 2, "tile/5/x123/x456/078.p/2"),
    (0, 1234067, 5, "tile/0/x001/x234/067.p/5"),
    (0, 0, None, "tile/0/000"),
    (63, 1000, None, "tile/63/x001/000"),
    (1, 999, 255, "tile/1/999.p/255"),
]

# (first entry, tree size, path): Tessera's entry bundle table.
BUNDLE_PATHS = [
    (256, 257, "tile/entries/001.p/1"),
    (251, 255, "tile/entries/000.p/255"),
    (123456789 * 256, 123456790 * 256, "tile/entries/x123/x456/789"),
]

BAD_PATHS = [
    "tile/5/123/456/078",  # missing x
    "tile/-1/000",
    "tile/01/000",  # leading zero in the level
    "tile/64/000",
    "tile/8/0/000",  # Go sumdb form with the height
    "tile/data/x003/x057/500",  # Go sumdb data tiles
    "tile/0/x000/123",  # leading zero group
    "tile/0/12",
    "tile/0/0000",
    "tile/0/x1/000",
    "tile/0/000.p/0",
    "tile/0/000.p/256",
    "tile/0/000.p/05",
    "tile/0/000.p/",
    "tile/0/000.p",
    "tile/0/000/",
    "/tile/0/000",
    "tiles/0/000",
    "tile/0/x000",
    "tile/0/٠٠٠",
    "tile/entries/000.p/1000",
    "tile/0/x018/x446/x744/x073/x709/x551/616",  # 2^64
]


@pytest.mark.parametrize(("level", "n", "width", "path"), TILE_PATHS)
def test_tile_paths(level: int, n: int, width: int | None, path: str) -> None:
    assert tile_path(level, n, width) == path
    assert parse_tile_path(path) == Tile(level, n, width or TILE_WIDTH)


@pytest.mark.parametrize(("first", "size", "path"), BUNDLE_PATHS)
def test_entry_bundle_paths(first: int, size: int, path: str) -> None:
    n = first // TILE_WIDTH
    width = min(TILE_WIDTH, size - n * TILE_WIDTH)
    assert entry_bundle_path(n, None if width == TILE_WIDTH else width) == path
    assert parse_tile_path(path) == Tile(ENTRIES, n, width)


@pytest.mark.parametrize("path", BAD_PATHS)
def test_malformed_paths_are_refused(path: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_tile_path(path)


def test_path_arguments_are_checked() -> None:
    for level, n, width in ((64, 0, None), (-1, 0, None), (0, -1, None), (0, 0, 0), (0, 0, 257)):
        with pytest.raises(InvalidInputError):
            tile_path(level, n, width)
    assert tile_path(0, 7, 256) == "tile/0/007"
    with pytest.raises(InvalidInputError):
        entry_bundle_path(0, 0)


tiles = st.builds(
    Tile,
    level=st.integers(min_value=ENTRIES, max_value=MAX_LEVEL),
    n=st.integers(min_value=0, max_value=MAX_INDEX),
    width=st.integers(min_value=1, max_value=TILE_WIDTH),
)


@given(tiles)
def test_paths_round_trip(tile: Tile) -> None:
    assert parse_tile_path(tile.path) == tile


# --- which tiles a tree has ----------------------------------------------------------------------


def _summary(size: int) -> dict[int, tuple[int, list[int]]]:
    """Per level: (number of full tiles, widths of partial tiles)."""
    out: dict[int, tuple[int, list[int]]] = {}
    for tile in tiles_for_size(size):
        full, partial = out.get(tile.level, (0, []))
        out[tile.level] = (full + 1, partial) if tile.is_full else (full, [*partial, tile.width])
    return out


def test_tiles_of_the_spec_examples() -> None:
    assert _summary(70_000) == {0: (273, [112]), 1: (1, [17]), 2: (0, [1])}
    assert _summary(256) == {0: (1, []), 1: (0, [1])}
    assert tiles_for_size(0) == []
    assert tiles_for_size(1) == [Tile(0, 0, 1)]


@given(st.integers(min_value=0, max_value=100_000), st.integers(min_value=0, max_value=100_000))
def test_changed_tiles_are_the_difference(old: int, growth: int) -> None:
    new = old + growth
    assert set(changed_tiles(old, new)) == set(tiles_for_size(new)) - set(tiles_for_size(old))


@given(st.integers(min_value=0, max_value=2**48), st.integers(min_value=0, max_value=2**16))
def test_changed_tiles_of_big_trees(old: int, growth: int) -> None:
    new = old + growth
    for tile in changed_tiles(old, new):
        assert tile.width == tile_width(tile.level, tile.n, new)
        with contextlib.suppress(InvalidInputError):
            assert tile.width != tile_width(tile.level, tile.n, old)


def test_entry_bundles_mirror_level_zero_tiles() -> None:
    bundles = entry_bundles_for_size(70_000)
    assert len(bundles) == 274
    assert bundles[-1] == Tile(ENTRIES, 273, 112)
    assert all(bundle.is_entries for bundle in bundles)


# --- tile bytes and proofs from tiles ------------------------------------------------------------

SIZE = 70_000
ENTRY_LIST = [f"event {i}".encode() for i in range(SIZE)]
STORE = MemoryHashes()
STORE.extend(ENTRY_LIST)


def _serve(size: int) -> dict[tuple[int, int, int], bytes]:
    """What a static log of ``size`` publishes, keyed as the fetcher is asked."""
    served = {}
    for tile in tiles_for_size(size):
        key = (tile.level, tile.n, tile.width)
        served[key] = tile_bytes(*key, STORE)
    return served


SERVED = _serve(SIZE)


class Fetcher:
    def __init__(self, served: dict[tuple[int, int, int], bytes]) -> None:
        self.served = served
        self.fetched: list[tuple[int, int, int]] = []

    def __call__(self, level: int, n: int, width: int) -> bytes:
        self.fetched.append((level, n, width))
        return self.served[(level, n, width)]


def test_tile_bytes_hold_subtree_hashes() -> None:
    full = SERVED[(0, 3, 256)]
    assert len(full) == 8192
    assert split_tile(full, 256)[5] == leaf_hash(ENTRY_LIST[3 * 256 + 5])
    level1 = split_tile(SERVED[(1, 0, 256)], 256)
    assert level1[2] == root([leaf_hash(e) for e in ENTRY_LIST[512:768]])
    assert split_tile(SERVED[(2, 0, 1)], 1) == [STORE.read_hashes([stored_hash_index(16, 0)])[0]]


def test_tiles_reproduce_the_tree_head_and_proofs() -> None:
    fetch = Fetcher(SERVED)
    reader = TileHashReader(SIZE, fetch)
    assert tree_hash(SIZE, reader) == STORE.root()
    for index in (0, 1, 255, 256, 65535, 65536, 69_999):
        proof = prove_inclusion(index, SIZE, reader)
        assert proof == prove_inclusion(index, SIZE, STORE)
        verify_inclusion(index, SIZE, leaf_hash(ENTRY_LIST[index]), proof, STORE.root())
    for old in (1, 256, 257, 65536, 69_000, SIZE):
        assert prove_consistency(old, SIZE, reader) == prove_consistency(old, SIZE, STORE)


def test_a_proof_fetches_few_tiles() -> None:
    fetch = Fetcher(SERVED)
    prove_inclusion(12_345, SIZE, TileHashReader(SIZE, fetch))
    assert len(fetch.fetched) == len(set(fetch.fetched)) <= 4


@given(st.integers(min_value=1, max_value=3000), st.data())
def test_small_trees_from_tiles(size: int, data: st.DataObject) -> None:
    reader = TileHashReader(size, Fetcher(_serve(size)))
    assert tree_hash(size, reader) == tree_hash(size, STORE)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    old = data.draw(st.integers(min_value=1, max_value=size))
    assert prove_inclusion(index, size, reader) == prove_inclusion(index, size, STORE)
    assert prove_consistency(old, size, reader) == prove_consistency(old, size, STORE)


def test_tile_reader_refuses_what_the_tree_does_not_have() -> None:
    reader = TileHashReader(300, Fetcher(_serve(300)))
    with pytest.raises(InvalidInputError, match="not in a tree of size 300"):
        reader.read_hashes([stored_hash_index(0, 300)])
    with pytest.raises(InvalidInputError, match="no tile"):
        reader.read_hashes([stored_hash_index(0, 600)])
    short = TileHashReader(300, lambda level, n, width: b"\x00" * 31)
    with pytest.raises(InvalidInputError, match="must be 8192 bytes, found 31"):
        short.read_hashes([0])
    with pytest.raises(InvalidInputError):
        TileHashReader(-1, Fetcher({}))


# --- entry bundles -------------------------------------------------------------------------------


@given(st.lists(st.binary(max_size=300), min_size=1, max_size=TILE_WIDTH))
def test_entry_bundles_round_trip(entries: list[bytes]) -> None:
    data = encode_entry_bundle(entries)
    assert decode_entry_bundle(data) == entries
    assert decode_entry_bundle(data, len(entries)) == entries


def test_entry_bundle_format() -> None:
    assert encode_entry_bundle([b"ab", b""]) == b"\x00\x02ab\x00\x00"
    bundle = decode_entry_bundle(encode_entry_bundle(ENTRY_LIST[256:512]), 256)
    assert [leaf_hash(e) for e in bundle] == split_tile(SERVED[(0, 1, 256)], 256)


@pytest.mark.parametrize(
    ("data", "width", "message"),
    [
        (b"\x00", None, "truncated in a length prefix"),
        (b"\x00\x03ab", None, "needs 3 bytes"),
        (b"", None, "found 0"),
        (b"\x00\x00", 2, "must hold 2 entries, found 1"),
        (b"\x00\x00" * 257, None, "found 257"),
    ],
)
def test_malformed_entry_bundles_are_refused(data: bytes, width: int | None, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        decode_entry_bundle(data, width)


def test_entry_bundle_limits() -> None:
    with pytest.raises(InvalidInputError, match="at most 65535"):
        encode_entry_bundle([b"x" * 65_536])
    with pytest.raises(InvalidInputError):
        encode_entry_bundle([])
    with pytest.raises(InvalidInputError):
        encode_entry_bundle([b""] * 257)
    assert len(encode_entry_bundle([b"x" * 65_535])) == 65_537
