"""The ``/api`` resources: login, negotiations, events, state, versions, redlines, bundles.

Handlers parse, call the services (through ``access.Views`` for what a caller may see), and
serialize; the rules live in the core. Responses that carry stored data are written directly as
JSON (the models in ``schemas`` document them), so large event lists are not copied through
pydantic on the way out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from parley.api import access, live
from parley.api import schemas as s
from parley.api.context import Caller, Ctx, anyone, new_session
from parley.api.login import COOKIE
from parley.core import bundle, redline, redline_render, textformat
from parley.core import text as text_model
from parley.core.canonical import MAX_SAFE_INTEGER, Tag
from parley.core.event import event_from_json
from parley.services import Receipt

router = APIRouter(prefix="/api")

ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 422, 429, 503)
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": s.ErrorBody, "description": "An error (see docs/api.md)."}
    for status in ERROR_STATUSES
}
"""Every route may answer with these, each with the standard error body."""

NegotiationId = Annotated[str, Path(description="The negotiation id (64 hex digits).")]
Since = Annotated[int, Query(ge=0, le=MAX_SAFE_INTEGER, description="First sequence number.")]
Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many events.")]
HashRef = Annotated[str, Query(min_length=1, max_length=64, description="A hash or its prefix.")]


NOSNIFF = {"X-Content-Type-Options": "nosniff"}
"""Every answer is what its Content-Type says: a browser must not guess HTML in it."""
STANDALONE_PAGE = {
    **NOSNIFF,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'",
}
"""A complete HTML page the API serves (a redline): its own styles, no scripts, nothing loaded."""


def json_response(value: object, status: int = 200) -> Response:
    """Stored data as JSON (already checked text: NFC, no lone surrogates)."""
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(data, status, headers=NOSNIFF, media_type="application/json")


def text_response(
    text: str,
    media_type: str = "text/plain; charset=utf-8",
    headers: Mapping[str, str] = NOSNIFF,
) -> Response:
    """Text in UTF-8."""
    return Response(text.encode(), headers=headers, media_type=media_type)


def _content(media: dict[str, Any], model: type[BaseModel] | None = None) -> dict[int | str, Any]:
    """A 200 answer in several media types; ``model`` is the JSON one (documented, for clients
    and schema tests)."""
    answer: dict[str, Any] = {"description": "OK", "content": dict(media)}
    if model is not None:
        answer["model"] = model
    return {200: answer, **ERRORS}


_TEXT = {"text/plain": {"schema": {"type": "string"}}}
_SSE_EVENT = {
    "type": "object",
    "description": "One server-sent event; its data is JSON: negotiation, seq and head.",
    "properties": {
        "id": {"type": "string"},
        "event": {"type": "string"},
        "data": {"type": "string", "contentMediaType": "application/json"},
        "retry": {"type": "integer"},
    },
}


# --- login ---------------------------------------------------------------------------------------


@router.post(
    "/login/challenge",
    response_model=s.ChallengeOut,
    responses=ERRORS,
    dependencies=[Depends(anyone)],
)
def login_challenge(ctx: Ctx) -> Response:
    """A challenge to sign with a participant key (valid for a couple of minutes)."""
    challenge = ctx.sessions.challenge()
    return json_response(
        {
            "challenge": challenge.value,
            "server": challenge.server,
            "expires": challenge.expires,
            "tag": Tag.LOGIN.value,
        }
    )


@router.post(
    "/login",
    response_model=s.SessionOut,
    responses=ERRORS,
    dependencies=[Depends(anyone), Depends(new_session)],
)
def login(payload: s.LoginIn, ctx: Ctx) -> Response:
    """Exchange a signed challenge for a session (bearer token and HttpOnly cookie)."""
    session = ctx.sessions.login(payload.vkey, payload.challenge, payload.signature)
    response = json_response(
        {"token": session.token, "vkey": session.vkey, "expires": session.expires}
    )
    response.set_cookie(
        COOKIE,
        session.token,
        max_age=ctx.settings.session_seconds,
        path="/",
        httponly=True,
        samesite="strict",
        secure=ctx.settings.secure_cookies,
    )
    return response


@router.post("/logout", status_code=204, responses=ERRORS, dependencies=[Depends(anyone)])
def logout(ctx: Ctx) -> Response:
    """Forget the browser's session cookie (a bearer token simply expires)."""
    response = Response(status_code=204)
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="strict", secure=ctx.settings.secure_cookies
    )
    return response


