"""Group commit: concurrent submissions in one process share one transaction and one flush.

Each durable commit costs a disk flush, and the log lock is held until it is done, so events
committed one by one are bounded by flushes per second. Here a submission waits on the event loop
(no thread of its own); while a batch is being stored in a worker thread, new submissions queue up,
and the next batch takes every event waiting (up to ``max_batch``) and stores them with
``Services.submit_batch`` in one transaction. Each submitter gets its own receipt or error. Under
load many events share a flush and one hop to a thread; alone, an event is committed at once.
"""

from __future__ import annotations

import asyncio

from parley.core.event import SignedEvent
from parley.errors import ParleyError, StorageError
from parley.services import Receipt, Services

Outcome = Receipt | ParleyError
Waiting = list[tuple[SignedEvent, "asyncio.Future[Receipt]"]]


class GroupCommit:
    """Batches the submissions made on one event loop (see the module docstring)."""

    def __init__(self, services: Services, max_batch: int = 64) -> None:
        self.services = services
        self.max_batch = max_batch
        self._queue: Waiting = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, event: SignedEvent) -> Receipt:
        """Store ``event`` durably; raise its error if the rules or the store refuse it."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Receipt] = loop.create_future()
        self._queue.append((event, future))
        if self._writer is None:
            self._writer = loop.create_task(self._write())
        return await future

    async def _write(self) -> None:
        """Store batches until the queue is empty; each batch in one worker thread call."""
        from anyio import to_thread

        batch: Waiting = []
        try:
            while self._queue:
                batch = self._queue[: self.max_batch]
                del self._queue[: len(batch)]
                events = [event for event, _ in batch]
                results = await to_thread.run_sync(self._store, events)
                for (_, future), result in zip(batch, results, strict=True):
                    _settle(future, result)
        finally:
            self._writer = None
            # Cancelled (the server is stopping): nobody may wait forever. An event of the batch
            # in flight may still be stored: its author finds it in the log and does not resend.
            unsure = StorageError("the server stopped before confirming: check the log, resend")
            for _, future in batch + self._queue:
                _settle(future, unsure)
            self._queue.clear()

    def _store(self, events: list[SignedEvent]) -> list[Outcome]:
        try:
            return self.services.submit_batch(events)
        except ParleyError as exc:
            return [exc] * len(events)
        except Exception as exc:  # a driver failure must not leave submitters waiting forever
            error = StorageError(f"the store failed: {type(exc).__name__}")
            return [error] * len(events)


def _settle(future: asyncio.Future[Receipt], result: Outcome) -> None:
    if future.done():  # the submitter went away; what was stored stays stored
        return
    if isinstance(result, ParleyError):
        future.set_exception(result)
    else:
        future.set_result(result)
