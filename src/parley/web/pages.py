"""The pages delegations use: read, compare, amend, accept and sign in the browser.

The pages are rendered on the server from the same redacted view of a negotiation the API gives
the caller (``parley.api.access.Views``: a stranger gets the same 404 as for an unused id, and a
participant sees only the bodies its audience allows). Nothing here signs anything. A move is
made in two steps: a form is posted to ``/n/{id}/prepare/{move}``, which checks it, builds the
body with ``parley.core.moves`` (an amendment's text from ``parley.core.edit`` operations), and
answers with the exact envelope to sign; the page's ``signing.js`` recomputes the body hash,
signs the envelope with the key this browser holds, and posts the event to the API.

Demo mode (``mount(..., demo_keys_dir=...)``) serves the demo delegations' key files, but only
to a client on the loopback interface that also names a loopback host.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import unicodedata
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jinja2
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException

from parley.api.access import Seat, missing
from parley.api.context import Context
from parley.api.errors import details_of, status_of
from parley.api.login import COOKIE
from parley.core import (
    bundle,
    edit,
    integration,
    merge,
    moves,
    policy,
    protocol,
    redline,
    textformat,
)
from parley.core import text as text_model
from parley.core.agenda import Task, agenda
from parley.core.charter import Participant, Role
from parley.core.event import (
    Envelope,
    EventType,
    SignedEvent,
    body_hash,
    check_envelope,
    parse_time,
)
from parley.core.keys import PublicKey
from parley.core.protocol import Mode, Phase, State
from parley.core.redline_render import summary_line, to_html
from parley.core.report import human_time
from parley.core.text import CODE_RE, Bracket, Kind, Options, Provision, Run, Text
from parley.errors import (
    IllegalMoveError,
    InvalidInputError,
    LimitExceededError,
    NotFoundError,
    ParleyError,
    PreconditionError,
    UnauthorizedMoveError,
)

HERE = Path(__file__).resolve().parent
STATIC_URL = "/static/web"
MAX_FORM_BYTES = 2 * 2**20
MAX_OPS = 200
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class WebSettings:
    """What the pages need beyond the API's context."""

    demo_keys_dir: Path | None = None
    """The demo's ``home/keys`` folder: its key files are offered to loopback clients only."""


def mount(app: FastAPI, settings: object, *, demo_keys_dir: Path | None = None) -> None:
    """Add the pages and their static files to the API's app (``create_app`` calls this)."""
    folder = demo_keys_dir or getattr(settings, "demo_keys_dir", None)
    mounted = isinstance(getattr(app.state, "web", None), WebSettings)
    app.state.web = WebSettings(Path(folder) if folder else None)
    if mounted:
        return
    app.include_router(router)
    app.mount(STATIC_URL, StaticFiles(directory=HERE / "static"), name="parley-web-static")


# --- templates ----------------------------------------------------------------------------------


def _short(value: str | None) -> str:
    return f"{value[:8]}…" if value else "—"


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["when"] = human_time
_env.filters["short"] = _short
_env.filters["day"] = lambda t: f"{parse_time(t):%d %b %Y %H:%M}"
_env.filters["phase"] = lambda p: "in force" if p == "in_force" else str(p)


