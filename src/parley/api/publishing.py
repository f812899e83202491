"""Publishing checkpoints on a clock, so that log witnesses see the log grow without anyone
asking for a proof.

A checkpoint is signed and sent to the log witnesses (local and remote) when the log has grown
since the last one, or when a remote witness that missed it is due again; otherwise ``publish``
changes nothing. Every API process runs its own clock: the first to publish a size stores it, the
others find it stored. A failure is logged and tried again at the next tick; it never stops the
server.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi.concurrency import run_in_threadpool

from parley.errors import ParleyError
from parley.services import Services

log = logging.getLogger(__name__)


async def publish_every(services: Services, seconds: float) -> None:
    """Publish every ``seconds`` until cancelled (off the event loop: witnesses may be slow)."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await run_in_threadpool(services.publish)
        except ParleyError as exc:  # the database away, say: tried again at the next tick
            log.warning("publishing a checkpoint failed: %s", exc)
        except Exception:  # a fault of this program: its traceback, for the operator
            log.exception("publishing a checkpoint failed")
