"""Events per second through the services into SQLite and PostgreSQL, durable (one commit each).

The events are signed beforehand (that is the clients' work); what is timed is the server side of
each submission: load the state, check the event against the rules (signature included), and
commit the event, the negotiation's head and the log leaf in one transaction. One writer, then
several writer processes on their own negotiations. The core's fold rate and the raw Ed25519
verification rate are measured in the same run for comparison. Target: ≥ 1,000 events/s durable.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.bench_protocol import fold_rate, negotiation, raw_verify_rates
from parley import services as svc
from parley.core.event import SignedEvent
from parley.storage import open_store

PG_URL = os.environ.get(
    "PARLEY_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _submit_all(url: str | None, home: Path, events: list[SignedEvent], batch: int = 1) -> float:
    """Submit ``events`` one by one (or ``batch`` per commit); events per second."""
    services = svc.Services(open_store(url, home=home))
    start = time.perf_counter()
    for i in range(0, len(events), batch):
        if batch == 1:
            services.submit(events[i])
        else:
            refused = [r for r in services.submit_batch(events[i : i + batch])
                       if not isinstance(r, svc.Receipt)]  # fmt: skip
            if refused:
                raise RuntimeError(f"the benchmark's events were refused: {refused[0]}")
    elapsed = time.perf_counter() - start
    services.store.close()
    return len(events) / elapsed


def _worker(args: tuple[str | None, str, int, str]) -> tuple[int, float]:
    url, home, n, nonce = args
    events = negotiation(n, nonce=nonce)
    services = svc.Services(open_store(url, home=Path(home)))
    start = time.perf_counter()
    for event in events:
        services.submit(event)
    return len(events), time.perf_counter() - start


def _parallel(url: str | None, home: Path, writers: int, n: int) -> float:
    """Aggregate events per second with ``writers`` processes, each on its own negotiation."""
    ctx = multiprocessing.get_context("spawn")
    jobs = [(url, str(home), n, f"bench-writer-{i}-{time.time_ns()}") for i in range(writers)]
    with ctx.Pool(writers) as pool:
        start = time.perf_counter()
        results = pool.map(_worker, jobs)
        wall = time.perf_counter() - start
    return sum(count for count, _ in results) / wall


def _reset_postgres() -> bool:
    try:
        import sqlalchemy

        engine = sqlalchemy.create_engine(PG_URL)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS parley_bench CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA parley_bench")
        engine.dispose()
    except Exception:  # the benchmark reports PostgreSQL as unreachable and goes on
        return False
    return True


def run(quick: bool) -> str:
    n = 500 if quick else 3_000
    events = negotiation(n)
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(
            ("SQLite, 1 writer, a commit per event", _submit_all(None, Path(tmp) / "a", events))
        )
        rows.append(
            ("SQLite, 1 writer, group commit of 50", _submit_all(None, Path(tmp) / "e", events, 50))
        )
        rows.append(("SQLite, 2 writer processes", _parallel(None, Path(tmp) / "b", 2, n // 2)))
        if _reset_postgres():
            pg = f"{PG_URL}?options=-csearch_path%3Dparley_bench"
            rows.append(
                (
                    "PostgreSQL, 1 writer, a commit per event",
                    _submit_all(pg, Path(tmp) / "c", events),
                )
            )
            _reset_postgres()  # the same events again: on an empty database, not as duplicates
            rows.append(
                (
                    "PostgreSQL, 1 writer, group commit of 50",
                    _submit_all(pg, Path(tmp) / "f", events, 50),
                )
            )
            rows.append(
                ("PostgreSQL, 4 writer processes", _parallel(pg, Path(tmp) / "d", 4, n // 2))
            )
    fold = fold_rate(events)
    raw = statistics.median(raw_verify_rates(20_000)[0] for _ in range(3))
    lines = [
        "## Services: durable events per second",
        "",
        f"Pre-signed events submitted one by one ({n:,} per writer), each committed with its log "
        "leaf in one transaction.",
        "",
        "| path | events/s | ratio to the core's fold |",
        "| --- | ---: | ---: |",
        f"| raw Ed25519 verification (libsodium) | {raw:,.0f} | {raw / fold:.2f} |",
        f"| `protocol.fold` (in memory, no storage) | {fold:,.0f} | 1.00 |",
    ]
    lines += [f"| {name} | {rate:,.0f} | {rate / fold:.2f} |" for name, rate in rows]
    best = max(rate for _, rate in rows)
    lines += [
        "",
        "A commit per event is bound by the disk's flush time; the server batches concurrent "
        f"submissions into group commits. Best durable rate: {best:,.0f} events/s "
        f"(target ≥ 1,000: {'met' if best >= 1000 else 'NOT met'}).",
    ]
    return "\n".join(lines)
