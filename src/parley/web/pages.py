"""The pages for reading: negotiations, keys, dashboard, text, versions, agreement, audit.

They render the same redacted view of a negotiation the API gives the caller. Nothing here
signs anything.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from parley.api.access import codes_for
from parley.core import (
    bundle,
    moves,
    policy,
    protocol,
    redline,
)
from parley.core.agenda import agenda
from parley.core.charter import Role
from parley.core.event import EventType
from parley.core.protocol import State
from parley.core.redline_render import summary_line, to_html
from parley.errors import NotFoundError
from parley.store import StoredCheckpoint
from parley.web.caller import Room, context_of, room_of, session_key
from parley.web.demo import demo_codes, demo_dir
from parley.web.forms import read_form
from parley.web.rules import allowed, attestation_moves
from parley.web.site import SECURITY_HEADERS, guarded, json_error, off_the_loop, render, router
from parley.web.views import (
    base_values,
    comments_by_provision,
    current_version,
    latest_statements,
    overview,
    provision_rows,
    text_status,
    timeline,
    version_rows,
)

PASTED_KEPT = 256 * 1024
"""A pasted bundle that did not verify is given back in the field, up to this many characters."""


@router.get("/", response_class=HTMLResponse)
@guarded
def home(request: Request) -> Response:
    """My negotiations: state, pen, and what waits for me in each."""
    ctx, key = context_of(request), session_key(request)
    rows: list[dict[str, Any]] = []
    for row in ctx.services.negotiations() if key is not None else []:
        assert key is not None
        # the charter (kept) says whose it is: no read for each negotiation that is not mine
        if not codes_for(ctx.views.charter(row.id), key):
            continue
        state = ctx.views.state(seat := ctx.views.seat(row.id, key))
        rows.append(
            {
                "id": row.id,
                "title": state.charter.title,
                "phase": state.phase.value,
                "code": seat.code,
                "pen": protocol.pen_holders(state),
                "updated": row.updated,
                "mine": [t for t in agenda(state) if t.code == seat.code],
            }
        )
    return render(request, "home.html", negotiations=rows)


@router.get("/keys", response_class=HTMLResponse)
@guarded
def keys_page(request: Request) -> Response:
    """Load, create and choose the key this browser signs with."""
    return render(request, "keys.html", demo_codes=demo_codes(request))


@router.get("/n/{nid}", response_class=HTMLResponse)
@guarded
def dashboard(request: Request, nid: str) -> Response:
    """Participants and roles, what each still has to do, the current text's status."""
    room = room_of(request, nid)
    return render(request, "dashboard.html", **base_values(room, "dashboard"), o=overview(room))


@router.get("/n/{nid}/live", response_class=HTMLResponse)
@guarded
def live(request: Request, nid: str) -> Response:
    """The dashboard's live region, fetched again when the stream says something moved."""
    room = room_of(request, nid)
    return render(request, "_live.html", **base_values(room, "dashboard"), o=overview(room))


@router.get("/n/{nid}/text", response_class=HTMLResponse)
@guarded
def text_page(request: Request, nid: str, v: str | None = None) -> Response:
    """A version's provision tree: numbering, brackets, options, reservations, comments."""
    room = room_of(request, nid)
    version = room.version(v) if v else current_version(room.state)
    if version is None:
        return render(
            request,
            "text.html",
            **base_values(room, "text"),
            version=None,
            rows=[],
            versions=[],
            text_title="",
            text_language="en",
            text_status=None,
            readers=None,
        )
    text = room.text(version)
    return render(
        request,
        "text.html",
        **base_values(room, "text"),
        version=version,
        rows=provision_rows(text, comments_by_provision(room.state.comments, version)),
        versions=version_rows(room),
        text_title=text.title,
        text_language=text.language,
        text_status=text_status(text),
        may_comment=allowed(room, EventType.COMMENT),
        readers=moves.comment_audience(room.state, version),
    )


