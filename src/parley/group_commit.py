"""Group commit: concurrent submissions in one process share one transaction and one flush.

Each durable commit costs a disk flush, and the log lock is held until it is done, so events
committed one by one are bounded by flushes per second. Submissions are batched (``Batcher``):
the next batch takes every event waiting and stores them with ``Services.submit_batch`` in one
transaction. Each submitter gets its own receipt or error. Under load many events share a flush
and one hop to a thread; alone, an event is committed at once. After a large batch, the next
waits a moment (at most ``LINGER_SECONDS``) for the submitters just answered to send their next
events, so that they are not split into groups that alternate, each paying for a commit.
"""

from __future__ import annotations

from collections.abc import Sequence

from parley.batching import Batcher
from parley.core.event import SignedEvent
from parley.errors import ParleyError
from parley.services import Receipt, Services

UNSURE = "the server stopped before confirming: check the log, resend"
"""An event of the batch in flight may still be stored: its author finds it in the log."""


LINGER_SECONDS = 0.002
"""How long a commit may wait for the submitters just answered to come back (``Batcher``)."""


class GroupCommit(Batcher[SignedEvent, Receipt]):
    """Batches the submissions made on one event loop (see the module docstring)."""

    def __init__(
        self, services: Services, max_batch: int = 64, linger: float = LINGER_SECONDS
    ) -> None:
        super().__init__(self._store, UNSURE, max_batch, linger)
        self.services = services

    async def submit(self, event: SignedEvent) -> Receipt:
        """Store ``event`` durably; raise its error if the rules or the store refuse it."""
        return await self.ask(event)

    def _store(self, events: list[SignedEvent]) -> Sequence[Receipt | ParleyError]:
        return self.services.submit_batch(events)
