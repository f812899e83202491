"""Kill -9 a writer at random moments: every acknowledged event survives, the store stays whole.

A writer process appends moves in a loop and prints each event hash only after its transaction
committed. The test reads a random number of those acknowledgements, waits a random fraction of
a move more (so the kill lands anywhere: between statements, inside the transaction, in the
commit), kills the process with SIGKILL, and reopens the store: every acknowledged event must
be there, the log must be gapless and hash to the same root as its entries, and every
negotiation's row and chain must agree. Ten rounds per database, seeded.
"""

from __future__ import annotations

import os
import random
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from parley.storage import open_store
from tests.negotiation import make_charter
from tests.storage import Player, check_store

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 10
SEED = 20260301
TIMEOUT = 60.0
_HASH_LINE = re.compile(rb"[0-9a-f]{64}")
WRITER = "from tests.storage.test_durability import write_forever; write_forever()"


def write_forever() -> None:
    """The writer process: ``python -c WRITER URL ROUND``; prints each hash after its commit."""
    url, number = sys.argv[1], int(sys.argv[2])
    store = open_store(url)
    player = Player(store, f"round {number}")
    charters = [make_charter(nonce=f"durable-{i:04d}") for i in range(2)]
    charters.append(make_charter(nonce=f"durable-round-{number:04d}"))
    rng = random.Random(number)
    n = 0
    while True:
        event_hash, _ = player.submit(rng.choice(charters), n)
        sys.stdout.write(event_hash + "\n")
        sys.stdout.flush()
        n += 1


class Lines:
    """Lines from a pipe, waiting at most TIMEOUT for each (bounded polling, never a hang)."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        self.fd = process.stdout.fileno()
        self.buffer = b""

    def next(self) -> bytes | None:
        """The next complete line, or None at the end of the stream."""
        deadline = time.monotonic() + TIMEOUT
        while b"\n" not in self.buffer:
            ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                pytest.fail(f"the writer printed nothing for {TIMEOUT} s")
            chunk = os.read(self.fd, 4096)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line

    def rest(self) -> list[bytes]:
        """Every complete line left (after the writer died); a torn last line is dropped."""
        lines = []
        while (line := self.next()) is not None:
            lines.append(line)
        return lines


def kill_round(url: str, number: int, rng: random.Random) -> list[str]:
    """Run one writer, kill -9 it at a random moment; the hashes it acknowledged."""
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, _named(url, number), str(number)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    lines, acked = Lines(process), []
    try:
        for _ in range(rng.randint(1, 12)):
            line = lines.next()
            if line is None:
                break
            acked.append(line)
        time.sleep(rng.uniform(0.0, 0.02))  # where the kill lands, not synchronisation
        process.send_signal(signal.SIGKILL)
        acked += lines.rest()
        process.wait(TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stderr is not None
        errors = process.stderr.read().decode(errors="replace")
        process.stderr.close()
        assert process.stdout is not None
        process.stdout.close()
    assert process.returncode == -signal.SIGKILL, f"the writer died by itself:\n{errors}"
    assert all(_HASH_LINE.fullmatch(line) for line in acked), acked
    _await_server_sessions(url, number)
    return [line.decode() for line in acked]


def _named(url: str, number: int) -> str:
    """The writer's URL: on PostgreSQL its sessions carry the round in their application name."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url
    named = parsed.update_query_dict({"application_name": f"parley-durability-{number}"})
    return named.render_as_string(hide_password=False)


def _await_server_sessions(url: str, number: int) -> None:
    """Wait for the killed writer's PostgreSQL sessions to end. A COMMIT the writer sent just
    before it died is still carried out by the server; the store is checked once it is done,
    or the check's statements would each see a different moment (one before that commit, the
    next after it)."""
    if make_url(url).get_backend_name() != "postgresql":
        return
    engine = create_engine(url)
    query = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name")
    try:
        deadline = time.monotonic() + TIMEOUT
        with engine.connect() as connection:
            while connection.execute(query, {"name": f"parley-durability-{number}"}).scalar():
                if time.monotonic() > deadline:
                    pytest.fail(f"the killed writer's sessions still run after {TIMEOUT} s")
                time.sleep(0.01)
                connection.rollback()  # the next look sees the sessions as they are then
    finally:
        engine.dispose()


def test_acknowledged_events_survive_kill_9(database_url: str) -> None:
    rng = random.Random(SEED)
    acked: list[str] = []
    for number in range(ROUNDS):
        acked += kill_round(database_url, number, rng)
        store = open_store(database_url)
        try:
            stored = check_store(store)
        finally:
            store.close()
        missing = [event for event in acked if event not in stored]
        assert missing == [], f"round {number}: acknowledged events lost"
    assert len(set(acked)) == len(acked)