@router.get("/n/{nid}/versions", response_class=HTMLResponse)
@guarded
def versions_page(
    request: Request,
    nid: str,
    old: str | None = None,
    new: str | None = None,
    view: str = "inline",
    history: str | None = None,
) -> Response:
    """The history as a timeline (the latest ``HISTORY_SHOWN`` events unless ``history=all``),
    and the redline between any two versions."""
    room = room_of(request, nid)
    rows = version_rows(room)
    new = new or (rows[-1]["hash"] if rows else None)
    old = old or _before(rows, new)
    compared = _compare(room, old, new, view) if old and new else None
    return render(
        request,
        "versions.html",
        **base_values(room, "versions"),
        versions=rows,
        old=old,
        new=new,
        view="sides" if view == "sides" else "inline",
        compared=compared,
        **_history(timeline(room, room.events()), history == "all", request, "history-h"),
    )


HISTORY_SHOWN = 100
"""Events the Versions page's history lists at first, the latest: a long negotiation has
thousands, and the page grew to megabytes."""


def _history(
    entries: list[dict[str, Any]], whole: bool, request: Request, heading: str
) -> dict[str, Any]:
    """The timeline as the page shows it, how many entries it has, and the link to them all
    (to the page's ``heading``)."""
    shown = entries if whole else entries[-HISTORY_SHOWN:]
    query = {**request.query_params, "history": "all"}
    return {
        "timeline": shown,
        "timeline_total": len(entries),
        "timeline_all": f"{request.url.path}?{urlencode(query)}#{heading}",
    }


def _before(rows: list[dict[str, Any]], new: str | None) -> str | None:
    """What a version is best compared with: its first readable parent, else the one before it."""
    hashes = [r["hash"] for r in rows]
    parents: list[str] = next((r["parents"] for r in rows if r["hash"] == new), [])
    readable = [p for p in parents if p in hashes]
    if readable:
        return str(readable[0])
    at = hashes.index(new) if new in hashes else len(hashes)
    return hashes[at - 1] if at > 0 else new


def _where(change: redline.ProvisionChange) -> str:
    side = change.new or change.old
    return side.citation if side else change.id


def _compare(room: Room, old: str, new: str, view: str) -> dict[str, Any]:
    lines = redline.compare(room.text(old), room.text(new))
    html = to_html(lines, standalone=False, level=3)
    if view == "sides":
        html = html.replace("pl-redline pl-view-inline", "pl-redline pl-view-sides", 1)
    return {
        "html": Markup(html),
        "summary": summary_line(lines.summary),
        "unchanged": lines.unchanged,
        "changes": [
            {
                "id": c.id,
                "where": _where(c),
                "what": ", ".join(x.value for x in c.changes),
            }
            for c in lines.changes
        ],
    }


@router.get("/n/{nid}/agreement", response_class=HTMLResponse)
@guarded
def agreement_page(request: Request, nid: str, statements: str | None = None) -> Response:
    """The final text, the conclusion policy as a checklist, the attestation buttons, and the
    statements (the latest ``AGREEMENT_STATEMENTS`` unless ``statements=all``)."""
    room = room_of(request, nid)
    state = room.state
    holds, findings = policy.evaluate(state.charter.policy, state.attestations())
    final = state.final_text
    return render(
        request,
        "agreement.html",
        **base_values(room, "agreement"),
        final=state.final,
        rows=provision_rows(final) if final else [],
        final_title=final.title if final else "",
        final_language=final.language if final else "en",
        holds=holds,
        findings=findings,
        attested=_attested(state),
        can=attestation_moves(room),
        **latest_statements(state, None if statements == "all" else AGREEMENT_STATEMENTS),
    )


AGREEMENT_STATEMENTS = 100
"""Statements the Agreement page lists, the latest, unless ``statements=all``: thousands made a
page of half a megabyte."""


def _attested(state: State) -> list[dict[str, Any]]:
    out = []
    for party in state.charter.codes(Role.PARTY):
        sig = state.signatures.get(party)
        witnesses = state.witnesses.get(sig.event, {}) if sig else {}
        out.append(
            {
                "party": party,
                "signed": sig,
                "ratified": bool(sig and sig.ratified_by),
                "witnesses": sorted(witnesses.items()),
            }
        )
    return out


