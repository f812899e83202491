"""The pages that make moves: amend, moves, integrate, new negotiation, and prepare.

A move is made in two steps: a form is posted to ``/n/{id}/prepare/{move}`` (or
``/new/prepare`` for a charter), which checks it and answers with the exact envelope and body
to sign; ``signing.js`` recomputes the body hash, signs, and posts the event to the API.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import Markup

from parley.core import integration, moves, policy, redline
from parley.core import text as text_model
from parley.core.charter import LogConfig, PenRule
from parley.core.event import EventType
from parley.core.redline_render import summary_line, to_html
from parley.core.text import Kind
from parley.errors import (
    InvalidInputError,
    ParleyError,
    PermissionDeniedError,
)
from parley.web import convene
from parley.web.amending import (
    Op,
    amend_base,
    amend_move,
    apply_checked,
    describe_op,
    op_from_form,
    parse_ops,
    working_text,
)
from parley.web.building import BUILDERS, envelope_for
from parley.web.caller import Room, context_of, room_of, session_key
from parley.web.forms import Form, read_form
from parley.web.integrating import merge_returns, returns_of
from parley.web.rules import allowed, check_rule, finalizable, pending_confirmations, sent_to_me
from parley.web.site import SECURITY_HEADERS, guarded, json_error, off_the_loop, render, router
from parley.web.views import base_values, current_version, provision_rows, version_rows


@router.get("/n/{nid}/amend", response_class=HTMLResponse)
@guarded
def amend_page(request: Request, nid: str, base: str | None = None) -> Response:
    """Edit a version in place and preview the redline against it."""
    room = room_of(request, nid)
    return _amend_view(request, room, amend_base(room, base), [], None, None)


@router.post("/n/{nid}/amend", response_class=HTMLResponse)
@guarded
async def amend_edit(request: Request, nid: str) -> Response:
    """Add, undo or reset one edit operation; the page carries the list of operations."""
    form = await read_form(request)
    return await off_the_loop(request, _amend_edit, request, nid, form)


def _amend_edit(request: Request, nid: str, form: Form) -> Response:
    room = room_of(request, nid)
    base = amend_base(room, form.required("base", "the base version"))
    ops = parse_ops(form.get("ops", "[]"))
    action = form.get("action", "add")
    error: dict[str, Any] | None = None
    kept: dict[str, Any] | None = None
    try:
        working = working_text(room, base, ops)
    except ParleyError as exc:
        if action != "restore":
            raise
        # edits kept in this browser from an earlier visit that no longer apply: dropped, and
        # said so, never offered again
        said = {"form": None, "message": f"your kept changes are dropped: {exc}"}
        return _amend_view(request, room, base, [], said, None, 422, dropped=True)
    if action == "undo":
        ops = ops[:-1]
    elif action == "reset":
        ops = []
    elif action != "restore":  # restored edits were checked above, as the page's own are
        op = op_from_form(form)
        try:
            apply_checked(room, room.text(base), working, op)
            ops.append(op)
            kept = {"id": op.get("id"), "form": form.get("form")}
        except ParleyError as exc:
            error = {"form": form.get("form"), "message": str(exc), "op": op}
    dropped = action == "reset" or (action == "undo" and not ops)  # on purpose: nothing to keep
    return _amend_view(request, room, base, ops, error, kept, 422 if error else 200, dropped)


def _amend_view(
    request: Request,
    room: Room,
    base: str,
    ops: list[Op],
    error: dict[str, Any] | None,
    kept: dict[str, Any] | None,
    status: int = 200,
    dropped: bool = False,
) -> Response:
    """The Amend page; ``kept`` is the edit just made (the page says so where it was made)."""
    working = working_text(room, base, ops)
    cites = text_model.citations(working)
    described = [describe_op(op, cites) for op in ops]
    rows = provision_rows(working)
    preview = None
    if ops:
        lines = redline.compare(room.text(base), working)
        preview = {
            "html": Markup(to_html(lines, standalone=False, level=3)),
            "summary": summary_line(lines.summary),
            "unchanged": lines.unchanged,
        }
    move = amend_move(room, base)
    return render(
        request,
        "amend.html",
        status,
        **base_values(room, "amend"),
        base=base,
        ops=ops,
        ops_json=json.dumps(ops, ensure_ascii=False),
        described=described,
        kept={**kept, "said": described[-1]} if kept and described else None,
        rows=rows,
        text_language=working.language,
        ids=[(r["id"], r["cite"]) for r in rows],
        kinds=[k.value for k in Kind],
        preview=preview,
        error=error,
        move=move,
        dropped=dropped,
        # in mediated talks a return goes to the mediators first (they forward what they choose)
        caucus_first=move == "amend" and moves.returns_in_caucus(room.state.charter),
        may_amend=allowed(room, EventType.AMEND) or allowed(room, EventType.PROPOSE),
        working_json=json.dumps(text_model.to_json(working), ensure_ascii=False, indent=1),
        version=text_model.version_hash(working),
        versions=version_rows(room),
    )


@router.get("/n/{nid}/act", response_class=HTMLResponse)
@guarded
def act_page(request: Request, nid: str) -> Response:
    """Respond to versions, confirm, comment, state; mediators send, suspend, finalize."""
    room = room_of(request, nid)
    readable = version_rows(room)
    may = {m.value: allowed(room, m) for m in BUILDERS}
    return render(
        request,
        "act.html",
        **base_values(room, "act"),
        may=may,
        versions=readable,
        waiting=sent_to_me(room),
        confirmations=pending_confirmations(room),
        finalizable=finalizable(room),
        others=[c for c in room.state.charter.codes() if c != room.me.code],
        current=current_version(room.state),
        suspended_by=room.state.suspended_by,
        joined=room.me.code in room.state.joined,
        # what joining accepts: the charter's conclusion policy, in words
        conclusion=policy.evaluate(room.state.charter.policy, policy.Attestations())[1],
    )


@router.get("/n/{nid}/integrate", response_class=HTMLResponse)
@guarded
def integrate_page(request: Request, nid: str) -> Response:
    """A mediator merges returned amendments, deciding provision by provision."""
    room = room_of(request, nid)
    empty: dict[str, Any] = {
        "bases": [],
        "merged": None,
        "returns": [],
        "base": "",
        "query": "",
        "refused": "",
        "confidential": [],
        "stale": "",
    }
    try:
        check_rule(room, EventType.INTEGRATE)
    except ParleyError as exc:  # said in the page, with the negotiation's tabs around it
        values = {**base_values(room, "integrate"), **empty, "refused": str(exc)}
        return render(request, "integrate.html", 200, **values)
    bases = [v for v in room.state.versions if returns_of(room, v)]
    form = Form(parse_qs(request.url.query, keep_blank_values=True))
    base = form.get("base") or (bases[-1] if bases else "")
    if base not in bases:  # nothing (left) to integrate, for this base or any
        return render(request, "integrate.html", 200, **base_values(room, "integrate"), **empty)
    if "returns" not in form.fields:
        form.fields = {
            **form.fields,
            "base": [base],
            "returns": [v.hash for v in returns_of(room, base)],
        }
    stale = integration.superseded(room.state.versions, base)
    if stale:  # returns to a text since superseded: said, with the ways on, and not merged
        values = {**empty, "bases": bases, "base": base, "stale": stale}
        return render(request, "integrate.html", 200, **base_values(room, "integrate"), **values)
    merged = merge_returns(room, form)
    lines = redline.compare(room.text(base), merged.text)
    return render(
        request,
        "integrate.html",
        **base_values(room, "integrate"),
        bases=bases,
        base=base,
        returns=returns_of(room, base),
        merged=merged,
        query=request.url.query,
        preview=Markup(to_html(lines, standalone=False, level=3)),
        summary=summary_line(lines.summary),
        refused="",
        stale="",
        confidential=integration.published(room.state.versions, merged.returns, None),
    )


@router.post("/n/{nid}/prepare/{move}")
async def prepare(request: Request, nid: str, move: str) -> Response:
    """Check a move's form and answer with the exact envelope and body to sign (JSON)."""
    try:
        form = await read_form(request)
    except ParleyError as exc:
        return json_error(exc)
    return await off_the_loop(request, _prepare, request, nid, move, form)


