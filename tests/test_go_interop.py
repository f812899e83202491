"""Cross-check against the reference Go implementation (golang.org/x/mod sumdb/note, sumdb/tlog).

Python writes leaves, stored hashes, tree hashes, inclusion and consistency proofs, and signed,
cosigned checkpoints into a JSON file; ``tests/go/xcheck/main.go``, built offline in GOPATH mode
against Debian's x/mod sources, checks all of it with x/mod and must agree. A tampered file must
fail in Go. Skipped when Go or the x/mod sources are missing, unless PARLEY_REQUIRE_GO=1.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import shutil
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from parley.core import checkpoint, cosignature, keys, merkle
from parley.core.checkpoint import Checkpoint
from parley.core.note import Note, Signature, parse_note

pytestmark = pytest.mark.go

GO_SOURCE = Path(__file__).resolve().parent / "go" / "xcheck" / "main.go"
GOCODE = Path("/usr/share/gocode")
XMOD = GOCODE / "src" / "golang.org" / "x" / "mod" / "sumdb"

RFC6962_LEAVES = [
    bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657")
] + [bytes(range(0x60, 0x70))]
ENTRIES = RFC6962_LEAVES + [b"parley event %d" % i for i in range(62)]
LOG = keys.SigningKey.from_seed("example.com/log", bytes(range(32)))
ZERO = keys.SigningKey.from_seed("witness.example/w0", bytes(32), keys.COSIGNATURE_V1)
W1 = keys.SigningKey.from_seed("witness.example/w1", b"\x01" * 32, keys.COSIGNATURE_V1)


def _missing_go() -> str | None:
    if shutil.which("go") is None:
        return "the Go toolchain ('go') is not installed"
    if not (XMOD / "note" / "note.go").is_file() or not (XMOD / "tlog" / "tlog.go").is_file():
        return f"golang.org/x/mod sources not found under {XMOD} (apt: golang-golang-x-mod-dev)"
    return None


@pytest.fixture(scope="module")
def xcheck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Go verifier, built offline in GOPATH mode into a temporary directory."""
    reason = _missing_go()
    if reason:
        if os.environ.get("PARLEY_REQUIRE_GO") == "1":
            pytest.fail(f"PARLEY_REQUIRE_GO=1 but {reason}")
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("gopath")
    (root / "src" / "xcheck").mkdir(parents=True)
    shutil.copy(GO_SOURCE, root / "src" / "xcheck" / "main.go")
    offline = {"GO111MODULE": "off", "GOFLAGS": "", "GOPROXY": "off"}
    env = {**os.environ, **offline, "GOPATH": f"{root}:{GOCODE}", "GOCACHE": str(root / "cache")}
    binary = root / "xcheck"
    command = ["go", "build", "-o", str(binary), "xcheck"]
    built = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=False)
    assert built.returncode == 0, f"go build failed:\n{built.stderr}"
    return binary


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _cosigned_note(cp: Checkpoint, witnesses: list[keys.SigningKey]) -> str:
    signed = checkpoint.sign_checkpoint(cp, LOG).to_text()
    lines = [
        cosignature.cosign(cp.to_text(), w, 1_700_000_000 + i) for i, w in enumerate(witnesses)
    ]
    return signed + "".join(lines)


def _notes(tree: merkle.MemoryHashes) -> list[dict[str, Any]]:
    cases = [
        (Checkpoint("example.com/log", tree.size, tree.root()), [ZERO, W1]),
        (Checkpoint("example.com/log", 8, merkle.tree_hash(8, tree)), [ZERO]),
        (Checkpoint("example.com/log", 0, merkle.EMPTY_ROOT), []),
        (Checkpoint("example.com/log", 13, merkle.tree_hash(13, tree), ("ext line",)), [W1]),
    ]
    return [
        {
            "note": _cosigned_note(cp, ws),
            "log_vkey": LOG.public().vkey(),
            "cosigners": [w.public().vkey() for w in ws],
            "origin": cp.origin,
            "size": cp.size,
            "root": _b64(cp.root_hash),
        }
        for cp, ws in cases
    ]


