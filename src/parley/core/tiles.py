"""C2SP tlog-tiles: the static layout a log is served in, and proofs read back from it.

Tiles have height 8: a tile at level L holds up to 256 consecutive hashes of Merkle level 8·L, so a
full tile is 8,192 bytes and any proof touches at most one tile per 8 levels. Paths follow
c2sp.org/tlog-tiles: ``tile/<L>/<N>[.p/<W>]`` for hashes and ``tile/entries/<N>[.p/<W>]`` for
entry bundles, N written in 3-digit groups with all but the last prefixed ``x``. Partial tiles
(width below 256) exist only at the right edge of a tree and are replaced as the tree grows.

Pure: bytes come in through a fetch callable and hashes through ``merkle.HashReader``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from parley.core.merkle import (
    HASH_SIZE,
    HashReader,
    root,
    split_stored_hash_index,
    stored_hash_index,
)
from parley.errors import InvalidInputError

TILE_HEIGHT = 8
"""Merkle levels per tile level (fixed by the C2SP spec)."""

TILE_WIDTH = 1 << TILE_HEIGHT
"""Hashes (or entries) in a full tile or bundle: 256."""

MAX_LEVEL = 63
"""Highest tile level the spec allows in a path."""

MAX_INDEX = 2**64 - 1
"""Tile indexes are uint64 in the spec; larger ones are refused, which also bounds path length."""

ENTRIES = -1
"""``Tile.level`` of an entry bundle, which sits below the level-0 hash tile it hashes to."""

MAX_ENTRY_SIZE = 0xFFFF
"""Entries in a bundle carry a big-endian uint16 length prefix."""

TileFetcher = Callable[[int, int, int], bytes]
"""Fetch the bytes of tile (level, n, width); width 256 means the full tile."""

_PATH_RE = re.compile(
    r"tile/(?P<level>entries|0|[1-9][0-9]?)/(?P<n>(?:x[0-9]{3}/)*[0-9]{3})"
    r"(?:\.p/(?P<width>[1-9][0-9]{0,2}))?"
)


@dataclass(frozen=True, slots=True)
class Tile:
    """A hash tile (level 0..63) or an entry bundle (level ``ENTRIES``); width 256 is full."""

    level: int
    n: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        if not ENTRIES <= self.level <= MAX_LEVEL:
            raise InvalidInputError(f"tile level must be in [0, {MAX_LEVEL}], found {self.level}")
        if not 0 <= self.n <= MAX_INDEX:
            raise InvalidInputError(f"tile index must be in [0, 2^64), found {self.n}")
        if not 1 <= self.width <= TILE_WIDTH:
            raise InvalidInputError(f"tile width must be in [1, {TILE_WIDTH}], found {self.width}")

    @property
    def is_full(self) -> bool:
        return self.width == TILE_WIDTH

    @property
    def is_entries(self) -> bool:
        return self.level == ENTRIES

    @property
    def path(self) -> str:
        """Path relative to the log's URL prefix."""
        prefix = "entries" if self.is_entries else str(self.level)
        suffix = "" if self.is_full else f".p/{self.width}"
        return f"tile/{prefix}/{_format_index(self.n)}{suffix}"


# --- paths ---------------------------------------------------------------------------------------


def tile_path(level: int, n: int, width: int | None = None) -> str:
    """``tile/<L>/<N>[.p/<W>]``; ``width`` None or 256 means a full tile."""
    if level == ENTRIES:
        raise InvalidInputError("entry bundles have their own path: use entry_bundle_path")
    return Tile(level, n, TILE_WIDTH if width is None else width).path


def entry_bundle_path(n: int, width: int | None = None) -> str:
    """``tile/entries/<N>[.p/<W>]``: entries n·256 .. n·256 + width - 1."""
    return Tile(ENTRIES, n, TILE_WIDTH if width is None else width).path


