"""``parley serve --workers N``: connections balanced among the workers, a dead worker replaced,
all of them stopped together."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from uvicorn.config import STARTUP_FAILURE

from parley.api.workers import Tally, defers
from tests.api.servers import SERVE, Server, free_port, servers

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")


def test_a_worker_defers_to_a_sibling_with_fewer_connections() -> None:
    assert not defers(3, [])
    assert not defers(3, [3, 4])
    assert defers(4, [3, 9])
    assert not defers(0, [0])


def test_the_tally_shows_each_worker_the_others_that_serve(tmp_path: Path) -> None:
    tally = Tally.create(3, tmp_path)
    try:
        assert tally.others(0) == []  # nobody serves yet
        tally.set(1, 7)
        again = Tally(tally.path, 3)  # as another worker process maps it
        again.set(2, 0)
        assert tally.others(0) == [7, 0]
        assert again.others(1) == [0]
        again.close()
    finally:
        tally.remove()
    assert not tally.path.exists()


def test_connections_opened_together_are_shared_evenly_between_two_workers(
    tmp_path: Path,
) -> None:
    # Even, but for connections a worker took after waiting for a sibling busy elsewhere (the
    # tests run in parallel, and a sibling starved of the CPU cannot take its share in time); so
    # tries are repeated until one is even, or the second worker has had long enough to start.
    # Without balancing, one worker took all 24 every time.
    tries: list[list[int]] = []
    with served(tmp_path) as server:
        while len(tries) < 40:
            tries.append(_opened_together(server, 24))
            if len(tries[-1]) == 2 and max(tries[-1]) <= 16:
                break
            time.sleep(0.5)
    assert all(sum(counts) == 24 for counts in tries), tries
    assert len(tries[-1]) == 2 and max(tries[-1]) <= 16, tries


def _opened_together(server: Server, clients: int) -> list[int]:
    """Open ``clients`` connections, each answered once; how many each worker holds."""
    with ExitStack() as stack:
        opened = [stack.enter_context(_connection(server.url)) for _ in range(clients)]
        for client in opened:
            client.sendall(b"GET /api/health HTTP/1.1\r\nHost: test\r\n\r\n")
        for client in opened:
            assert client.recv(4096).startswith(b"HTTP/1.1 200")
        return sorted(_connections(server).values())


def test_a_worker_killed_is_replaced_and_the_server_keeps_answering(tmp_path: Path) -> None:
    with served(tmp_path) as server:
        first = _workers(server.process.pid)
        assert len(first) == 2
        os.kill(first[0], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = _workers(server.process.pid)
            if len(now) == 2 and first[0] not in now:
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"no new worker: {_workers(server.process.pid)}")
        for _ in range(6):  # fresh connections reach either worker
            assert httpx.get(server.url + "/api/health", timeout=10).status_code == 200
        workers = _workers(server.process.pid)
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=30) == 0
        assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]


def test_workers_stop_when_their_supervisor_is_killed(tmp_path: Path) -> None:
    with served(tmp_path) as server:
        workers = _workers(server.process.pid)
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
        deadline = time.monotonic() + 30
        while any(Path(f"/proc/{pid}").exists() for pid in workers):
            assert time.monotonic() < deadline, "the workers kept serving without a supervisor"
            time.sleep(0.2)


@contextmanager
def served(tmp_path: Path) -> Iterator[Server]:
    database = f"sqlite:///{tmp_path / 'parley.db'}"
    with servers(tmp_path / "home", database, 1, workers=2) as (server,):
        yield server


@contextmanager
def _connection(url: str) -> Iterator[socket.socket]:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        yield sock


def _workers(parent: int) -> list[int]:
    """The worker processes of a ``parley serve`` (not multiprocessing's resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat[1]) == parent and stat[0] != "Z" and b"spawn_main" in command:
                found.append(int(entry.name))
    return sorted(found)


def _connections(server: Server) -> dict[int, int]:
    """Each worker's established connections on the server's port."""
    port = int(server.url.rsplit(":", 1)[1])
    established = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":
            established.add(fields[9])
    counts = {}
    for pid in _workers(server.process.pid):
        inodes = set()
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        counts[pid] = len(inodes & established)
    return counts


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_database_that_cannot_be_reached_stops_the_server_before_it_says_it_serves(
    tmp_path: Path, workers: str
) -> None:
    """Checked once before any worker starts: the same exit code and reason for any number of
    workers, and no line claiming the server is serving."""
    command = [
        sys.executable,
        "-c",
        SERVE,
        "serve",
        "--port",
        str(free_port()),
        "--workers",
        workers,
    ]
    environ = {**os.environ, "PARLEY_HOME": str(tmp_path / "home"),
               "PARLEY_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none"}  # fmt: skip
    done = subprocess.run(command, env=environ, capture_output=True, text=True, timeout=120)
    assert done.returncode == 7  # the storage error's exit code
    assert "Connection refused" in done.stderr and "serves" not in done.stdout


def test_workers_that_cannot_start_stop_the_server_with_the_reason(tmp_path: Path) -> None:
    """The database is there for the check before the workers start, then gone for every
    worker (a worker's settings name one that refuses): the supervisor stops, saying so once
    and why, instead of starting workers forever."""
    gone = tmp_path / "gone"
    gone.mkdir()
    (gone / "sitecustomize.py").write_text(
        "import os, sys\n"
        "if any('multiprocessing-fork' in a for a in sys.argv):\n"
        "    os.environ['PARLEY_DATABASE_URL'] = 'postgresql+psycopg://nobody@127.0.0.1:9/none'\n"
    )
    command = [sys.executable, "-c", SERVE, "serve", "--port", str(free_port()), "--workers", "2"]
    environ = {**os.environ, "PARLEY_HOME": str(tmp_path / "home"), "PYTHONPATH": str(gone)}
    done = subprocess.run(command, env=environ, capture_output=True, text=True, timeout=120)
    assert done.returncode == STARTUP_FAILURE
    assert "Connection refused" in done.stderr  # the reason
    assert done.stderr.count("no worker could start; stopping") == 1
