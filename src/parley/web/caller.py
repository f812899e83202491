"""The caller: its session key, and its seat and view in one negotiation.

A participant sees exactly what the API shows it (``parley.api.access.Views``); anyone else
gets the same 404 as for an id that was never used.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from starlette.exceptions import HTTPException as StarletteHTTPException

from parley.api.access import Seat, missing
from parley.api.context import Context
from parley.api.login import COOKIE
from parley.core.charter import Participant
from parley.core.event import SignedEvent
from parley.core.keys import PublicKey
from parley.core.prefix import complete_hash
from parley.core.protocol import State
from parley.core.text import Text
from parley.errors import (
    NotFoundError,
    ParleyError,
)
from parley.web.forms import Form


def context_of(request: Request) -> Context:
    found = request.app.state.context
    assert isinstance(found, Context)
    return found


def session_key(request: Request) -> PublicKey | None:
    """The key of the browser's session (its cookie), or None when not logged in; checked once
    a request (the rate limit and the page both ask)."""
    if hasattr(request.state, "session_key"):
        known: PublicKey | None = request.state.session_key
        return known
    request.state.session_key = key = _checked_key(request)
    return key


def _checked_key(request: Request) -> PublicKey | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        return context_of(request).sessions.session(token).key
    except (StarletteHTTPException, ParleyError):
        return None


@dataclass(frozen=True, slots=True)
class Room:
    """The caller's view of one negotiation: its seat, the state it may see, who it is there."""

    ctx: Context
    seat: Seat
    state: State
    me: Participant
    key: PublicKey

    @property
    def nid(self) -> str:
        return self.state.negotiation

    def events(self) -> list[SignedEvent]:
        """The events as this caller may read them."""
        return self.ctx.views.events(self.seat, 0)

    def text(self, version: str) -> Text:
        """A version the caller can read; the same 404 for one it cannot."""
        found = self.state.texts.get(version)
        if found is None:
            raise NotFoundError(f"no version {version[:16]} that you can read here")
        return found

    def version(self, typed: str) -> str:
        """The full hash of a version the caller can read, from its first digits as shown."""
        try:
            return complete_hash(self.state.texts, typed, "version")
        except NotFoundError:
            raise NotFoundError(f"no version {typed[:16]} that you can read here") from None


def room_of(request: Request, nid: str) -> Room:
    ctx = context_of(request)
    key = session_key(request)
    if key is None:
        raise missing(nid)
    seat = ctx.views.seat(nid, key)
    state = ctx.views.state(seat)
    me = state.charter.participant(seat.code)
    assert me is not None
    return Room(ctx, seat, state, me, key)


def form_version(room: Room, form: Form, name: str = "version") -> str:
    version = form.required(name, "a version")
    room.text(version)
    return version
