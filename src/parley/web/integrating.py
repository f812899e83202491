"""Integration: a mediator merges returned amendments and decides provision by provision."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from parley.core import (
    edit,
    integration,
    protocol,
    textformat,
)
from parley.core import text as text_model
from parley.core.text import Provision, Text
from parley.errors import InvalidInputError
from parley.web.caller import Room, form_version
from parley.web.forms import Form

OWN = "own"
"""The decision to word a provision as the mediator writes it (``wording-<provision>``)."""


@dataclass(frozen=True, slots=True)
class Merged:
    """An integration as the mediator has set it up."""

    base: str
    returns: list[str]
    text: Text
    decisions: list[dict[str, str]]
    conflicts: list[str]
    rows: list[dict[str, Any]]


def returns_of(room: Room, base: str) -> list[protocol.Version]:
    """The returns to ``base`` not yet integrated (an integration names those it merged)."""
    merged = integration.integrated(room.state.versions.values())
    return [
        v
        for v in room.state.versions.values()
        if integration.is_return_of(v, base) and v.hash in room.state.texts and v.hash not in merged
    ]


def merge_returns(room: Room, form: Form) -> Merged:
    base = form_version(room, form, "base")
    integration.check_current(room.state.versions, base)
    chosen = set(form.getlist("returns"))
    returns = [v for v in returns_of(room, base) if v.hash in chosen]
    result = integration.integrate(
        room.text(base),
        [integration.Return(v.author, room.text(v.hash)) for v in returns],
        room.me.code,
    )
    text, decisions = result.text, [dict(d) for d in result.decisions]
    picks, wordings = form.prefixed("decide-"), form.prefixed("wording-")
    sources = {v.hash: v.author for v in returns}
    for d in decisions:
        pick = picks.get(d["provision"], "merged")
        if pick == OWN:
            text = _own(text, d, wordings.get(d["provision"], ""))
        elif pick != "merged":
            text = _pick(room, base, text, d, pick, sources)
    rows = _in_document_order(
        text,
        [
            {**d, "pick": picks.get(d["provision"], "merged"), "wording": _wording(text, d)}
            for d in decisions
        ],
    )
    return Merged(
        base,
        [v.hash for v in returns],
        text,
        decisions,
        # a conflict settled by a decision (a wording picked or written) is no longer open
        [
            integration.conflict_words(c, text_model.citations(text))
            for c in result.conflicts
            if c.provision is None or c.provision in _still_options(decisions)
        ],
        rows,
    )


def _in_document_order(text: Text, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The decisions as a reader meets their provisions, each cited as a lawyer cites it
    ("Article 2(1)"); a provision the text no longer has comes last, by its id."""
    cites = text_model.citations(text)
    place = {p.id: n for n, (p, _) in enumerate(text_model.walk(text))}
    ordered = sorted(rows, key=lambda r: (place.get(r["provision"], len(place)), r["provision"]))
    return [{**r, "cite": cites.get(r["provision"], r["provision"])} for r in ordered]


def _still_options(decisions: list[dict[str, str]]) -> set[str]:
    return {d["provision"] for d in decisions if d["decision"] == "options"}


def _own(text: Text, decision: dict[str, str], wording: str) -> Text:
    """Word one provision as the mediator wrote it (a compromise), and record that decision."""
    pid = decision["provision"]
    found = text_model.find(text, pid)
    if found is None:
        raise InvalidInputError(
            f"provision {pid} is not in the integrated text: there is nothing to word"
        )
    if not wording.strip():
        raise InvalidInputError(f"your wording of {pid} is empty: write it, or decide otherwise")
    try:
        body = textformat.parse_body(wording)
    except InvalidInputError as exc:
        raise InvalidInputError(f"your wording of {pid}: {exc}") from exc
    reworded = edit.set_body(text, pid, body)
    if text_model.find(reworded, pid) == found:
        return text  # the words as the merge left them: its decision (options, say) stands
    decision.update(decision="reworded")
    return reworded


def _wording(text: Text, decision: Mapping[str, str]) -> str | None:
    """The provision's words as the mediator would write them (the text format), to start a
    compromise from; None where there are none (a provision gone, or an article that only holds
    paragraphs)."""
    found = text_model.find(text, decision["provision"])
    return textformat.render_body(found.body) if found is not None and found.body else None


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
        raise InvalidInputError(
            f"provision {pid}: that wording is not one of this integration's returns"
        )
    decision.update({"decision": "return", "from": sources[source]})
    found = text_model.find(room.text(source), pid)
    return _reworded(text, pid, found, f"{sources[source]}'s return")


def _reworded(text: Text, pid: str, source: Provision | None, where: str) -> Text:
    """``pid`` worded as ``source`` has it; removed where ``source`` has none (the return
    deleted it, or the base never had it)."""
    if text_model.find(text, pid) is None:
        if source is None:
            return text  # gone from both: nothing to do
        raise InvalidInputError(
            f"provision {pid} is not in the integrated text: keep the merged result"
        )
    if source is None:
        return edit.remove(text, pid)
    return edit.update(
        text,
        pid,
        lambda p: replace(
            p, heading=source.heading, body=source.body, reservations=source.reservations
        ),
    )