def _prepare(request: Request, nid: str, move: str, form: Form) -> Response:
    """``prepare`` off the event loop: a merge or a redline may take a while."""
    try:
        room = room_of(request, nid)
        if move not in EventType._value2member_map_ or EventType(move) not in BUILDERS:
            raise InvalidInputError(f"a page cannot prepare a {move!r} move")
        kind = EventType(move)
        check_rule(room, kind)
        built = BUILDERS[kind](room, form)
        body = moves.salted(built.body, built.audience, secrets.token_hex(16))
        proposal = replace(built, body=body)
        envelope = envelope_for(room, kind, proposal)
    except ParleyError as exc:
        return json_error(exc)
    return JSONResponse(
        {"envelope": envelope.to_json(), "body": proposal.body, "summary": proposal.summary},
        headers=SECURITY_HEADERS,
    )


@router.get("/new", response_class=HTMLResponse)
@guarded
def new_page(request: Request) -> Response:
    """A mediator convenes a negotiation: title, pen rule, participants and their keys."""
    key = session_key(request)
    return render(
        request,
        "new.html",
        rows=convene.start_rows(key),
        roles=convene.ROLES,
        pens=[p.value for p in PenRule],
        log=_log_setup(request),
    )


@router.post("/new/prepare")
async def new_prepare(request: Request) -> Response:
    """Check the convening form and answer with the exact charter event to sign (JSON)."""
    try:
        key = session_key(request)
        if key is None:
            raise PermissionDeniedError("log in with your key before convening a negotiation")
        charter = convene.charter_from_form(await read_form(request), _log_setup(request))
        author = convene.convener(charter, key)
        envelope = convene.charter_envelope(
            charter, author, key, context_of(request).services.now()
        )
    except ParleyError as exc:
        return json_error(exc)
    return JSONResponse(convene.proposal(charter, envelope), headers=SECURITY_HEADERS)


def _log_setup(request: Request) -> LogConfig | None:
    """The deployment's log, as every charter convened here names it."""
    setup = context_of(request).services.log_setup
    return setup.charter_log() if setup else None