@router.get("/session", response_model=s.WhoAmI, responses=ERRORS)
def whoami(who: Caller) -> Response:
    """The key this session stands for, and until when."""
    return json_response({"vkey": who.vkey, "expires": who.expires})


@router.get("/health", response_model=s.Health, responses=ERRORS)
def health() -> Response:
    """The process answers (for load balancers; does not touch the database)."""
    return json_response({"status": "ok"})


# --- negotiations --------------------------------------------------------------------------------


@router.get("/negotiations", response_model=s.NegotiationsOut, responses=ERRORS)
def list_negotiations(ctx: Ctx, who: Caller) -> Response:
    """The negotiations whose charter lists the caller's key, most recently active first."""
    mine = []
    for row in ctx.services.negotiations():
        codes = access.codes_for(ctx.views.charter(row.id), who.key)
        if codes:
            mine.append(
                {
                    "id": row.id,
                    "title": row.title,
                    "phase": row.phase,
                    "seq": row.seq,
                    "head": row.head,
                    "created": row.created,
                    "updated": row.updated,
                    "codes": list(codes),
                }
            )
    return json_response({"negotiations": mine})


@router.post("/negotiations", status_code=201, response_model=s.Receipt, responses=ERRORS)
async def open_negotiation(payload: s.EventIn, ctx: Ctx, who: Caller) -> Response:
    """Convene a negotiation: submit its charter event, signed by a mediator named in it."""
    event = event_from_json(payload.model_dump())
    access.check_convener(event, who.key)
    return json_response(receipt_json(await ctx.submit(event)), 201)


@router.get("/negotiations/{negotiation}", response_model=s.StateOut, responses=ERRORS)
def get_state(negotiation: NegotiationId, ctx: Ctx, who: Caller) -> Response:
    """Where the negotiation stands, folded from the events as the caller may read them."""
    seat = ctx.views.seat(negotiation, who.key)
    return document_response(ctx.views.state_document(seat))


def document_response(document: bytes) -> Response:
    """A JSON document made beforehand."""
    return Response(document, headers=NOSNIFF, media_type="application/json")


@router.get("/negotiations/{negotiation}/events", response_model=s.EventsOut, responses=ERRORS)
def list_events(
    negotiation: NegotiationId, ctx: Ctx, who: Caller, since: Since = 0, limit: Limit = 1000
) -> Response:
    """Signed events from ``since`` on; bodies only where the caller is in the audience."""
    seat = ctx.views.seat(negotiation, who.key)
    events = ctx.views.events(seat, since, limit)
    return json_response(
        {"negotiation": negotiation, "since": since, "events": [e.to_json() for e in events]}
    )


@router.post(
    "/negotiations/{negotiation}/events",
    status_code=201,
    response_model=s.Receipt,
    responses=ERRORS,
)
async def submit_event(
    negotiation: NegotiationId, payload: s.EventIn, ctx: Ctx, who: Caller
) -> Response:
    """Submit a move, signed by its author (the caller) on the author's own device."""
    seat = await ctx.views.seat_async(negotiation, who.key)
    event = event_from_json(payload.model_dump())
    access.check_author(seat, event)
    return json_response(receipt_json(await ctx.submit(event)), 201)


def receipt_json(receipt: Receipt) -> dict[str, object]:
    """The answer to an accepted submission."""
    return {
        "negotiation": receipt.state.negotiation,
        "event": receipt.event.hash,
        "seq": receipt.event.envelope.seq,
        "log_index": receipt.log_index,
        "phase": receipt.state.phase.value,
        "head": receipt.state.head,
    }


