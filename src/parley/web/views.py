"""What the pages show, built from the state the caller may read."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from parley.core import (
    protocol,
    textformat,
)
from parley.core import text as text_model
from parley.core.agenda import Task, agenda, tabled
from parley.core.event import (
    EventType,
    SignedEvent,
)
from parley.core.protocol import Mode, State
from parley.core.report import human_time
from parley.core.text import Bracket, Options, Run, Text
from parley.web.caller import Room
from parley.web.site import short


def current_version(state: State) -> str | None:
    """The final text once there is one, else the latest negotiating text the caller can read:
    proposed or integrated, not a delegation's return (which only its author and the mediators
    may be reading)."""
    if state.final:
        return state.final
    latest = tabled(state)
    if latest is not None and latest.hash in state.texts:
        return latest.hash
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


def provision_rows(
    text: Text, notes: Mapping[str, list[dict[str, Any]]] | None = None
) -> list[Any]:
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


def text_status(text: Text) -> dict[str, Any]:
    """How far the text is from clean, and where: each open provision by its citation."""
    st, cites = text_model.status(text), text_model.citations(text)
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
        "remain": "remains" if st.brackets + st.options + st.reservations == 1 else "remain",
        "open_cites": [(pid, cites[pid]) for pid in st.open_ids],
    }


def comments_by_provision(
    comments: Iterable[protocol.Comment], version: str | None = None
) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for c in comments:
        if c.text is None or (version is not None and c.version != version):
            continue
        out.setdefault(str(c.provision), []).append(
            {
                "author": c.author,
                "time": c.time,
                "text": c.text,
                "caucus": c.audience is not None,
                "version": c.version or "",
            }
        )
    return out


MADE = {
    EventType.PROPOSE: "proposed",
    EventType.AMEND: "returned",
    EventType.INTEGRATE: "integrated",
}
"""How a version came to be, in the words of a version list ("integrated by TR")."""


def version_rows(room: Room) -> list[dict[str, Any]]:
    return [
        {
            "hash": v.hash,
            "author": v.author,
            "move": v.move.value,
            "made": MADE.get(v.move, v.move.value),
            "parents": list(v.parents),
            "time": v.time,
            "final": v.hash == room.state.final,
            "readers": list(v.audience or ()),
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
    version = short(str(body.get("version", "")))
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
            f"{short(str(body.get('base', '')))}"
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


def timeline(room: Room, events: list[SignedEvent]) -> list[dict[str, Any]]:
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


def overview(room: Room) -> dict[str, Any]:
    """What the dashboard's live region shows."""
    state, tasks = room.state, agenda(room.state)
    current = current_version(state)
    return {
        "phase": state.phase.value,
        "events": state.seq,
        "pen": protocol.pen_holders(state),
        "participants": _participants(state, tasks),
        "mine": [t for t in tasks if t.code == room.me.code],
        "current": current,
        "status": text_status(room.text(current)) if current else None,
        "suspended_by": state.suspended_by,
        "final": state.final,
        **latest_statements(state, DASHBOARD_STATEMENTS),
    }


DASHBOARD_STATEMENTS = 20
"""Statements the dashboard lists, the latest; the Agreement page lists them all on request."""


def latest_statements(state: protocol.State, shown: int | None) -> dict[str, Any]:
    """The readable statements (the latest ``shown`` of them, or all for None) and how many
    there are: a long negotiation has thousands."""
    readable = [s for s in state.statements if s.text is not None]
    return {
        "statements": readable if shown is None else readable[-shown:],
        "statements_total": len(readable),
    }


def _me(room: Room) -> dict[str, Any]:
    return {
        "code": room.me.code,
        "name": room.me.name,
        "key": room.key.id_hex,
        "roles": [r.value for r in room.me.roles],
    }


TABS = {
    "dashboard": ("Dashboard", ""),
    "text": ("Text", "/text"),
    "versions": ("Versions", "/versions"),
    "amend": ("Amend", "/amend"),
    "act": ("Moves", "/act"),
    "integrate": ("Integrate", "/integrate"),
    "agreement": ("Agreement", "/agreement"),
    "audit": ("Audit", "/audit"),
}
"""A negotiation's tabs: each one's name (also its page's title, before the negotiation's) and
address under ``/n/{id}``."""


def base_values(room: Room, tab: str) -> dict[str, Any]:
    return {
        "nid": room.nid,
        "title": room.state.charter.title,
        "me": _me(room),
        "tab": tab,
        "tabs": TABS,
        "phase": room.state.phase.value,
    }