def _render(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    page = _env.get_template(name).render(site=_site(request), **values)
    return HTMLResponse(page, status, headers=SECURITY_HEADERS)


def _site(request: Request) -> dict[str, Any]:
    key = _session_key(request)
    return {
        "static": STATIC_URL,
        "path": request.url.path,
        "vkey": key.vkey() if key else None,
        "signed_in": key.name if key else None,
        "demo": _demo_dir(request) is not None,
    }


# --- the caller ---------------------------------------------------------------------------------


def _context(request: Request) -> Context:
    found = request.app.state.context
    assert isinstance(found, Context)
    return found


def _session_key(request: Request) -> PublicKey | None:
    """The key of the browser's session (its cookie), or None when not logged in."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        return _context(request).sessions.session(token).key
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


def _room(request: Request, nid: str) -> Room:
    ctx = _context(request)
    key = _session_key(request)
    if key is None:
        raise missing(nid)
    seat = ctx.views.seat(nid, key)
    state = ctx.views.state(seat)
    me = state.charter.participant(seat.code)
    assert me is not None
    return Room(ctx, seat, state, me, key)


# --- error handling -----------------------------------------------------------------------------

Page = Callable[..., Awaitable[Response]]


def _guarded(handler: Page) -> Page:
    """Show a Parley error as a page in words, with the status the API would give."""

    @functools.wraps(handler)
    async def run(request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            return await handler(request, *args, **kwargs)
        except ParleyError as exc:
            status, code = status_of(exc)
            return _render(request, "error.html", status, message=str(exc), code=code)

    return run


def _json_error(exc: ParleyError) -> JSONResponse:
    status, code = status_of(exc)
    error = {"code": code, "message": str(exc), "details": details_of(exc)}
    return JSONResponse({"error": error}, status, headers=SECURITY_HEADERS)


class Form:
    """A posted urlencoded form (parsed here: no multipart dependency, and a size limit)."""

    def __init__(self, fields: Mapping[str, list[str]]) -> None:
        self.fields = fields

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default

    def getlist(self, name: str) -> list[str]:
        return list(self.fields.get(name, []))

    def required(self, name: str, what: str) -> str:
        value = self.get(name).strip()
        if not value:
            raise InvalidInputError(f"{what} is required")
        return value

    def words(self, name: str, what: str) -> str:
        """Text a person typed: white space tidied, NFC (as signed data must be), never empty."""
        return unicodedata.normalize("NFC", " ".join(self.required(name, what).split()))

    def prefixed(self, prefix: str) -> dict[str, str]:
        return {
            k[len(prefix) :]: v[0] for k, v in self.fields.items() if k.startswith(prefix) and v
        }


async def _form(request: Request) -> Form:
    data = await request.body()
    if len(data) > MAX_FORM_BYTES:
        raise LimitExceededError(f"the form is larger than {MAX_FORM_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError("the form is not UTF-8") from exc
    return Form(parse_qs(text, keep_blank_values=True, max_num_fields=2000))


# --- reading the state --------------------------------------------------------------------------


def _current(state: State) -> str | None:
    """The final text once there is one, else the latest version the caller can read."""
    if state.final:
        return state.final
    readable = [v for v in state.versions if v in state.texts]
    return readable[-1] if readable else None


def _inline(item: Run | Bracket | Options) -> dict[str, Any]:
    if isinstance(item, Run):
        return {"kind": "run", "text": item.text}
    if isinstance(item, Bracket):
        return {"kind": "bracket", "text": item.text, "holders": list(item.holders)}
    return {
        "kind": "options",
        "options": [
            {"proposer": o.proposer, "body": [_inline(x) for x in o.body]} for o in item.options
        ],
    }


def _atoms(body: tuple[Run | Bracket | Options, ...]) -> dict[str, Any]:
    """The brackets and option groups of a body, numbered as ``edit`` counts them."""
    brackets = [b.text for b in body if isinstance(b, Bracket)]
    groups = [
        [(o.proposer, text_model.plain(tuple(o.body)) or "(delete these words)") for o in g.options]
        for g in body
        if isinstance(g, Options)
    ]
    return {"brackets": brackets, "groups": groups}


def _provisions(text: Text, notes: Mapping[str, list[dict[str, Any]]] | None = None) -> list[Any]:
    """The provision tree as flat rows with depth, label, citation, body and anchored notes."""
    labels, cites = text_model.numbering(text), text_model.citations(text)
    rows = []
    for p, ancestors in text_model.walk(text):
        opened = text_model.status(Text("x", provisions=(replace(p, children=()),)))
        rows.append(
            {
                "id": p.id,
                "depth": len(ancestors),
                "kind": p.kind.value,
                "label": labels[p.id],
                "cite": cites[p.id],
                "heading": p.heading,
                "body": [_inline(x) for x in p.body],
                "reservations": list(p.reservations),
                "open": not opened.clean,
                "notation": textformat.render_body(p.body),
                "comments": (notes or {}).get(p.id, []),
                **_atoms(p.body),
            }
        )
    return rows


def _status(text: Text) -> dict[str, Any]:
    st = text_model.status(text)
    parts = [
        f"{n} {word}{'s' if n != 1 else ''}"
        for n, word in (
            (st.brackets, "bracket"),
            (st.options, "option group"),
            (st.reservations, "reservation"),
        )
        if n
    ]
    return {
        "clean": st.clean,
        "provisions": st.provisions,
        "open": ", ".join(parts),
        "open_ids": list(st.open_ids),
    }


def _comments(events: Iterable[SignedEvent], version: str | None = None) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for e in events:
        body = e.body
        if e.envelope.type is not EventType.COMMENT or body is None:
            continue
        if version is not None and body.get("version") != version:
            continue
        out.setdefault(str(body.get("provision")), []).append(
            {
                "author": e.envelope.author,
                "time": e.envelope.time,
                "text": body.get("text", ""),
                "caucus": e.envelope.audience is not None,
                "version": body.get("version", ""),
            }
        )
    return out


def _version_rows(room: Room) -> list[dict[str, Any]]:
    times = {e.hash: e.envelope.time for e in room.events()}
    return [
        {
            "hash": v.hash,
            "author": v.author,
            "move": v.move.value,
            "parents": list(v.parents),
            "time": times.get(v.event, room.state.time),
            "final": v.hash == room.state.final,
        }
        for v in room.state.versions.values()
        if v.hash in room.state.texts
    ]


def _who(codes: Iterable[str]) -> str:
    return ", ".join(codes) or "nobody"


def _what(e: SignedEvent, signers: Mapping[str, str]) -> str:
    """A few words on what an event says, for the timelines."""
    body, env = e.body, e.envelope
    if body is None:
        return f"confidential: seen only by {_who(env.audience or ())}"
    version = _short(str(body.get("version", "")))
    words: dict[EventType, Callable[[], str]] = {
        EventType.CHARTER: lambda: f"convened “{body.get('title', '')}”",
        EventType.JOIN: lambda: "joined, signing the charter's hash",
        EventType.PROPOSE: lambda: f"proposed version {version}",
        EventType.SEND: lambda: (
            f"sent version {version} to {_who(body.get('to', []))}"
            + (f", reply by {human_time(body['deadline'])}" if "deadline" in body else "")
        ),
        EventType.AMEND: lambda: (
            f"returned version {version} against "
            f"{_short(str(body.get('base', '')))}"
            + (f": {body['note']}" if body.get("note") else "")
        ),
        EventType.ACCEPT: lambda: (
            f"accepted version {version} "
            + ("ad referendum" if body.get("mode") == Mode.AD_REFERENDUM else "firmly")
        ),
        EventType.CONFIRM: lambda: f"confirmed its acceptance of {version}",
        EventType.REJECT: lambda: f"rejected version {version}: {body.get('reasons', '')}",
        EventType.INTEGRATE: lambda: (
            f"integrated {len(body.get('returns', []))} returns into version {version}"
        ),
        EventType.COMMENT: lambda: (
            f"commented on {body.get('provision')} of {version}: {body.get('text', '')}"
        ),
        EventType.STATEMENT: lambda: f"stated (not binding): {body.get('text', '')}",
        EventType.SUSPEND: lambda: f"suspended the talks: {body.get('reason', '')}",
        EventType.RESUME: lambda: (
            "resumed the talks" + (f": {body['note']}" if body.get("note") else "")
        ),
        EventType.TERMINATE: lambda: f"ended the talks: {body.get('reason', '')}",
        EventType.FINALIZE: lambda: f"finalized version {version}: the final text",
        EventType.SIGN: lambda: (
            "signed the final text"
            + (" ad referendum" if body.get("mode") == Mode.AD_REFERENDUM else "")
        ),
        EventType.RATIFY: lambda: "ratified its signature",
        EventType.WITNESS: lambda: (
            f"witnessed {signers.get(str(body.get('sign')), '?')}'s signature"
        ),
        EventType.ENDORSE: lambda: "endorsed the agreement and the parties' signatures",
    }
    return words[env.type]()


def _timeline(room: Room, events: list[SignedEvent]) -> list[dict[str, Any]]:
    signers = {a.event: p for p, a in room.state.signatures.items()}
    return [
        {
            "seq": e.envelope.seq,
            "time": e.envelope.time,
            "who": e.envelope.author,
            "move": e.envelope.type.value,
            "what": _what(e, signers),
            "hash": e.hash,
            "version": (e.body or {}).get("version") if e.body else None,
            "caucus": e.envelope.audience is not None,
            "withheld": e.body is None,
        }
        for e in events
    ]


def _participants(state: State, tasks: list[Task]) -> list[dict[str, Any]]:
    return [
        {
            "code": p.code,
            "name": p.name,
            "roles": [r.value for r in p.roles],
            "joined": p.code in state.joined,
            "tasks": [{"what": t.what, "deadline": t.deadline} for t in tasks if t.code == p.code],
        }
        for p in state.charter.participants
    ]


def _overview(room: Room) -> dict[str, Any]:
    """What the dashboard's live region shows."""
    state, tasks = room.state, agenda(room.state)
    current = _current(state)
    return {
        "phase": state.phase.value,
        "events": state.seq,
        "pen": protocol.pen_holders(state),
        "participants": _participants(state, tasks),
        "mine": [t for t in tasks if t.code == room.me.code],
        "current": current,
        "status": _status(room.text(current)) if current else None,
        "suspended_by": state.suspended_by,
        "final": state.final,
        "statements": [s for s in state.statements if s.text is not None],
    }


def _me(room: Room) -> dict[str, Any]:
    return {
        "code": room.me.code,
        "name": room.me.name,
        "key": room.key.id_hex,
        "roles": [r.value for r in room.me.roles],
    }


def _base_values(room: Room, tab: str) -> dict[str, Any]:
    return {
        "nid": room.nid,
        "title": room.state.charter.title,
        "me": _me(room),
        "tab": tab,
        "phase": room.state.phase.value,
    }


# --- the rules, as the pages need them ----------------------------------------------------------


def _may(room: Room, move: EventType) -> bool:
    """The rules table allows the caller this move now (its own preconditions aside)."""
    rule = protocol.RULES[move]
    if room.state.phase not in rule.phases:
        return False
    if move is not EventType.JOIN and room.me.code not in room.state.joined:
        return False
    return rule.roles is None or any(room.me.has(r) for r in rule.roles)


def _check_rule(room: Room, move: EventType) -> None:
    rule = protocol.RULES[move]
    phase = "in force" if room.state.phase is Phase.IN_FORCE else room.state.phase.value
    if room.state.phase not in rule.phases:
        raise IllegalMoveError(f"you cannot {move} while the negotiation is {phase}")
    if move is not EventType.JOIN and room.me.code not in room.state.joined:
        raise IllegalMoveError(f"join the negotiation before you {move}")
    if rule.roles is not None and not any(room.me.has(r) for r in rule.roles):
        who = " or ".join(f"a {r}" for r in sorted(rule.roles))
        raise UnauthorizedMoveError(f"{room.me.code} cannot {move}: only {who} can")


def _sent_to_me(room: Room) -> list[str]:
    state = room.state
    return [
        v
        for v, to in state.sent.items()
        if room.me.code in to
        and room.me.code not in state.responded.get(v, frozenset())
        and v in state.texts
    ]


def _pending_confirmations(room: Room) -> list[str]:
    held = room.state.acceptances.get(room.me.code, {})
    return [
        v
        for v, a in held.items()
        if a.mode is Mode.AD_REFERENDUM and a.confirmed_by is None and a.withdrawn_by is None
    ]


def _finalizable(room: Room) -> list[str]:
    parties = room.state.charter.codes(Role.PARTY)
    return [
        v
        for v in room.state.versions
        if v in room.state.texts
        and text_model.is_clean(room.state.texts[v])
        and len(protocol.firm_acceptors(room.state, v)) == len(parties)
    ]


def _attestation_moves(room: Room) -> dict[str, Any]:
    """Which of sign, ratify, witness and endorse the caller may make now."""
    state, code = room.state, room.me.code
    signing = state.phase in (Phase.SIGNING, Phase.IN_FORCE)
    mine = state.signatures.get(code)
    parties = state.charter.codes(Role.PARTY)
    witnessable = [
        {"party": p, "event": a.event}
        for p, a in state.signatures.items()
        if p != code and code not in state.witnesses.get(a.event, {})
    ]
    return {
        "sign": signing and room.me.has(Role.PARTY) and mine is None,
        "ratify": bool(mine and mine.mode is Mode.AD_REFERENDUM and mine.ratified_by is None),
        "witness": witnessable if signing and room.me.has(Role.WITNESS) else [],
        "endorse": signing
        and room.me.has(Role.GUARANTOR)
        and code not in state.endorsements
        and all(p in state.signatures for p in parties),
    }


# --- building moves -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Proposal:
    """A body to sign, who may read it, and what it means in words."""

    body: dict[str, Any]
    audience: tuple[str, ...] | None
    summary: str


def _audience(room: Room, form: Form) -> tuple[str, ...] | None:
    if form.get("audience") != "caucus":
        return None
    return tuple(sorted({room.me.code, *room.state.charter.codes(Role.MEDIATOR)}))


def _version(room: Room, form: Form, name: str = "version") -> str:
    version = form.required(name, "a version")
    room.text(version)
    return version


def _mode(form: Form) -> Mode:
    value = form.get("mode", Mode.FIRM.value)
    if value not in (Mode.FIRM.value, Mode.AD_REFERENDUM.value):
        raise InvalidInputError(f"mode must be firm or ad_referendum, found {value!r}")
    return Mode(value)


def _mode_words(mode: Mode) -> str:
    return (
        "ad referendum (pending your capital's confirmation)"
        if mode is Mode.AD_REFERENDUM
        else "firmly"
    )


def _join(room: Room, form: Form) -> Proposal:
    return Proposal(
        moves.join(room.state),
        None,
        f"Join the negotiation: sign the charter's hash {_short(room.nid)}",
    )


def _accept(room: Room, form: Form) -> Proposal:
    version, mode = _version(room, form), _mode(form)
    return Proposal(
        moves.accept(version, mode), None, f"Accept version {_short(version)} {_mode_words(mode)}"
    )


def _confirm(room: Room, form: Form) -> Proposal:
    version = _version(room, form)
    return Proposal(
        moves.confirm(version), None, f"Confirm your ad referendum acceptance of {_short(version)}"
    )


def _reject(room: Room, form: Form) -> Proposal:
    version = _version(room, form)
    reasons = form.words("reasons", "the reasons for rejecting")
    return Proposal(
        moves.reject(version, reasons), None, f"Reject version {_short(version)}: {reasons}"
    )


def _comment(room: Room, form: Form) -> Proposal:
    version = _version(room, form)
    provision = form.required("provision", "the provision the comment is about")
    if text_model.find(room.text(version), provision) is None:
        raise InvalidInputError(f"version {_short(version)} has no provision {provision!r}")
    words = form.words("text", "the comment")
    return Proposal(
        moves.comment(version, provision, words),
        _audience(room, form),
        f"Comment on {provision} (not binding): {words}",
    )


def _statement(room: Room, form: Form) -> Proposal:
    words = form.words("text", "the statement")
    return Proposal(
        moves.statement(words),
        _audience(room, form),
        f"Make a unilateral statement (recorded, never binding): {words}",
    )


def _send(room: Room, form: Form) -> Proposal:
    version = _version(room, form)
    to = sorted(set(form.getlist("to")))
    if not to:
        raise InvalidInputError("choose at least one participant to send the version to")
    deadline = _deadline(form.get("deadline").strip())
    body = moves.send(version, to, deadline)
    due = f", reply by {human_time(deadline)}" if deadline else ""
    return Proposal(body, None, f"Send version {_short(version)} to {', '.join(to)}{due}")


def _deadline(value: str) -> str | None:
    """A datetime-local value read as UTC (``2026-11-29T09:30``) as an event time."""
    if not value:
        return None
    stamp = value if value.endswith("Z") else value + (":00Z" if len(value) == 16 else "Z")
    parse_time(stamp)
    return stamp


def _suspend(room: Room, form: Form) -> Proposal:
    reason = " ".join(form.get("reason").split())
    if not room.me.has(Role.MEDIATOR) and not reason:
        raise InvalidInputError("give a reason to walk out: it goes on the record")
    what = "Suspend the talks" if room.me.has(Role.MEDIATOR) else "Walk out (suspend the talks)"
    return Proposal(moves.suspend(reason), None, f"{what}: {reason or 'no reason given'}")


def _resume(room: Room, form: Form) -> Proposal:
    note = " ".join(form.get("note").split())
    return Proposal(moves.resume(note), None, "Resume the talks" + (f": {note}" if note else ""))


def _terminate(room: Room, form: Form) -> Proposal:
    reason = form.words("reason", "the reason for ending the talks")
    return Proposal(moves.terminate(reason), None, f"End the talks for good: {reason}")


def _finalize(room: Room, form: Form) -> Proposal:
    version = _version(room, form)
    return Proposal(
        moves.finalize(room.text(version)),
        None,
        f"Finalize version {_short(version)}: it becomes the final text",
    )


def _sign(room: Room, form: Form) -> Proposal:
    final, mode = _final(room), _mode(form)
    return Proposal(
        moves.sign(final, mode), None, f"Sign the final text {_short(final)} {_mode_words(mode)}"
    )


def _final(room: Room) -> str:
    if room.state.final is None:
        raise PreconditionError("there is no final text yet")
    return room.state.final


def _ratify(room: Room, form: Form) -> Proposal:
    mine = room.state.signatures.get(room.me.code)
    if mine is None:
        raise PreconditionError("you have not signed, so there is nothing to ratify")
    return Proposal(moves.ratify(mine.event), None, "Ratify your ad referendum signature")


def _witness(room: Room, form: Form) -> Proposal:
    sign = form.required("sign", "the signature to witness")
    party = next((p for p, a in room.state.signatures.items() if a.event == sign), None)
    if party is None:
        raise PreconditionError(f"{_short(sign)} is not a party's signature")
    return Proposal(
        moves.witness(sign), None, f"Witness {party}'s signature (event {_short(sign)})"
    )


def _endorse(room: Room, form: Form) -> Proposal:
    final = _final(room)
    signs = [a.event for a in room.state.signatures.values()]
    return Proposal(
        moves.endorse(final, signs), None, "Endorse the agreement and the parties' signatures"
    )


def _amend(room: Room, form: Form) -> Proposal:
    base = _version(room, form, "base")
    text = _working(room, base, _ops(form.get("ops", "[]")))
    if text == room.text(base):
        raise InvalidInputError("nothing has changed: make a change before signing an amendment")
    note = " ".join(form.get("note").split())
    version = text_model.version_hash(text)
    return Proposal(
        moves.amend(base, text, note),
        _audience(room, form),
        f"Return amended version {_short(version)} against {_short(base)}",
    )


def _propose(room: Room, form: Form) -> Proposal:
    if form.get("source").strip():
        text = textformat.parse(form.get("source"))
        body = moves.propose(text)
        version = text_model.version_hash(text)
        return Proposal(body, _audience(room, form), f"Propose version {_short(version)}")
    base = _version(room, form, "base")
    text = _working(room, base, _ops(form.get("ops", "[]")))
    version = text_model.version_hash(text)
    if version in room.state.versions:
        raise InvalidInputError(f"version {_short(version)} is already on the record")
    return Proposal(
        moves.propose(text, (base,)),
        _audience(room, form),
        f"Propose version {_short(version)}, drafted from {_short(base)}",
    )


def _integrate(room: Room, form: Form) -> Proposal:
    merged = _merge(room, form)
    if not merged.returns:
        raise InvalidInputError("choose the returned amendments to integrate")
    body = moves.integrate(merged.base, merged.returns, merged.text, merged.decisions)
    version = text_model.version_hash(merged.text)
    return Proposal(
        body, None, f"Integrate {len(merged.returns)} returns into version {_short(version)}"
    )


Builder = Callable[[Room, Form], Proposal]
BUILDERS: Mapping[EventType, Builder] = {
    EventType.JOIN: _join,
    EventType.ACCEPT: _accept,
    EventType.CONFIRM: _confirm,
    EventType.REJECT: _reject,
    EventType.COMMENT: _comment,
    EventType.STATEMENT: _statement,
    EventType.SEND: _send,
    EventType.SUSPEND: _suspend,
    EventType.RESUME: _resume,
    EventType.TERMINATE: _terminate,
    EventType.FINALIZE: _finalize,
    EventType.SIGN: _sign,
    EventType.RATIFY: _ratify,
    EventType.WITNESS: _witness,
    EventType.ENDORSE: _endorse,
    EventType.AMEND: _amend,
    EventType.PROPOSE: _propose,
    EventType.INTEGRATE: _integrate,
}
"""Every move a page can prepare (the charter is convened from the command line)."""


def _envelope(room: Room, move: EventType, proposal: Proposal) -> Envelope:
    """The next event's envelope, on the state the caller sees (its own time never earlier)."""
    state = room.state
    time = room.ctx.services.now()
    if parse_time(time) < parse_time(state.time):
        time = state.time
    envelope = Envelope(
        negotiation=state.negotiation,
        seq=state.seq,
        prev=state.head,
        type=move,
        author=room.me.code,
        key=room.key.id_hex,
        time=time,
        audience=proposal.audience,
        body=body_hash(proposal.body),
    )
    check_envelope(envelope)
    return envelope


# --- amendments: edit operations ----------------------------------------------------------------

Op = dict[str, str]
OP_FIELDS = (
    "op",
    "id",
    "body",
    "heading",
    "index",
    "group",
    "option",
    "kind",
    "parent",
    "after",
    "code",
)


def _ops(raw: str) -> list[Op]:
    """The operations carried by the amend page (checked again here on every request)."""
    try:
        ops = json.loads(raw or "[]")
    except json.JSONDecodeError as exc:
        raise InvalidInputError("the list of changes is not valid JSON") from exc
    if not isinstance(ops, list) or len(ops) > MAX_OPS:
        raise InvalidInputError(f"the changes must be a list of at most {MAX_OPS} operations")
    for op in ops:
        if not isinstance(op, dict) or not all(
            k in OP_FIELDS and isinstance(v, str) for k, v in op.items()
        ):
            raise InvalidInputError("a change is malformed")
    return ops


def _int(op: Op, name: str) -> int:
    try:
        return int(op.get(name, "0"))
    except ValueError as exc:
        raise InvalidInputError(f"{name} must be a number") from exc


def _new_provision(op: Op) -> Provision:
    kind = op.get("kind", "")
    if kind not in Kind._value2member_map_:
        raise InvalidInputError(f"choose a kind of provision, found {kind!r}")
    return Provision(
        op.get("id", "").strip(),
        Kind(kind),
        op.get("heading", "").strip() or None,
        textformat.parse_body(op.get("body", "")),
    )


OPERATIONS: Mapping[str, Callable[[Text, Op, str], Text]] = {
    "body": lambda t, op, me: edit.set_body(t, op["id"], textformat.parse_body(op.get("body", ""))),
    "heading": lambda t, op, me: edit.set_heading(
        t, op["id"], op.get("heading", "").strip() or None
    ),
    "reserve": lambda t, op, me: edit.reserve(t, op["id"], me),
    "release": lambda t, op, me: edit.release(t, op["id"], op.get("code") or me),
    "agree": lambda t, op, me: edit.agree_bracket(t, op["id"], _int(op, "index")),
    "choose": lambda t, op, me: edit.choose_option(
        t, op["id"], _int(op, "option"), _int(op, "group")
    ),
    "insert": lambda t, op, me: edit.insert(
        t, _new_provision(op), parent=op.get("parent") or None, after=op.get("after") or None
    ),
    "remove": lambda t, op, me: edit.remove(t, op["id"]),
    "move": lambda t, op, me: edit.move(
        t, op["id"], parent=op.get("parent") or None, after=op.get("after") or None
    ),
}


def _apply(text: Text, op: Op, me: str) -> Text:
    action = OPERATIONS.get(op.get("op", ""))
    if action is None or (op.get("op") != "insert" and not op.get("id")):
        raise InvalidInputError("unknown change, or no provision named")
    return action(text, op, me)


def _working(room: Room, base: str, ops: list[Op]) -> Text:
    text = room.text(base)
    for n, op in enumerate(ops, 1):
        try:
            text = _apply(text, op, room.me.code)
        except ParleyError as exc:
            raise InvalidInputError(f"change {n} no longer applies: {exc}") from exc
    return text


def _describe_op(op: Op, cites: Mapping[str, str]) -> str:
    where = cites.get(op.get("id", ""), op.get("id", ""))
    words = {
        "body": f"{where}: words changed",
        "heading": f"{where}: heading changed",
        "reserve": f"{where}: reservation entered",
        "agree": f"{where}: a bracket agreed",
        "release": f"{where}: {op.get('code') or 'your'} reservation lifted",
        "choose": f"{where}: one option kept",
        "remove": f"{where}: deleted",
        "move": f"{where}: moved",
        "insert": f"new provision {op.get('id', '')} inserted",
    }
    return words.get(op.get("op", ""), "a change")


def _op_from_form(form: Form) -> Op:
    op = {k: form.get(k) for k in OP_FIELDS if form.get(k)}
    if "body" in form.fields:
        op["body"] = form.get("body")
    return op


def _amend_base(room: Room, asked: str | None) -> str:
    if asked:
        room.text(asked)
        return asked
    waiting = _sent_to_me(room)
    current = waiting[-1] if waiting else _current(room.state)
    if current is None:
        raise NotFoundError("there is no version to amend yet")
    return current


def _amend_move(room: Room, base: str) -> str:
    """Amend what you were sent; a pen holder proposes a new version instead."""
    if room.me.code in protocol.pen_holders(room.state):
        return EventType.PROPOSE.value
    return EventType.AMEND.value


# --- integration --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Merged:
    """An integration as the mediator has set it up."""

    base: str
    returns: list[str]
    text: Text
    decisions: list[dict[str, str]]
    conflicts: list[str]
    rows: list[dict[str, Any]]


def _returns_of(room: Room, base: str) -> list[protocol.Version]:
    return [
        v
        for v in room.state.versions.values()
        if v.move is EventType.AMEND and v.parents[:1] == (base,) and v.hash in room.state.texts
    ]


def _merge(room: Room, form: Form) -> Merged:
    base = _version(room, form, "base")
    chosen = set(form.getlist("returns"))
    returns = [v for v in _returns_of(room, base) if v.hash in chosen]
    result = integration.integrate(
        room.text(base),
        [integration.Return(v.author, room.text(v.hash)) for v in returns],
        room.me.code,
    )
    text, decisions = result.text, [dict(d) for d in result.decisions]
    picks = form.prefixed("decide-")
    sources = {v.hash: v.author for v in returns}
    for d in decisions:
        pick = picks.get(d["provision"], "merged")
        if pick != "merged":
            text = _pick(room, base, text, d, pick, sources)
    rows = [{**d, "pick": picks.get(d["provision"], "merged")} for d in decisions]
    return Merged(
        base,
        [v.hash for v in returns],
        text,
        decisions,
        [_conflict_words(c) for c in result.conflicts],
        rows,
    )


def _conflict_words(c: merge.Conflict) -> str:
    where = c.provision or "the text"
    return f"{where}: {c.kind.value} — “{c.ours or 'nothing'}” against “{c.theirs or 'nothing'}”"


def _pick(
    room: Room,
    base: str,
    text: Text,
    decision: dict[str, str],
    pick: str,
    sources: Mapping[str, str],
) -> Text:
    """Word one provision as the base or one return did, and record that decision."""
    pid = decision["provision"]
    if pick == "base":
        decision.update(decision="base")
        return _reworded(text, pid, text_model.find(room.text(base), pid), "the base version")
    source = pick.removeprefix("return:")
    if not pick.startswith("return:") or source not in sources:
        raise InvalidInputError(f"{pid}: that wording is not one of this integration's returns")
    decision.update({"decision": "return", "from": sources[source]})
    found = text_model.find(room.text(source), pid)
    return _reworded(text, pid, found, f"{sources[source]}'s return")


def _reworded(text: Text, pid: str, source: Provision | None, where: str) -> Text:
    if source is None:
        raise InvalidInputError(f"{pid} is not in {where}: keep the merged result")
    if text_model.find(text, pid) is None:
        raise InvalidInputError(f"{pid} is not in the integrated text: keep the merged result")
    return edit.update(
        text,
        pid,
        lambda p: replace(
            p, heading=source.heading, body=source.body, reservations=source.reservations
        ),
    )


# --- pages --------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
@_guarded
async def home(request: Request) -> Response:
    """My negotiations: state, pen, and what waits for me in each."""
    ctx, key = _context(request), _session_key(request)
    rows: list[dict[str, Any]] = []
    for row in ctx.services.negotiations() if key is not None else []:
        assert key is not None
        try:
            seat = ctx.views.seat(row.id, key)
        except NotFoundError:
            continue
        state = ctx.views.state(seat)
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
    return _render(request, "home.html", negotiations=rows)


@router.get("/keys", response_class=HTMLResponse)
@_guarded
async def keys_page(request: Request) -> Response:
    """Load, create and choose the key this browser signs with."""
    return _render(request, "keys.html", demo_codes=_demo_codes(request))


@router.get("/n/{nid}", response_class=HTMLResponse)
@_guarded
async def dashboard(request: Request, nid: str) -> Response:
    """Participants and roles, what each still has to do, the current text's status."""
    room = _room(request, nid)
    return _render(request, "dashboard.html", **_base_values(room, "dashboard"), o=_overview(room))


@router.get("/n/{nid}/live", response_class=HTMLResponse)
@_guarded
async def live(request: Request, nid: str) -> Response:
    """The dashboard's live region, fetched again when the stream says something moved."""
    room = _room(request, nid)
    return _render(request, "_live.html", **_base_values(room, "dashboard"), o=_overview(room))


@router.get("/n/{nid}/text", response_class=HTMLResponse)
@_guarded
async def text_page(request: Request, nid: str, v: str | None = None) -> Response:
    """A version's provision tree: numbering, brackets, options, reservations, comments."""
    room = _room(request, nid)
    version = v or _current(room.state)
    if version is None:
        return _render(
            request,
            "text.html",
            **_base_values(room, "text"),
            version=None,
            rows=[],
            versions=[],
            text_title="",
            text_status=None,
        )
    text = room.text(version)
    events = room.events()
    return _render(
        request,
        "text.html",
        **_base_values(room, "text"),
        version=version,
        rows=_provisions(text, _comments(events, version)),
        versions=_version_rows(room),
        text_title=text.title,
        text_status=_status(text),
        may_comment=_may(room, EventType.COMMENT),
    )


@router.get("/n/{nid}/versions", response_class=HTMLResponse)
@_guarded
async def versions_page(
    request: Request,
    nid: str,
    old: str | None = None,
    new: str | None = None,
    view: str = "inline",
) -> Response:
    """The history as a timeline, and the redline between any two versions."""
    room = _room(request, nid)
    rows = _version_rows(room)
    new = new or (rows[-1]["hash"] if rows else None)
    old = old or _before(rows, new)
    compared = _compare(room, old, new, view) if old and new else None
    return _render(
        request,
        "versions.html",
        **_base_values(room, "versions"),
        versions=rows,
        old=old,
        new=new,
        view="sides" if view == "sides" else "inline",
        compared=compared,
        timeline=_timeline(room, room.events()),
    )


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
    html = to_html(lines, standalone=False)
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


@router.get("/n/{nid}/amend", response_class=HTMLResponse)
@_guarded
async def amend_page(request: Request, nid: str, base: str | None = None) -> Response:
    """Edit a version in place and preview the redline against it."""
    room = _room(request, nid)
    return _amend_view(request, room, _amend_base(room, base), [], None)


@router.post("/n/{nid}/amend", response_class=HTMLResponse)
@_guarded
async def amend_edit(request: Request, nid: str) -> Response:
    """Add, undo or reset one edit operation; the page carries the list of operations."""
    room = _room(request, nid)
    form = await _form(request)
    base = _amend_base(room, form.required("base", "the base version"))
    ops = _ops(form.get("ops", "[]"))
    working = _working(room, base, ops)
    action, error = form.get("action", "add"), None
    if action == "undo":
        ops = ops[:-1]
    elif action == "reset":
        ops = []
    else:
        op = _op_from_form(form)
        try:
            _apply(working, op, room.me.code)
            ops.append(op)
        except ParleyError as exc:
            error = {"form": form.get("form"), "message": str(exc), "op": op}
    return _amend_view(request, room, base, ops, error, status=422 if error else 200)


def _amend_view(
    request: Request,
    room: Room,
    base: str,
    ops: list[Op],
    error: dict[str, Any] | None,
    status: int = 200,
) -> Response:
    working = _working(room, base, ops)
    cites = text_model.citations(working)
    rows = _provisions(working)
    preview = None
    if ops:
        lines = redline.compare(room.text(base), working)
        preview = {
            "html": Markup(to_html(lines, standalone=False)),
            "summary": summary_line(lines.summary),
            "unchanged": lines.unchanged,
        }
    return _render(
        request,
        "amend.html",
        status,
        **_base_values(room, "amend"),
        base=base,
        ops=ops,
        ops_json=json.dumps(ops, ensure_ascii=False),
        described=[_describe_op(op, cites) for op in ops],
        rows=rows,
        ids=[(r["id"], r["cite"]) for r in rows],
        kinds=[k.value for k in Kind],
        preview=preview,
        error=error,
        move=_amend_move(room, base),
        may_amend=_may(room, EventType.AMEND) or _may(room, EventType.PROPOSE),
        working_json=json.dumps(text_model.to_json(working), ensure_ascii=False, indent=1),
        version=text_model.version_hash(working),
        versions=_version_rows(room),
    )


@router.get("/n/{nid}/act", response_class=HTMLResponse)
@_guarded
async def act_page(request: Request, nid: str) -> Response:
    """Respond to versions, confirm, comment, state; mediators send, suspend, finalize."""
    room = _room(request, nid)
    readable = _version_rows(room)
    may = {m.value: _may(room, m) for m in BUILDERS}
    return _render(
        request,
        "act.html",
        **_base_values(room, "act"),
        may=may,
        versions=readable,
        waiting=_sent_to_me(room),
        confirmations=_pending_confirmations(room),
        finalizable=_finalizable(room),
        others=[c for c in room.state.charter.codes() if c != room.me.code],
        current=_current(room.state),
        suspended_by=room.state.suspended_by,
        joined=room.me.code in room.state.joined,
    )


@router.get("/n/{nid}/integrate", response_class=HTMLResponse)
@_guarded
async def integrate_page(request: Request, nid: str) -> Response:
    """A mediator merges returned amendments, deciding provision by provision."""
    room = _room(request, nid)
    _check_rule(room, EventType.INTEGRATE)
    bases = [v for v in room.state.versions if _returns_of(room, v)]
    form = Form(parse_qs(request.url.query, keep_blank_values=True))
    base = form.get("base") or (bases[-1] if bases else "")
    if not base:
        return _render(
            request,
            "integrate.html",
            **_base_values(room, "integrate"),
            bases=[],
            merged=None,
            returns=[],
            base="",
            query="",
        )
    if "returns" not in form.fields:
        form.fields = {
            **form.fields,
            "base": [base],
            "returns": [v.hash for v in _returns_of(room, base)],
        }
    merged = _merge(room, form)
    lines = redline.compare(room.text(base), merged.text)
    return _render(
        request,
        "integrate.html",
        **_base_values(room, "integrate"),
        bases=bases,
        base=base,
        returns=_returns_of(room, base),
        merged=merged,
        query=request.url.query,
        preview=Markup(to_html(lines, standalone=False)),
        summary=summary_line(lines.summary),
    )


@router.get("/n/{nid}/agreement", response_class=HTMLResponse)
@_guarded
async def agreement_page(request: Request, nid: str) -> Response:
    """The final text, the conclusion policy as a checklist, and the attestation buttons."""
    room = _room(request, nid)
    state = room.state
    holds, findings = policy.evaluate(state.charter.policy, state.attestations())
    final = state.final_text
    return _render(
        request,
        "agreement.html",
        **_base_values(room, "agreement"),
        final=state.final,
        rows=_provisions(final) if final else [],
        final_title=final.title if final else "",
        holds=holds,
        findings=findings,
        attested=_attested(state),
        can=_attestation_moves(room),
        statements=[s for s in state.statements if s.text is not None],
    )


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
@_guarded
async def audit_page(request: Request, nid: str) -> Response:
    """Every event with a verification badge (checked in the browser), and the log's checkpoint."""
    room = _room(request, nid)
    events = room.events()
    stored = room.ctx.services.publish() or room.ctx.services.checkpoint()
    log = room.state.charter.log
    return _render(
        request,
        "audit.html",
        **_base_values(room, "audit"),
        timeline=_timeline(room, events),
        events=[e.to_json() for e in events],
        checkpoint=stored.note if stored else None,
        log_vkey=log.vkey if log else None,
        witness_vkeys=_witness_vkeys(log.witness_policy if log else None),
    )


def _witness_vkeys(policy_text: str | None) -> list[str]:
    words = (line.split() for line in (policy_text or "").splitlines())
    return [w[2] for w in words if len(w) >= 3 and w[0] == "witness"]


@router.get("/n/{nid}/bundle")
@_guarded
async def bundle_download(request: Request, nid: str) -> Response:
    """The agreement bundle, to keep and to verify offline with ``parley verify``."""
    room = _room(request, nid)
    data = room.ctx.services.bundle(room.nid)
    name = f"parley-{room.nid[:12]}.bundle.json"
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(data, media_type="application/json", headers=headers)


@router.get("/verify", response_class=HTMLResponse)
@_guarded
async def verify_page(request: Request) -> Response:
    """Check any agreement bundle: the same report as ``parley verify``."""
    return _render(request, "verify.html", report=None, error=None)


@router.post("/verify", response_class=HTMLResponse)
@_guarded
async def verify_post(request: Request) -> Response:
    """The report for a pasted (or, with JavaScript, chosen) bundle."""
    form = await _form(request)
    data = form.get("bundle").encode()
    if not data.strip():
        return _render(
            request,
            "verify.html",
            422,
            report=None,
            error="choose a bundle file or paste its contents",
        )
    report = bundle.check_bundle(data)
    return _render(request, "verify.html", report=report, error=None)


@router.post("/n/{nid}/prepare/{move}")
async def prepare(request: Request, nid: str, move: str) -> Response:
    """Check a move's form and answer with the exact envelope and body to sign (JSON)."""
    try:
        room = _room(request, nid)
        if move not in EventType._value2member_map_ or EventType(move) not in BUILDERS:
            raise InvalidInputError(f"a page cannot prepare a {move!r} move")
        kind = EventType(move)
        _check_rule(room, kind)
        proposal = BUILDERS[kind](room, await _form(request))
        envelope = _envelope(room, kind, proposal)
    except ParleyError as exc:
        return _json_error(exc)
    return JSONResponse(
        {"envelope": envelope.to_json(), "body": proposal.body, "summary": proposal.summary},
        headers=SECURITY_HEADERS,
    )


@router.get("/n", include_in_schema=False)
async def negotiations_redirect(request: Request) -> Response:
    """``/n`` is the list of my negotiations."""
    return RedirectResponse("/", 303)


# --- demo mode ----------------------------------------------------------------------------------


def _loopback(request: Request) -> bool:
    """The client is on this machine and asked for a loopback host (no proxy, no rebinding)."""
    host = request.client.host if request.client else ""
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    named = (request.url.hostname or "").lower()
    return local and named in LOOPBACK_HOSTS


def _demo_dir(request: Request) -> Path | None:
    web = getattr(request.app.state, "web", None)
    folder = web.demo_keys_dir if isinstance(web, WebSettings) else None
    return folder if folder is not None and _loopback(request) else None


def _demo_codes(request: Request) -> list[str]:
    folder = _demo_dir(request)
    if folder is None:
        return []
    return sorted(p.stem for p in folder.glob("*.key") if CODE_RE.fullmatch(p.stem))


@router.get("/demo/keys/{code}")
async def demo_key(request: Request, code: str) -> Response:
    """A demo delegation's key file, for the one-click loading of demo mode (loopback only)."""
    folder = _demo_dir(request)
    if folder is None or code not in _demo_codes(request):
        return _json_error(NotFoundError("no such demo key"))
    data = (folder / f"{code}.key").read_bytes()
    return Response(data, media_type="application/json", headers=SECURITY_HEADERS)
