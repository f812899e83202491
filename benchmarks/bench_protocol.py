"""Events applied per second by the protocol fold, against raw Ed25519 verification.

A negotiation of N signed events (charter, joins, a proposal, then comments, statements and
walk-outs with resumptions) is folded from scratch; the fold verifies every signature, so its rate
is bounded by the raw verification rate measured in the same run. Target: at least 50 % of it.
The raw rate is libsodium's (PyNaCl), the check Parley's own rests on (``keys.PublicKey.verify``);
OpenSSL's (``cryptography``), which decides what libsodium refuses, is shown beside it.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from nacl.bindings import crypto_sign_open
from tests.negotiation import Table, clean_text, key_for, make_charter

from parley.core import moves, protocol
from parley.core import text as text_model
from parley.core.event import EventType as T
from parley.core.event import SignedEvent, format_time


def negotiation(n: int, nonce: str = "bench-nonce-0001") -> list[SignedEvent]:
    """A deterministic negotiation of about ``n`` events, built without re-folding each step."""
    table = Table(charter=make_charter(nonce=nonce)).open()
    text = clean_text()
    version = text_model.version_hash(text)
    table.play("QA", T.PROPOSE, moves.propose(text))
    state, events = table.s, list(table.events)
    clock = datetime(2026, 3, 2, tzinfo=UTC)
    cycle = [
        ("PK", T.COMMENT, moves.comment(version, "art-1", "We need a definition here.")),
        ("AF", T.STATEMENT, moves.statement("Our territory will not be used against anyone.")),
        ("AF", T.SUSPEND, moves.suspend("consultations in the capital")),
        ("AF", T.RESUME, moves.resume()),
    ]
    draft = protocol._Draft.thaw(state)
    while len(events) < n:
        author, move, body = cycle[len(events) % len(cycle)]
        clock += timedelta(seconds=1)
        view = _view(draft, state)
        event = moves.make(view, key_for(author), author, move, body, format_time(clock))
        draft.apply(event)
        events.append(event)
    return events


def _view(draft: protocol._Draft, state: protocol.State) -> protocol.State:
    return protocol.State(state.charter, draft.phase, draft.seq, draft.head, draft.time)


def raw_verify_rates(samples: int) -> tuple[float, float]:
    """Raw Ed25519 verifications per second: libsodium's, then OpenSSL's."""
    key = Ed25519PrivateKey.from_private_bytes(bytes(32))
    public = key.public_key()
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    message = b"parley/v1/event\n" + b"x" * 300
    signature = key.sign(message)
    start = time.perf_counter()
    for _ in range(samples):
        crypto_sign_open(signature + message, raw)
    middle = time.perf_counter()
    for _ in range(samples):
        public.verify(signature, message)
    end = time.perf_counter()
    return samples / (middle - start), samples / (end - middle)


def fold_rate(events: list[SignedEvent]) -> float:
    start = time.perf_counter()
    protocol.fold(events)
    return len(events) / (time.perf_counter() - start)


def run(quick: bool) -> str:
    n = 10_000 if quick else 100_000
    events = negotiation(n)
    folds = [fold_rate(events) for _ in range(3)]
    raws = [raw_verify_rates(20_000) for _ in range(3)]
    fold = statistics.median(folds)
    raw, openssl = (statistics.median(r[i] for r in raws) for i in (0, 1))
    return "\n".join(
        [
            "## Protocol: events applied per second",
            "",
            f"A negotiation of {len(events):,} signed events folded from scratch "
            "(chain, signature, rules and preconditions checked for each).",
            "",
            "| measure | events/s | ratio to raw Ed25519 |",
            "| --- | ---: | ---: |",
            f"| raw Ed25519 verification (libsodium, PyNaCl) | {raw:,.0f} | 1.00 |",
            f"| raw Ed25519 verification (OpenSSL, `cryptography`) | {openssl:,.0f} "
            f"| {openssl / raw:.2f} |",
            f"| `protocol.fold` | {fold:,.0f} | {fold / raw:.2f} |",
            "",
            f"Target ≥ 0.50 of the raw verification rate: {_verdict(fold / raw >= 0.5)}.",
        ]
    )


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"
