"""The fast lane for the busiest requests: a signed event posted by its author, a state read.

``POST /api/negotiations/{id}/events`` and ``GET /api/negotiations/{id}`` are documented,
validated and answered by their routes (``routes.submit_event``, ``routes.get_state``). Under load
most of their time went to the framework (routing, dependency solving, model validation) rather
than to the work itself, so this ASGI layer, in front of all of FastAPI's own
(``app.ParleyAPI``), takes the ordinary case first: a valid session,
a participant of the negotiation, a rate token to spend and, for a submission, a JSON body within
the limits holding a well-formed event by the caller. Anything else (no session, a malformed
body, a stranger, a caller out of tokens) is handed on untouched, body included, to the route,
which gives the one documented answer. What happens here is only the work itself, through the
same functions the routes call (``Context.submit``, ``Views.state_document``), answered with the
same document or with the error from the same error table.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.security.utils import get_authorization_scheme_param
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parley.api import access, errors
from parley.api.auth import Session
from parley.api.context import Context
from parley.api.limits import is_json, read_json
from parley.api.login import COOKIE
from parley.api.routes import document_response, json_response, receipt_json
from parley.core.event import SignedEvent, event_from_json
from parley.errors import ParleyError

EVENTS = re.compile(r"/api/negotiations/([0-9a-f]{64})/events")
STATE = re.compile(r"/api/negotiations/([0-9a-f]{64})")


class Intake:
    """ASGI layer: submissions and state reads answered directly (see the module docstring)."""

    def __init__(self, app: ASGIApp, context: Context) -> None:
        self.app = app
        self.ctx = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            method, path = scope["method"], scope["path"]
            if method == "POST" and (found := EVENTS.fullmatch(path)):
                await self._submission(found[1], scope, receive, send)
                return
            if method == "GET" and (found := STATE.fullmatch(path)):
                await self._state(found[1], scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _submission(
        self, negotiation: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        headers = _headers(scope)
        declared = headers.get("content-length", "")
        if not (declared.isdigit() and int(declared) <= self.ctx.settings.limits.max_body_bytes):
            await self.app(scope, receive, send)  # the route says what is wrong with it
            return
        received, body = await _read(receive)
        event = await self._event(negotiation, headers, body)
        if event is None:
            await self.app(scope, _replay(received, receive), send)
            return
        try:
            answer = json_response(receipt_json(await self.ctx.submit(event)), 201)
        except ParleyError as exc:
            answer = errors.parley_error_response(exc, scope["method"], scope["path"])
        except Exception:  # as the route's error handler answers it
            answer = errors.unexpected_response(scope["method"], scope["path"])
        await answer(scope, receive, send)

    async def _event(
        self, negotiation: str, headers: dict[str, str], body: bytes | None
    ) -> SignedEvent | None:
        """The event to submit now, or None: the route is to answer this request."""
        if body is None or not is_json(headers.get("content-type", "")):
            return None
        value, problem = read_json(body, self.ctx.settings.limits.max_json_depth)
        if problem is not None or not well_formed(value):
            return None
        seated = await self._seat(negotiation, headers)
        if seated is None:
            return None
        try:
            event = event_from_json(value)
            access.check_author(seated[1], event)
        except Exception:  # whatever it is, the route finds it again and answers it
            return None
        return event if self._spend(seated[0]) else None

    async def _state(self, negotiation: str, scope: Scope, receive: Receive, send: Send) -> None:
        seated = await self._seat(negotiation, _headers(scope))
        if seated is None or not self._spend(seated[0]):
            await self.app(scope, receive, send)
            return
        try:
            answer = document_response(await self.ctx.state_document(seated[1]))
        except ParleyError as exc:
            answer = errors.parley_error_response(exc, scope["method"], scope["path"])
        except Exception:  # as the route's error handler answers it
            answer = errors.unexpected_response(scope["method"], scope["path"])
        await answer(scope, receive, send)

    async def _seat(
        self, negotiation: str, headers: dict[str, str]
    ) -> tuple[Session, access.Seat] | None:
        """The caller's session and seat, or None: the route is to answer this request."""
        token = _token(headers)
        if token is None:
            return None
        try:
            session = self.ctx.sessions.session(token)
            return session, await self.ctx.views.seat_async(negotiation, session.key)
        except Exception:  # whatever it is, the route finds it again and answers it
            return None

    def _spend(self, session: Session) -> bool:
        """Take one of the caller's rate tokens; False if there is none (the route says so)."""
        return self.ctx.limiter.take("key:" + session.vkey) <= 0


def well_formed(value: Any) -> bool:
    """What the route's request model demands beyond ``event_from_json``: a body is present."""
    return isinstance(value, dict) and isinstance(value.get("body"), dict)


def _headers(scope: Scope) -> dict[str, str]:
    """Header names and values; the first of repeated headers, as Starlette's ``get`` gives."""
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        found.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return found


def _token(headers: dict[str, str]) -> str | None:
    """The session token as the route's dependencies find it: a bearer token, else the cookie."""
    authorization = headers.get("authorization")
    if authorization:
        scheme, credentials = get_authorization_scheme_param(authorization)
        if scheme.lower() == "bearer" and credentials:
            return credentials
    cookie = headers.get("cookie")
    return (cookie_parser(cookie).get(COOKIE) or None) if cookie else None


async def _read(receive: Receive) -> tuple[list[Message], bytes | None]:
    """The messages received and the whole body (None if the client went away first)."""
    received: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        received.append(message)
        if message["type"] != "http.request":
            return received, None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return received, b"".join(chunks)


def _replay(received: list[Message], receive: Receive) -> Receive:
    """A receive that hands on the messages already taken, then listens on."""
    pending = list(received)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay
