"""Integrating returned amendments: the mediator's merge, with a decision recorded per provision.

Returns are merged one after another into the base with the three-way merge; conflicting wording
becomes options attributed to the delegation that proposed it. The decisions say, for every
provision the returns touched, what the integration did with it, so the record shows how each
return was handled (LEOS calls this "processed").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from parley.core import merge, redline_align
from parley.core import text as text_model
from parley.core.event import EventType
from parley.core.protocol import Version
from parley.core.text import Text
from parley.errors import NotFoundError, PreconditionError


@dataclass(frozen=True, slots=True)
class Return:
    """One returned amendment: its text and the delegation that made it."""

    author: str
    text: Text


@dataclass(frozen=True, slots=True)
class Integration:
    """The integrated text, the per-provision decisions, and the conflicts left open."""

    text: Text
    decisions: tuple[dict[str, str], ...]
    conflicts: tuple[merge.Conflict, ...]


def is_return_of(version: Version, base: str) -> bool:
    """True when ``version`` is an amendment made against ``base``: a return to integrate."""
    return version.move is EventType.AMEND and version.parents[:1] == (base,)


def integrated(versions: Iterable[Version]) -> set[str]:
    """The versions an integration has merged (its parents: the base and the returns)."""
    return {p for v in versions if v.move is EventType.INTEGRATE for p in v.parents}


def base_of(versions: Mapping[str, Version], returns: Sequence[str], base: str | None) -> str:
    """The version ``returns`` amend: ``base`` once checked, or found when it is None.

    Each return must be an amendment of that one version. Merged against any other, an edit made
    by one delegation reads as the base's own wording and is lost without a conflict.
    """
    amends: dict[str, str] = {}
    for hash_ in returns:
        version = versions.get(hash_)
        if version is None:
            raise NotFoundError(f"version {hash_[:8]}… is not in this negotiation's record")
        if version.move is not EventType.AMEND:
            raise PreconditionError(
                f"version {hash_[:8]}… is not a returned amendment (it came from "
                f"{version.author}'s {version.move}): only returns are integrated"
            )
        amends[hash_] = version.parents[0]
    if base is None:
        found = sorted(set(amends.values()))
        if len(found) > 1:
            raise PreconditionError(
                "the returns amend different versions ("
                + ", ".join(f"{r[:8]}… amends {b[:8]}…" for r, b in amends.items())
                + "): integrate the returns of one version at a time"
            )
        return found[0]
    for hash_, amended in amends.items():
        if amended != base:
            raise PreconditionError(
                f"version {hash_[:8]}… amends {amended[:8]}…, not {base[:8]}…: returns are "
                "merged against the version they amend (leave the base out to use it)"
            )
    return base


def superseded(versions: Mapping[str, Version], base: str) -> str | None:
    """Why returns to ``base`` cannot be integrated any more, or None.

    An integration is made from ``base``. Once a later negotiating text (a proposal, or an
    integration of other returns to ``base``) is on record, one made from ``base`` would drop
    what that text changed, without a conflict: it is refused, with the ways on.
    """
    tabled = [v for v in versions.values() if v.move is not EventType.AMEND]
    latest = tabled[-1] if tabled else None
    if latest is None or latest.hash == base:
        return None
    made = "integration" if latest.move is EventType.INTEGRATE else str(latest.move)
    return (
        f"version {base[:8]}… is no longer the current text: {latest.author}'s {made} made "
        f"{latest.hash[:8]}… since, and an integration from {base[:8]}… would drop what that "
        f"changed. To bring a late return into the current text, write out {base[:8]}, "
        f"{latest.hash[:8]} and the return (parley text version VERSION -o FILE), merge them "
        f"(parley merge BASE CURRENT RETURN -o merged.txt) and propose the result with "
        f"--parent {latest.hash[:8]}; or send the current text for review"
    )


def check_current(versions: Mapping[str, Version], base: str) -> None:
    """Raise PreconditionError where ``superseded`` says why."""
    why = superseded(versions, base)
    if why:
        raise PreconditionError(why)


def integrate(base: Text, returns: Sequence[Return], mediator: str) -> Integration:
    """Merge every return into ``base``; later returns merge into the running result.

    A clash with the running result is attributed, provision by provision, to the one earlier
    return that changed that provision; to the mediator where several did (their words merged
    into one), or where it was the same delegation's.
    """
    merged = base
    conflicts: list[merge.Conflict] = []
    before = text_model.provisions_by_id(base)
    changed: list[tuple[str, set[str]]] = []  # each earlier return: author, provisions changed
    for ret in returns:
        after = text_model.provisions_by_id(ret.text)
        touched = {p for p in before.keys() | after.keys() if _changed(before, after, p)}
        if not changed:
            merged = ret.text
        else:
            ours_at = _authors(changed, ret.author)
            result = merge.merge(base, merged, ret.text, mediator, ret.author, ours_at)
            merged = result.text
            conflicts.extend(result.conflicts)
        changed.append((ret.author, touched))
    return Integration(merged, tuple(decide(base, merged, conflicts)), tuple(conflicts))


def _changed(
    before: Mapping[str, text_model.Provision], after: Mapping[str, text_model.Provision], pid: str
) -> bool:
    """Whether a return changed a provision's own words, or added or removed it."""
    old, new = before.get(pid), after.get(pid)
    if old is None or new is None:
        return old is not new
    return _words(old) != _words(new)