def _document() -> dict[str, Any]:
    """A fresh copy of the cross-check document (built once)."""
    result: dict[str, Any] = json.loads(_document_json())
    return result


@functools.cache
def _document_json() -> str:
    tree = merkle.MemoryHashes()
    tree.extend(ENTRIES)
    n = tree.size
    roots = {size: merkle.tree_hash(size, tree) for size in range(n + 1)}
    inclusion = [
        {
            "index": i,
            "size": size,
            "leaf": _b64(merkle.leaf_hash(ENTRIES[i])),
            "root": _b64(roots[size]),
            "proof": [_b64(h) for h in merkle.prove_inclusion(i, size, tree)],
        }
        for size in range(1, n + 1)
        for i in range(size)
    ]
    consistency = [
        {
            "old": old,
            "new": new,
            "old_root": _b64(roots[old]),
            "new_root": _b64(roots[new]),
            "proof": [_b64(h) for h in merkle.prove_consistency(old, new, tree)],
        }
        for new in range(1, n + 1)
        for old in range(1, new + 1)
    ]
    doc = {
        "stored": [_b64(h) for h in tree.stored],
        "leaves": [_b64(merkle.leaf_hash(e)) for e in ENTRIES],
        "roots": [{"size": size, "root": _b64(root)} for size, root in roots.items()],
        "inclusion": inclusion,
        "consistency": consistency,
        "notes": _notes(tree),
    }
    return json.dumps(doc)


def _run(binary: Path, doc: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "input.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return subprocess.run([str(binary), str(path)], capture_output=True, text=True, check=False)


def test_rfc6962_roots_are_the_published_ones() -> None:
    doc = _document()
    assert base64.b64decode(doc["roots"][8]["root"]).hex() == (
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    )


def test_go_accepts_everything_python_produced(xcheck: Path, tmp_path: Path) -> None:
    result = _run(xcheck, _document(), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok ")
    assert int(result.stdout.split()[1]) > 10_000


def _flip(b64: str) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[0] ^= 1
    return _b64(bytes(raw))


def _later_cosignature(note_text: str) -> str:
    """Bump the time inside the last cosignature without re-signing."""
    note = parse_note(note_text)
    last = note.signatures[-1]
    (stamp,) = struct.unpack(">Q", last.blob[:8])
    bumped = Signature(last.name, last.key_id, struct.pack(">Q", stamp + 1) + last.blob[8:])
    return Note(note.text, (*note.signatures[:-1], bumped)).to_text()


def _set(path: list[Any], change: Callable[[Any], Any]) -> Callable[[dict[str, Any]], None]:
    def apply(doc: dict[str, Any]) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = change(target[path[-1]])

    return apply


TAMPERINGS = {
    "inclusion proof hash": _set(["inclusion", 100, "proof", 0], _flip),
    "inclusion index": _set(["inclusion", 100, "index"], lambda i: i + 1),
    "consistency old root": _set(["consistency", 200, "old_root"], _flip),
    "consistency proof": _set(["consistency", 300, "proof", 0], _flip),
    "stored hash": _set(["stored", 17], _flip),
    "tree hash": _set(["roots", 9, "root"], _flip),
    "checkpoint text": _set(["notes", 1, "note"], lambda s: s.replace("\n8\n", "\n9\n", 1)),
    "cosignature time": _set(["notes", 0, "note"], _later_cosignature),
    "claimed root": _set(["notes", 0, "root"], _flip),
}


@pytest.mark.parametrize("tamper", list(TAMPERINGS))
def test_go_rejects_tampered_input(xcheck: Path, tmp_path: Path, tamper: str) -> None:
    doc = _document()
    TAMPERINGS[tamper](doc)
    result = _run(xcheck, doc, tmp_path)
    assert result.returncode == 1, result.stdout
    assert "FAIL" in result.stdout
