"""Worker processes for ``parley serve --workers N``, with open connections balanced among them.

A keep-alive connection stays with the worker that accepted it. With uvicorn's own workers all
accept from one shared socket, and whichever is awake first takes every connection then waiting:
50 clients connecting together were seen split 41 to 9 and 36 to 14 between two workers, and the
busier one held the whole server back (submissions per second swung by half from one run to the
next). Here each worker accepts by itself, by the least-connections rule (as Envoy's exact
connection balance and nginx's accept throttling): a worker with more open connections than a
sibling leaves a waiting connection to it, and takes it anyway after ``DEFER_SECONDS``, so that
a busy, hung or restarting sibling never leaves a client waiting long.

The counts are in a small shared file (``Tally``): one slot a worker, written by its worker,
read by the others. The supervisor starts the workers, restarts one that dies, and stops them
all on SIGINT, SIGTERM or SIGHUP; a worker whose supervisor is gone (killed) stops too.
"""

from __future__ import annotations

import asyncio
import logging
import mmap
import multiprocessing
import os
import signal
import socket
import struct
import sys
import tempfile
import threading
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from parley.errors import ParleyError

DEFER_SECONDS = 0.005
"""How long a worker with more connections than a sibling leaves a new one to that sibling."""

RETRY_SECONDS = 1.0
"""How long the supervisor waits before it starts again a worker that failed to start."""

STOP_SECONDS = 30.0
"""How long the supervisor waits for stopping workers before it kills them."""

_SLOT = struct.Struct("=q")
_ABSENT = -1

logger = logging.getLogger("uvicorn.error")


class Tally:
    """Each worker's open connections, in a file mapped into every worker (``_ABSENT``: none
    serving in that slot)."""

    def __init__(self, path: Path, slots: int) -> None:
        self.path = path
        self.slots = slots
        with path.open("r+b") as file:
            self._map = mmap.mmap(file.fileno(), slots * _SLOT.size)

    @classmethod
    def create(cls, slots: int, folder: Path | None = None) -> Tally:
        """A new tally with every slot absent."""
        fd, name = tempfile.mkstemp(prefix="parley-workers-", dir=folder)
        with os.fdopen(fd, "wb") as file:
            file.write(_SLOT.pack(_ABSENT) * slots)
        return cls(Path(name), slots)

    def set(self, slot: int, connections: int) -> None:
        _SLOT.pack_into(self._map, slot * _SLOT.size, connections)

    def get(self, slot: int) -> int:
        return int(_SLOT.unpack_from(self._map, slot * _SLOT.size)[0])

    def others(self, slot: int) -> list[int]:
        """The open connections of every other serving worker."""
        counts = (self.get(other) for other in range(self.slots) if other != slot)
        return [count for count in counts if count != _ABSENT]

    def close(self) -> None:
        self._map.close()

    def remove(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)


def defers(mine: int, others: Sequence[int]) -> bool:
    """Whether a worker with ``mine`` open connections leaves a new one to a sibling."""
    return any(other < mine for other in others)


class Acceptor:
    """Accepts connections on the shared socket for one worker (see the module docstring)."""

    def __init__(self, server: BalancedServer, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self.loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._starting: set[asyncio.Task[Any]] = set()
        self.loop.add_reader(sock.fileno(), self._ready)

    def starting(self) -> int:
        """Connections accepted whose protocol is not made yet."""
        return len(self._starting)

    def close(self) -> None:
        """Accept no more: the server is stopping."""
        with suppress(ValueError, OSError):  # the socket is closed already
            self.loop.remove_reader(self.sock.fileno())
        if self._timer is not None:
            self._timer.cancel()

    def _ready(self) -> None:
        while not self._defer():
            if not self._accept():
                return

    def _defer(self) -> bool:
        """Publish this worker's count; if a sibling has fewer, leave the socket to it for a
        moment, then take one connection anyway (if it is still waiting)."""
        mine = self.server.open_connections()
        self.server.publish(mine)
        if not defers(mine, self.server.siblings()):
            return False
        self.loop.remove_reader(self.sock.fileno())
        self._timer = self.loop.call_later(DEFER_SECONDS, self._take_one)
        return True

    def _take_one(self) -> None:
        self._timer = None
        self._accept()
        self.loop.add_reader(self.sock.fileno(), self._ready)

    def _accept(self) -> bool:
        """Accept one waiting connection; False if there is none (a sibling took it)."""
        try:
            conn, _ = self.sock.accept()
        except (BlockingIOError, InterruptedError):
            return False
        except OSError as exc:  # out of file descriptors, say: the next readiness tries again
            logger.error("accepting a connection failed: %s", exc)
            return False
        conn.setblocking(False)
        if conn.family in (socket.AF_INET, socket.AF_INET6):
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        task = self.loop.create_task(self._connect(conn))
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)
        return True

    async def _connect(self, conn: socket.socket) -> None:
        try:
            await self.loop.connect_accepted_socket(
                self.server.protocol, conn, ssl=self.server.config.ssl
            )
        except Exception as exc:  # the client went away during the TLS handshake, say
            logger.debug("a connection failed to start: %s", exc)
            conn.close()