@router.get("/n/{nid}/audit", response_class=HTMLResponse)
@guarded
def audit_page(request: Request, nid: str, history: str | None = None) -> Response:
    """The events with verification badges, and the log's checkpoint. The browser fetches every
    event from the API in pages and checks them all, the rows listed or not: the page itself
    lists the latest ``HISTORY_SHOWN`` unless ``history=all``, and carries no event bodies (at
    3,000 events it weighed 5 MB)."""
    room = room_of(request, nid)
    stored = _latest_checkpoint(room)
    log = room.state.charter.log
    entries = timeline(room, room.events())
    return render(
        request,
        "audit.html",
        **base_values(room, "audit"),
        **_history(entries, history == "all", request, "chain-h"),
        events_url=f"/api/negotiations/{room.nid}/events",
        events_page=AUDIT_FETCH,
        checkpoint=stored.note if stored else None,
        log_vkey=log.vkey if log else None,
        witness_vkeys=_witness_vkeys(log.witness_policy if log else None),
    )


AUDIT_FETCH = 500
"""Events the Audit page's script fetches at a time: a long record's bodies come in pages."""


def _witness_vkeys(policy_text: str | None) -> list[str]:
    words = (line.split() for line in (policy_text or "").splitlines())
    return [w[2] for w in words if len(w) >= 3 and w[0] == "witness"]


def _latest_checkpoint(room: Room) -> StoredCheckpoint | None:
    """Publish if the log has grown (asking remote log witnesses over the network: off the event
    loop), else the latest checkpoint."""
    return room.ctx.services.publish() or room.ctx.services.checkpoint()


@router.get("/n/{nid}/bundle")
@guarded
def bundle_download(request: Request, nid: str) -> Response:
    """The agreement bundle, to keep and to verify offline with ``parley verify``."""
    room = room_of(request, nid)
    data = room.ctx.services.bundle(room.nid)
    name = f"parley-{room.nid[:12]}.bundle.json"
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(data, media_type="application/json", headers=headers)


@router.get("/verify", response_class=HTMLResponse)
@guarded
def verify_page(request: Request) -> Response:
    """Check any agreement bundle: the same report as ``parley verify``."""
    return render(
        request, "verify.html", report=None, error=None, rows=[], trust=bundle.TRUST, pasted=""
    )


@router.post("/verify", response_class=HTMLResponse)
@guarded
async def verify_post(request: Request) -> Response:
    """The report for a pasted (or, with JavaScript, chosen) bundle."""
    form = await read_form(request)
    data = form.get("bundle").encode()
    if not data.strip():
        return render(
            request,
            "verify.html",
            422,
            report=None,
            error="choose a bundle file or paste its contents",
            rows=[],
            trust=bundle.TRUST,
            pasted="",
        )
    report = await off_the_loop(request, bundle.check_bundle, data)
    final = report.final_text if report.verdict is not bundle.Verdict.INVALID else None
    rows = [] if final is None else provision_rows(final)
    # what was pasted stays in the field when it did not verify (to correct it), if not huge
    kept = form.get("bundle") if report.verdict is bundle.Verdict.INVALID else ""
    pasted = kept if len(kept) <= PASTED_KEPT else ""
    return render(
        request, "verify.html", report=report, error=None, rows=rows, trust=bundle.TRUST,
        pasted=pasted, statements_open=STATEMENTS_OPEN,
    )  # fmt: skip


STATEMENTS_OPEN = 20
"""Statements the Verify page's report lists open; more are folded under their count, after the
log's checks, which thousands of them pushed out of sight."""


@router.get("/n", include_in_schema=False)
async def negotiations_redirect(request: Request) -> Response:
    """``/n`` is the list of my negotiations."""
    return RedirectResponse("/", 303)


@router.get("/demo/keys/{code}")
async def demo_key(request: Request, code: str) -> Response:
    """A demo delegation's key file, for the one-click loading of demo mode (loopback only)."""
    folder = demo_dir(request)
    if folder is None or code not in demo_codes(request):
        return json_error(NotFoundError("no such demo key"))
    data = (folder / f"{code}.key").read_bytes()
    return Response(data, media_type="application/json", headers=SECURITY_HEADERS)