def parse_tile_path(path: str) -> Tile:
    """The tile a path names; strict, so every tile has exactly one path.

    Refuses leading zeros, missing ``x`` prefixes, groups that are not 3 digits, a leading ``x000``
    group, levels above 63, widths outside 1..255 and the height element of Go sumdb paths.
    """
    match = _PATH_RE.fullmatch(path)
    if match is None:
        raise InvalidInputError(f"not a tlog-tiles path: {path!r}")
    level_text, width_text = match["level"], match["width"]
    level = ENTRIES if level_text == "entries" else int(level_text)
    n = int(match["n"].replace("x", "").replace("/", ""))
    width = TILE_WIDTH if width_text is None else int(width_text)
    if width_text is not None and width >= TILE_WIDTH:
        raise InvalidInputError(f"partial tile width must be in [1, 255], found {width}: {path!r}")
    tile = Tile(level, n, width)
    if tile.path != path:
        raise InvalidInputError(f"tile path is not in canonical form, expected {tile.path!r}")
    return tile


def _format_index(n: int) -> str:
    """1234067 -> ``x001/x234/067``: 3-digit groups, all but the last prefixed with ``x``."""
    digits = str(n)
    digits = digits.zfill(-(-len(digits) // 3) * 3)
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*(f"x{group}" for group in groups[:-1]), groups[-1]])


# --- which tiles a tree has ----------------------------------------------------------------------


def tiles_for_size(size: int) -> list[Tile]:
    """Every hash tile of a tree of ``size`` leaves: full ones, then the partial one, per level."""
    return changed_tiles(0, size)


def changed_tiles(old_size: int, new_size: int) -> list[Tile]:
    """Hash tiles a tree of ``new_size`` has that one of ``old_size`` has not (new or wider).

    What a writer must publish when the tree grows; full tiles never change once written.
    """
    if not 0 <= old_size <= new_size:
        raise InvalidInputError(f"need 0 <= old size <= new size, found {old_size}, {new_size}")
    tiles: list[Tile] = []
    level = 0
    while new_size >> (TILE_HEIGHT * level):
        tiles.extend(_changed_at_level(level, old_size, new_size))
        level += 1
    return tiles