@router.get(
    "/negotiations/{negotiation}/events/{event}/proof",
    responses=_content(_TEXT),
    response_class=Response,
)
def event_proof(negotiation: NegotiationId, event: str, ctx: Ctx, who: Caller) -> Response:
    """A c2sp.org/tlog-proof that the event is in the log, against the latest checkpoint."""
    seat = ctx.views.seat(negotiation, who.key)
    return text_response(ctx.services.proof(ctx.views.event(seat, event)))


@router.get(
    "/negotiations/{negotiation}/stream",
    response_class=Response,
    responses=_content({"text/event-stream": {"schema": _SSE_EVENT}}),
)
def stream(negotiation: NegotiationId, request: Request, ctx: Ctx, who: Caller) -> Response:
    """Server-sent events: the new sequence number whenever the negotiation moves."""
    seat = ctx.views.seat(negotiation, who.key)
    return live.response(ctx, seat, request.headers.get("last-event-id"), who.expires)


# --- texts ---------------------------------------------------------------------------------------


@router.get(
    "/negotiations/{negotiation}/versions/{version}",
    response_class=Response,
    responses=_content(_TEXT, s.VersionOut),
)
def get_version(
    negotiation: NegotiationId,
    version: str,
    ctx: Ctx,
    who: Caller,
    fmt: Annotated[s.TextFormat, Query(alias="format")] = s.TextFormat.JSON,
) -> Response:
    """A version's text: canonical JSON (hashed to the version) or the human text format."""
    seat = ctx.views.seat(negotiation, who.key)
    full, found = ctx.views.text(seat, version)
    if fmt is s.TextFormat.TEXT:
        return text_response(textformat.render(found))
    return json_response(
        {"negotiation": negotiation, "version": full, "text": text_model.to_json(found)}
    )


_REDLINE_MEDIA = {
    "application/json": {"schema": {"type": "object"}},
    "text/html": {"schema": {"type": "string"}},
    "text/markdown": {"schema": {"type": "string"}},
}


@router.get(
    "/negotiations/{negotiation}/redline",
    response_class=Response,
    responses=_content(_REDLINE_MEDIA),
)
def get_redline(
    negotiation: NegotiationId,
    old: HashRef,
    new: HashRef,
    ctx: Ctx,
    who: Caller,
    fmt: Annotated[s.RedlineFormat, Query(alias="format")] = s.RedlineFormat.JSON,
) -> Response:
    """What changed between two versions the caller can read: JSON, HTML or Markdown."""
    seat = ctx.views.seat(negotiation, who.key)
    compared = redline.compare(ctx.views.text(seat, old)[1], ctx.views.text(seat, new)[1])
    if fmt is s.RedlineFormat.HTML:
        page = redline_render.to_html(compared)
        return text_response(page, "text/html; charset=utf-8", STANDALONE_PAGE)
    if fmt is s.RedlineFormat.MARKDOWN:
        return text_response(redline_render.to_markdown(compared), "text/markdown; charset=utf-8")
    return json_response(redline_render.to_json(compared))


# --- the agreement -------------------------------------------------------------------------------


@router.get(
    "/negotiations/{negotiation}/bundle",
    response_class=Response,
    responses=_content({"application/json": {"schema": {"type": "object"}}}),
)
def get_bundle(negotiation: NegotiationId, ctx: Ctx, who: Caller) -> Response:
    """The agreement bundle: one file that `parley verify` checks offline."""
    seat = ctx.views.seat(negotiation, who.key)
    data = ctx.services.bundle(seat.negotiation)
    filename = f"parley-{negotiation[:12]}.bundle.json"
    return Response(
        data,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


_BUNDLE_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"type": "object"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
}


@router.post(
    "/verify",
    response_model=s.ReportOut,
    responses=ERRORS,
    dependencies=[Depends(anyone)],
    openapi_extra={"requestBody": _BUNDLE_BODY},
)
async def verify(request: Request) -> Response:
    """Check an agreement bundle as `parley verify` does: bad input is a report, not an error."""
    data = await request.body()
    report = await run_in_threadpool(bundle.check_bundle, data)
    return json_response(report.to_json())