class BalancedServer(uvicorn.Server):
    """A uvicorn server that accepts through an ``Acceptor`` and keeps its slot of the tally."""

    def __init__(self, config: uvicorn.Config, tally: Tally, slot: int) -> None:
        super().__init__(config)
        self.tally = tally
        self.slot = slot
        self.acceptors: list[Acceptor] = []
        self.parent = os.getppid()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])  # the lifespan, and no listener of uvicorn's own
        self.acceptors = [Acceptor(self, sock) for sock in sockets or []]
        self.publish(0)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for acceptor in self.acceptors:
            acceptor.close()
        await super().shutdown(sockets)

    async def on_tick(self, counter: int) -> bool:
        """Every tick (0.1 s): keep the published count current as connections close, and stop
        if the supervisor is gone (killed: nobody would stop or replace this worker)."""
        self.publish(self.open_connections())
        if os.getppid() != self.parent:
            self.should_exit = True
        return await super().on_tick(counter)

    def protocol(self) -> asyncio.Protocol:
        """A connection's HTTP protocol, as ``uvicorn.Server.startup`` makes it."""
        config = self.config
        made = config.http_protocol_class(  # type: ignore[call-arg]
            config=config, server_state=self.server_state, app_state=self.lifespan.state
        )
        assert isinstance(made, asyncio.Protocol)
        return made

    def open_connections(self) -> int:
        """Connections this worker serves, or has accepted and is about to."""
        return len(self.server_state.connections) + sum(a.starting() for a in self.acceptors)

    def publish(self, connections: int) -> None:
        self.tally.set(self.slot, connections)

    def siblings(self) -> list[int]:
        return self.tally.others(self.slot)


def _work(config: uvicorn.Config, sock: socket.socket, path: Path, slots: int, slot: int) -> None:
    """A worker process: serve until told to stop."""
    config.configure_logging()
    tally = Tally(path, slots)
    server = BalancedServer(config, tally, slot)
    failed = False
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    except SystemExit as exc:  # uvicorn said why
        failed = exc.code not in (0, None)
    except ParleyError as exc:  # the store cannot be opened, say: the reason, no traceback
        logger.error("%s", exc)
        failed = True
    except Exception:
        logger.exception("the worker failed")
        failed = True
    finally:
        tally.set(slot, _ABSENT)
        tally.close()
    if not server.started:
        sys.exit(STARTUP_FAILURE)  # the supervisor decides whether to try again
    sys.exit(1 if failed else 0)


class Supervisor:
    """Starts ``workers`` processes on one listening socket, restarts one that dies, stops all
    on SIGINT, SIGTERM or SIGHUP."""

    def __init__(self, config: uvicorn.Config, workers: int) -> None:
        self.config = config
        self.workers = workers
        self.stopping = threading.Event()
        self.failed = False
        self._context = multiprocessing.get_context("spawn")

    def run(self) -> int:
        """Serve until stopped; the exit status."""
        sock = self.config.bind_socket()
        sock.listen(self.config.backlog)
        tally = Tally.create(self.workers)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda *_: self.stopping.set())
        processes = [self._start(sock, tally, slot) for slot in range(self.workers)]
        try:
            while not self.stopping.wait(0.5):
                for slot, process in enumerate(processes):
                    if not process.is_alive():
                        processes[slot] = self._replace(process, sock, tally, slot)
        finally:
            _stop(processes)
            tally.remove()
            sock.close()
        return STARTUP_FAILURE if self.failed else 0

    def _start(self, sock: socket.socket, tally: Tally, slot: int) -> Any:
        process = self._context.Process(
            target=_work, args=(self.config, sock, tally.path, tally.slots, slot)
        )
        process.start()
        return process

    def _replace(self, process: Any, sock: socket.socket, tally: Tally, slot: int) -> Any:
        """A dead worker's successor. A worker that failed to start is tried again while a
        sibling serves (a passing failure); when none serves, every try would fail: stop."""
        tally.set(slot, _ABSENT)
        if self.stopping.is_set():
            return process
        if process.exitcode == STARTUP_FAILURE:
            if not any(tally.get(other) != _ABSENT for other in range(tally.slots)):
                logger.error("no worker could start; stopping")
                self.failed = True
                self.stopping.set()
                return process
            logger.warning("worker %s failed to start; trying again", process.pid)
            if self.stopping.wait(RETRY_SECONDS):
                return process
        else:
            logger.warning("worker %s died (exit code %s); starting another", process.pid,
                           process.exitcode)  # fmt: skip
        return self._start(sock, tally, slot)


def _stop(processes: list[Any]) -> None:
    for process in processes:
        if process.is_alive():
            with suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
    for process in processes:
        process.join(STOP_SECONDS)
        if process.is_alive():
            process.kill()
            process.join()
