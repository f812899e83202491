"""Signed notes and checkpoints against raw Ed25519 verification, measured in the same run.

Opening a note is strict parsing plus one Ed25519 verification per known signature, so the floor
is a raw Ed25519 verify of the same bytes with a preloaded key: libsodium's (PyNaCl), the check
Parley's own rests on (``keys.PublicKey.verify``); OpenSSL's (``cryptography``) is shown beside
it. A checkpoint with a log signature and two witness cosignatures needs three verifications; its
ratio is given against one raw verify and against three.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.bindings import crypto_sign_open

from parley.core import checkpoint, cosignature, keys, merkle, note
from parley.core.checkpoint import Checkpoint

LOG = keys.SigningKey.from_seed("example.com/log", bytes(range(32)))
WITNESSES = [
    keys.SigningKey.from_seed(f"witness.example/w{i}", bytes([i + 1]) * 32, keys.COSIGNATURE_V1)
    for i in range(2)
]


def _rate(action: Callable[[], object], count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        action()
    return count / (time.perf_counter() - start)


def _paired(
    actions: dict[str, Callable[[], object]], count: int, repeat: int = 5
) -> dict[str, tuple[float, float]]:
    """Per action: median rate, and median ratio of time to the first action's in the same round.

    Every round runs each action once as a batch of ``count`` calls, one after the other, so a
    ratio compares batches that saw the same machine load.
    """
    rates: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(repeat):
        for name, action in actions.items():
            rates[name].append(_rate(action, count))
    base = rates[next(iter(actions))]
    return {
        name: (
            statistics.median(found),
            statistics.median(b / r for b, r in zip(base, found, strict=True)),
        )
        for name, found in rates.items()
    }


def _fixtures() -> tuple[bytes, bytes, Callable[[], None], Callable[[], None]]:
    """A signed note, a cosigned checkpoint note, and raw verifies of the note's signature
    (libsodium's, OpenSSL's)."""
    cp = Checkpoint(LOG.name, 1_234_567, merkle.leaf_hash(b"root"))
    plain = checkpoint.sign_checkpoint(cp, LOG)
    lines = [cosignature.cosign(cp.to_text(), w, 1_700_000_000) for w in WITNESSES]
    cosigned = plain.encode() + "".join(lines).encode()
    public = LOG.public().key
    raw_key = Ed25519PublicKey.from_public_bytes(public)
    message, signature = plain.text.encode(), plain.signatures[0].blob

    def raw_verify() -> None:
        crypto_sign_open(signature + message, public)

    def openssl_verify() -> None:
        raw_key.verify(signature, message)

    return plain.encode(), cosigned, raw_verify, openssl_verify


def _row(name: str, rate: float, ratio: float, note_text: str = "") -> str:
    return f"| {name} | {rate:,.0f} | {1e6 / rate:,.1f} µs | {ratio:.2f}× | {note_text} |"


def run(quick: bool) -> str:
    """The Markdown section for docs/benchmarks.md."""
    count = 500 if quick else 5_000
    plain, cosigned, raw_verify, openssl_verify = _fixtures()
    log_key = LOG.public()
    witness_keys = [w.public() for w in WITNESSES]
    found = _paired(
        {
            "raw": raw_verify,
            "openssl": openssl_verify,
            "parse": lambda: note.parse_note(plain),
            "note": lambda: note.open_note(plain, [log_key]),
            "checkpoint": lambda: checkpoint.open_checkpoint(cosigned, log_key, witness_keys),
        },
        count,
    )
    cp_rate, cp_ratio = found["checkpoint"]
    return "\n".join(
        [
            "## Transparency log: notes and checkpoints",
            "",
            "| measurement | per second | per operation | time vs one raw verify | notes |",
            "| --- | ---: | ---: | ---: | --- |",
            _row("Ed25519 verify, libsodium (PyNaCl), preloaded key (peer)", *found["raw"]),
            _row("Ed25519 verify, OpenSSL (`cryptography`), preloaded key", *found["openssl"]),
            _row("parse a signed note (no signature check)", *found["parse"]),
            _row("`open_note`: parse and verify one signature", *found["note"]),
            _row(
                "`open_checkpoint`: log signature + 2 cosignatures",
                cp_rate,
                cp_ratio,
                f"{cp_ratio / 3:.2f}× three raw verifies",
            ),
            "",
            f"- Rates are medians of 5 rounds; each round runs {count:,} operations of every row "
            "in turn, and each ratio is the median of the per-round ratios to the raw verify.",
            "- The note is a checkpoint-sized note (origin, size, root; about 80 bytes of text).",
            f"- Opening a note costs {found['note'][1]:.2f}× one raw Ed25519 verification: strict "
            "UTF-8, control-character and base64 checks, the key-id lookup, and the copy of "
            "signature and message that libsodium's call takes.",
            "- A cosigned checkpoint needs three verifications (the log's and two "
            "`cosignature/v1`), so three raw verifies is its floor.",
        ]
    )