def _authors(changed: Sequence[tuple[str, set[str]]], theirs: str) -> dict[str, str]:
    """Who wrote the running result's words, provision by provision: the one earlier return
    that changed it (none for a provision that several changed, or the same delegation as the
    return merged now)."""
    by: dict[str, set[str]] = {}
    for author, touched in changed:
        for pid in touched:
            by.setdefault(pid, set()).add(author)
    return {pid: a for pid, (a, *more) in ((p, sorted(s)) for p, s in by.items())
            if not more and a != theirs}  # fmt: skip


def conflict_words(c: merge.Conflict, cites: Mapping[str, str]) -> str:
    """A clash as a lawyer reads it: the provision by its citation ("Article 1(1)"), and what
    the merge did with it: options to decide between, or one value kept and the other set
    aside (a heading, a kind or a place cannot hold options)."""
    where = cites.get(c.provision, c.provision) if c.provision else "the text"
    ours, theirs = c.ours or "nothing", c.theirs or "nothing"
    if c.kind in (merge.ConflictKind.WORDING, merge.ConflictKind.EDIT_DELETE):
        return f"{where}: {c.kind.value} — options: “{ours}” and “{theirs}”"
    return f"{where}: {c.kind.value} — “{ours}” kept, “{theirs}” set aside"


def decide(
    base: Text,
    merged: Text,
    conflicts: Sequence[merge.Conflict],
    published: Text | None = None,
) -> list[dict[str, str]]:
    """One decision per provision whose own words (kind, heading, body, reservations) or place
    differ from the base: options, reworded, added, removed, merged or moved. A provision whose
    only change is below it (a paragraph of an article) has none of its own.

    ``published`` is the text the mediator publishes instead of the merge as it came out; a
    provision whose own words (heading, body, reservations) differ between the two is
    ``reworded``, and a clash there is settled by the rewording (or by removing the provision),
    no longer options.
    """
    final = merged if published is None else published
    old, new = text_model.provisions_by_id(base), text_model.provisions_by_id(final)
    came_out = text_model.provisions_by_id(merged)
    disputed = {c.provision: c.kind.value for c in conflicts if c.provision}
    moved = {c.id for c in redline_align.compare(base, final).changes if c.moved}
    out = []
    for pid in sorted(old.keys() | new.keys()):
        clash = {"conflict": disputed[pid]} if pid in disputed else {}
        if pid not in new:
            out.append({"provision": pid, "decision": "removed", **clash})
        elif pid in came_out and _words(new[pid]) != _words(came_out[pid]):
            out.append({"provision": pid, "decision": "reworded", **clash})
        elif clash:
            out.append({"provision": pid, "decision": "options", **clash})
        elif pid not in old:
            out.append({"provision": pid, "decision": "added"})
        elif _own(old[pid]) != _own(new[pid]):
            out.append({"provision": pid, "decision": "merged"})
        elif pid in moved:
            out.append({"provision": pid, "decision": "moved"})
    return out


def _own(provision: text_model.Provision) -> tuple[object, ...]:
    return (provision.kind, *_words(provision))


def _words(provision: text_model.Provision) -> tuple[object, ...]:
    return (provision.heading, provision.body, provision.reservations)


def published(
    versions: Mapping[str, Version],
    returns: Sequence[str],
    audience: tuple[str, ...] | None,
) -> list[str]:
    """What integrating ``returns`` for ``audience`` (None: everyone) makes readable to more
    people than could read it: one sentence per confidential return it widens."""
    said = []
    for version in returns:
        record = versions[version]
        readers = record.audience
        if readers is not None and (audience is None or set(audience) - set(readers)):
            wider = "everyone" if audience is None else ", ".join(audience)
            said.append(
                f"{record.author}'s return {version[:8]}… is confidential ({', '.join(readers)}): "
                f"its words in the integrated version are readable by {wider}"
            )
    return said
