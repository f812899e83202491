"""What every request handler is given: the process's services and helpers, and the caller.

One ``Context`` per process, built by ``create_app`` and kept on ``app.state``; the dependencies
below hand it, and the caller's session, to the route handlers, and spend the caller's rate.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Annotated
from weakref import WeakKeyDictionary

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from parley.api.access import Seat, Views
from parley.api.auth import Session, Sessions
from parley.api.errors import rate_limited, unauthenticated
from parley.api.limits import RateLimiter
from parley.api.login import COOKIE
from parley.api.settings import Settings
from parley.batching import Batcher
from parley.core.event import SignedEvent
from parley.core.witness import Witness
from parley.group_commit import GroupCommit
from parley.services import Receipt, Services


@dataclass
class Context:
    """The process-wide parts of the application."""

    settings: Settings
    services: Services
    sessions: Sessions
    limiter: RateLimiter
    views: Views
    witness: Witness | None
    logins: RateLimiter
    """Sessions opened per address (``Limits.logins_per_minute``)."""
    _lanes: WeakKeyDictionary[asyncio.AbstractEventLoop, Lanes] = field(
        default_factory=WeakKeyDictionary
    )

    async def submit(self, event: SignedEvent) -> Receipt:
        """Store a signed event; concurrent submissions in this process share one commit.

        The database serialises log appends anyway; one writer per event loop (a server process
        has one), batching whatever arrived meanwhile (``GroupCommit``), keeps waits short and
        fair and the disk flushes few.
        """
        return await self._lanes_here().commits.submit(event)

    async def state_document(self, seat: Seat) -> bytes:
        """``Views.state_document`` from the event loop; concurrent reads share one transaction."""
        return await self._lanes_here().states.ask(seat)

    async def position(self, negotiation: str) -> tuple[int, str]:
        """A negotiation's sequence number and head; the live streams of a process, polling
        together, share one query."""
        return await self._lanes_here().positions.ask(negotiation)

    def _lanes_here(self) -> Lanes:
        loop = asyncio.get_running_loop()
        lanes = self._lanes.get(loop)
        if lanes is None:
            lanes = self._lanes[loop] = Lanes(
                GroupCommit(self.services),
                Batcher(self.views.state_documents, STOPPED),
                Batcher(self.services.positions, STOPPED, max_batch=512),
            )
        return lanes


@dataclass(frozen=True)
class Lanes:
    """The batches of one event loop: submissions (committed together), state reads and the
    live streams' polls."""

    commits: GroupCommit
    states: Batcher[Seat, bytes]
    positions: Batcher[str, tuple[int, str]]


STOPPED = "the server stopped: ask again"


async def context(request: Request) -> Context:
    """The application's context."""
    found = request.app.state.context
    assert isinstance(found, Context)
    return found


_bearer = HTTPBearer(auto_error=False, description="A session token from POST /api/login.")
_cookie = APIKeyCookie(name=COOKIE, auto_error=False, description="The browser's session.")


def _spend(ctx: Context, caller: str) -> None:
    wait = ctx.limiter.take(caller)
    if wait > 0:
        raise rate_limited(wait)


def address_of(request: Request) -> str:
    """The rate bucket of a caller with no session: its address."""
    return "addr:" + (request.client.host if request.client else "unknown")


async def anyone(request: Request, ctx: Annotated[Context, Depends(context)]) -> None:
    """A request that needs no session: rate-limited by client address."""
    _spend(ctx, address_of(request))


async def new_session(request: Request, ctx: Annotated[Context, Depends(context)]) -> None:
    """A login: also bounded per address by the sessions it may open (``Context.logins``)."""
    wait = ctx.logins.take(address_of(request))
    if wait > 0:
        raise rate_limited(wait)


async def caller(
    request: Request,
    ctx: Annotated[Context, Depends(context)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Session:
    """The session of the caller (bearer token first, then the cookie), or 401."""
    token = bearer.credentials if bearer is not None else cookie
    if not token:
        _spend(ctx, address_of(request))
        raise unauthenticated("log in first: POST /api/login/challenge, then POST /api/login")
    try:
        session = ctx.sessions.session(token)
    except Exception:
        _spend(ctx, address_of(request))
        raise
    _spend(ctx, "key:" + session.vkey)
    return session


Ctx = Annotated[Context, Depends(context)]
Caller = Annotated[Session, Depends(caller)]