def _changed_at_level(level: int, old_size: int, new_size: int) -> list[Tile]:
    shift = TILE_HEIGHT * level
    old_count, new_count = old_size >> shift, new_size >> shift
    tiles = []
    for n in range(old_count // TILE_WIDTH, -(-new_count // TILE_WIDTH)):
        width = min(TILE_WIDTH, new_count - n * TILE_WIDTH)
        if width != min(TILE_WIDTH, old_count - n * TILE_WIDTH):
            tiles.append(Tile(level, n, width))
    return tiles


def tile_width(level: int, n: int, size: int) -> int:
    """Width of tile (level, n) in a tree of ``size``; InvalidInputError when it has none yet."""
    width = min(TILE_WIDTH, (size >> (TILE_HEIGHT * level)) - n * TILE_WIDTH)
    if width <= 0:
        raise InvalidInputError(f"a tree of size {size} has no tile {n} at level {level}")
    return width


def entry_bundles_for_size(size: int) -> list[Tile]:
    """Every entry bundle of a tree of ``size``: they mirror the level-0 hash tiles."""
    return [Tile(ENTRIES, tile.n, tile.width) for tile in tiles_for_size(size) if tile.level == 0]


# --- tile contents -------------------------------------------------------------------------------


def tile_bytes(level: int, n: int, width: int, reader: HashReader) -> bytes:
    """Bytes of hash tile (level, n, width): the stored hashes of Merkle level 8·level, in one read.

    Tile hash i is MTH of leaves [(256·n + i)·256^level, (256·n + i + 1)·256^level), which is
    exactly the stored hash of perfect subtree 256·n + i at Merkle level 8·level.
    """
    tile = Tile(level, n, width)
    if tile.is_entries:
        raise InvalidInputError("entry bundles are not built from hashes")
    first = tile.n * TILE_WIDTH
    indexes = [stored_hash_index(TILE_HEIGHT * level, first + i) for i in range(width)]
    data = b"".join(reader.read_hashes(indexes))
    split_tile(data, width)  # a reader that answered short or with odd hashes is broken
    return data


def split_tile(data: bytes, width: int) -> list[bytes]:
    """The hashes in a tile's bytes; the length must be exactly ``width`` hashes."""
    if len(data) != width * HASH_SIZE:
        raise InvalidInputError(
            f"tile of width {width} must be {width * HASH_SIZE} bytes, found {len(data)}"
        )
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


@dataclass(frozen=True, slots=True)
class _Slot:
    """Where a stored hash lives: ``count`` hashes from ``start`` of ``tile`` fold into it."""

    tile: Tile
    start: int
    count: int


class TileHashReader:
    """A ``HashReader`` over the hash tiles of a tree of a given size.

    A stored hash of Merkle level 8·L + k is not in any tile as such: it is the MTH of the 2^k
    hashes under it in the level-L tile, so it is recomputed from there. Each tile is fetched at
    most once per ``read_hashes`` call. Tiles are not authenticated here: a proof built from
    them is only as good as its verification against a signed tree head.
    """

    __slots__ = ("_fetch", "_size")

    def __init__(self, size: int, fetch: TileFetcher) -> None:
        if size < 0:
            raise InvalidInputError(f"tree size must not be negative, found {size}")
        self._size = size
        self._fetch = fetch

    @property
    def size(self) -> int:
        return self._size

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """HashReader: the stored hashes at ``indexes``, from as few tile fetches as possible."""
        slots = [self._slot(index) for index in indexes]
        tiles: dict[Tile, list[bytes]] = {}
        for slot in slots:
            if slot.tile not in tiles:
                tile = slot.tile
                tiles[tile] = split_tile(self._fetch(tile.level, tile.n, tile.width), tile.width)
        return [root(tiles[slot.tile][slot.start : slot.start + slot.count]) for slot in slots]

    def _slot(self, index: int) -> _Slot:
        level, n = split_stored_hash_index(index)
        tile_level, sublevel = divmod(level, TILE_HEIGHT)
        first = n << sublevel
        tile_n, start = divmod(first, TILE_WIDTH)
        width = tile_width(tile_level, tile_n, self._size)
        count = 1 << sublevel
        if start + count > width:
            raise InvalidInputError(
                f"stored hash {index} (level {level}, index {n}) is not in a tree of size "
                f"{self._size}"
            )
        return _Slot(Tile(tile_level, tile_n, width), start, count)


# --- entry bundles -------------------------------------------------------------------------------


def encode_entry_bundle(entries: Sequence[bytes]) -> bytes:
    """An entry bundle: each entry as a big-endian uint16 length, then its bytes."""
    _check_bundle_count(len(entries), None)
    out = bytearray()
    for i, entry in enumerate(entries):
        if len(entry) > MAX_ENTRY_SIZE:
            raise InvalidInputError(
                f"entry {i} is {len(entry)} bytes; bundles allow at most {MAX_ENTRY_SIZE}"
            )
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def decode_entry_bundle(data: bytes, width: int | None = None) -> list[bytes]:
    """The entries of a bundle; strict about truncation and, when given, the entry count."""
    entries: list[bytes] = []
    offset = 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise InvalidInputError(f"entry bundle truncated in a length prefix at byte {offset}")
        length = int.from_bytes(data[offset : offset + 2], "big")
        offset += 2
        if offset + length > len(data):
            raise InvalidInputError(
                f"entry {len(entries)} needs {length} bytes at byte {offset}, "
                f"found {len(data) - offset}"
            )
        entries.append(data[offset : offset + length])
        offset += length
    _check_bundle_count(len(entries), width)
    return entries


def _check_bundle_count(count: int, width: int | None) -> None:
    expected = f"{width}" if width is not None else f"1 to {TILE_WIDTH}"
    if (width is not None and count != width) or not 1 <= count <= TILE_WIDTH:
        raise InvalidInputError(f"entry bundle must hold {expected} entries, found {count}")
