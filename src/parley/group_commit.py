"""Group commit: concurrent submissions in one process share one transaction and one flush.

Each durable commit costs a disk flush, and the log lock is held until it is done, so events
committed one by one are bounded by flushes per second. Here the first submitter to arrive leads:
it takes every event waiting (up to ``max_batch``), stores them with ``Services.submit_batch``
in one transaction, hands each submitter its own receipt or error, and passes the lead to the next
waiting submitter. Under load many events share a flush; alone, an event is committed at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from parley.core.event import SignedEvent
from parley.errors import ParleyError, StorageError
from parley.services import Receipt, Services


@dataclass
class _Ticket:
    event: SignedEvent
    result: Receipt | ParleyError | None = None
    wake: threading.Event = field(default_factory=threading.Event)


class GroupCommit:
    """A thread-safe ``submit`` that batches concurrent submissions (see the module docstring)."""

    def __init__(self, services: Services, max_batch: int = 64) -> None:
        self.services = services
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Ticket] = []
        self._leading = False

    def submit(self, event: SignedEvent) -> Receipt:
        """Store ``event`` durably; raise its error if the rules or the store refuse it."""
        ticket = _Ticket(event)
        with self._lock:
            self._queue.append(ticket)
            lead = not self._leading
            self._leading = True
        while ticket.result is None:
            if lead:
                self._run_batch()
            ticket.wake.wait()
            if ticket.result is None:  # woken to take the lead, not with a result
                ticket.wake.clear()
                lead = True
        if isinstance(ticket.result, ParleyError):
            raise ticket.result
        return ticket.result

    def _run_batch(self) -> None:
        with self._lock:
            batch = self._queue[: self.max_batch]
            del self._queue[: len(batch)]
        results = self._store(batch)
        for ticket, result in zip(batch, results, strict=True):
            ticket.result = result
            ticket.wake.set()
        with self._lock:
            if self._queue:
                self._queue[0].wake.set()  # the next in line leads
            else:
                self._leading = False

    def _store(self, batch: list[_Ticket]) -> list[Receipt | ParleyError]:
        try:
            return self.services.submit_batch([t.event for t in batch])
        except ParleyError as exc:
            return [exc] * len(batch)
        except Exception as exc:  # a driver failure must not leave submitters waiting forever
            error = StorageError(f"the store failed: {type(exc).__name__}")
            return [error] * len(batch)
