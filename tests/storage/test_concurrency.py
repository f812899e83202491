"""Several OS processes append to one database at once; the log stays gapless and nothing is lost.

Four writer processes (``spawn``: fresh interpreters, no shared state) open the same fresh
database at the same moment (so they also race to create the schema), then each submits forty
moves, mostly into three negotiations they all share, rebuilding a move on the new state when
another writer moved first. Each reports the (event hash, log index) pairs the store
acknowledged. Afterwards the log holds exactly those events, each once, at those indexes, with
no gap, and every negotiation's chain folds.
"""

from __future__ import annotations

import multiprocessing
import queue
import random
import traceback
from pathlib import Path
from typing import Any

import pytest

from parley.storage import open_store
from tests.negotiation import make_charter
from tests.storage import Player, check_store

WORKERS = 4
MOVES = 40
SHARED = ("shared-one-0001", "shared-two-0002", "shared-three-03")
TIMEOUT = 120


def writer(url: str, number: int, start: Any, results: Any) -> None:
    """One writer process: open the store with the others, submit MOVES moves, report them."""
    try:
        start.wait(TIMEOUT)
        store = open_store(url)
        try:
            player = Player(store, f"writer {number}")
            charters = [make_charter(nonce=nonce) for nonce in SHARED]
            charters.append(make_charter(nonce=f"own-of-writer-{number}"))
            rng = random.Random(number)
            acked = [player.submit(rng.choice(charters), n) for n in range(MOVES)]
        finally:
            store.close()
        results.put((number, acked, player.conflicts, None))
    except BaseException:
        results.put((number, [], 0, traceback.format_exc()))


def run_writers(url: str) -> list[tuple[int, list[tuple[str, int]], int, str | None]]:
    """Start the writers, wait for each one's report (bounded), and join them."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(WORKERS), context.Queue()
    processes = [
        context.Process(target=writer, args=(url, number, start, results))
        for number in range(WORKERS)
    ]
    for process in processes:
        process.start()
    try:
        reports = [results.get(timeout=TIMEOUT) for _ in processes]
    except queue.Empty:
        pytest.fail("a writer process neither finished nor failed in time")
    finally:
        for process in processes:
            process.join(TIMEOUT)
            if process.is_alive():
                process.kill()
                process.join()
    return reports


def test_concurrent_writers_keep_one_gapless_log(database_url: str) -> None:
    reports = run_writers(database_url)
    failures = [report[3] for report in reports if report[3] is not None]
    assert failures == []
    acked = [pair for report in reports for pair in report[1]]
    assert len(acked) == WORKERS * MOVES
    assert len({event for event, _ in acked}) == len(acked), "an event was acknowledged twice"
    store = open_store(database_url)
    try:
        stored = check_store(store)
        with store.transaction() as tx:
            assert tx.log_size() == len(acked)
            assert len(tx.negotiations()) == len(SHARED) + WORKERS
    finally:
        store.close()
    assert stored == dict(acked)


PAIRS = 6


def opener(url: str, start: Any, results: Any) -> None:
    """A new process's first open of the store, at the same moment as another's."""
    start.wait(TIMEOUT)
    try:
        open_store(url).close()
        results.put(None)
    except Exception as error:
        results.put(str(error))


def test_processes_opening_a_new_sqlite_file_together_all_succeed(tmp_path: Path) -> None:
    """Both create the schema or find it made; neither is told the database is locked (before
    the migration held the writer queue, about one new pair of processes in two was)."""
    context = multiprocessing.get_context("spawn")
    failed = []
    for pair in range(PAIRS):
        start, results = context.Barrier(2), context.Queue()
        url = f"sqlite:///{tmp_path}/pair-{pair}.db"
        processes = [context.Process(target=opener, args=(url, start, results)) for _ in "ab"]
        for process in processes:
            process.start()
        try:
            failed += [error for _ in processes if (error := results.get(timeout=TIMEOUT))]
        finally:
            for process in processes:
                process.join(TIMEOUT)
    assert failed == []
