"""Live updates as server-sent events: "the negotiation moved to event N; fetch what is new".

A stream says only *that* something changed (the new sequence number and head hash), never
what: the client fetches the events it may read, so the stream needs no redaction. It works
across any number of API processes because it watches the negotiation's row in the shared store
rather than anything kept in a process. Every stream of a process looks on the same ticks of the
clock (every ``poll_seconds``), so their looks are answered together: one query per tick for
up to 512 open streams (``Context.position``). A comment line is sent as a heartbeat when nothing
happens, so proxies keep the connection open. The stream ends
after ``max_seconds`` (sooner if the session expires); an EventSource reconnects by itself,
sending ``Last-Event-ID`` so it is not told again about a number it has seen.

Wire format, one message per change::

    id: 42
    data: {"negotiation": "7f3a…", "seq": 42, "head": "c0ff…"}
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator

from starlette.responses import StreamingResponse

from parley.api.access import Seat
from parley.api.context import Context

RETRY_MS = 2000
"""How long an EventSource waits before reconnecting (sent once at the start)."""

_DECIMAL = re.compile(r"[0-9]{1,18}")
"""A ``Last-Event-ID`` this server sent: ASCII digits; anything else is ignored."""


def response(
    ctx: Context, seat: Seat, last_event_id: str | None, session_ends: int
) -> StreamingResponse:
    """The event stream for one negotiation; it ends when the session does, if that is sooner."""
    seen = int(last_event_id) if last_event_id and _DECIMAL.fullmatch(last_event_id) else None
    seconds = min(ctx.settings.live.max_seconds, max(0.0, session_ends - time.time()))
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    stream = changes(ctx, seat.negotiation, seen, seconds)
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)


async def changes(
    ctx: Context, negotiation: str, seen: int | None, seconds: float
) -> AsyncIterator[bytes]:
    """Messages as the sequence number moves, heartbeats between; ends after ``seconds``."""
    live = ctx.settings.live
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    beat = loop.time() + live.heartbeat_seconds
    yield f"retry: {RETRY_MS}\n\n".encode()
    while loop.time() < end:
        seq, head = await ctx.position(negotiation)
        if seq != seen:
            seen = seq
            beat = loop.time() + live.heartbeat_seconds
            yield message(negotiation, seq, head)
        elif loop.time() >= beat:
            beat = loop.time() + live.heartbeat_seconds
            yield b": heartbeat\n\n"
        await asyncio.sleep(until_tick(loop.time(), live.poll_seconds))


def until_tick(now: float, every: float) -> float:
    """Seconds from ``now`` to the next multiple of ``every`` (a full period if on one)."""
    return every - now % every


def message(negotiation: str, seq: int, head: str) -> bytes:
    """One server-sent event."""
    data = json.dumps({"negotiation": negotiation, "seq": seq, "head": head})
    return f"id: {seq}\ndata: {data}\n\n".encode()
