"""A redline in words for people: what happened to a bracket or options group, and the summary."""

from __future__ import annotations

from parley.core.redline import (
    AtomChange,
    BracketDiff,
    Change,
    Op,
    OptionDiff,
    OptionsDiff,
    ProvisionChange,
    Summary,
    Words,
)
from parley.core.text import Bracket, plain

# --- words for people ---------------------------------------------------------------------------


def describe(segment: BracketDiff | OptionsDiff | OptionDiff) -> str:
    """One short phrase saying what happened to a bracket, options group or option."""
    if isinstance(segment, BracketDiff):
        return _describe_bracket(segment)
    if isinstance(segment, OptionDiff):
        return f"option by {segment.proposer} {_OPTION_WORDS[segment.change]}"
    return _describe_options(segment)


def _held(codes: tuple[str, ...], prefix: str = "held by") -> str:
    return f" ({prefix} {', '.join(codes)})" if codes else ""


def _describe_bracket(segment: BracketDiff) -> str:
    old = segment.old.holders if segment.old else ()
    new = segment.new.holders if segment.new else ()
    if segment.change is AtomChange.CHANGED:
        parts = []
        if any(w.op is not Op.EQUAL for w in segment.words):
            parts.append("bracketed words changed")
        if old != new:
            parts.append(f"holders changed from {_codes(old)} to {_codes(new)}")
        return "; ".join(parts)
    return {
        AtomChange.UNCHANGED: "bracket" + _held(new),
        AtomChange.ADDED: "bracket added" + _held(new),
        AtomChange.REMOVED: "bracket removed with its words" + _held(old, "was held by"),
        AtomChange.OPENED: "words put in brackets" + _held(new),
        AtomChange.RESOLVED: "bracket removed, words kept" + _held(old, "was held by"),
    }[segment.change]


def _codes(codes: tuple[str, ...]) -> str:
    return ", ".join(codes) if codes else "nobody"


_OPTION_WORDS = {
    AtomChange.UNCHANGED: "unchanged",
    AtomChange.ADDED: "added",
    AtomChange.REMOVED: "removed",
    AtomChange.CHANGED: "changed",
    AtomChange.OPENED: "opened",
    AtomChange.RESOLVED: "resolved",
}


def _describe_options(segment: OptionsDiff) -> str:
    proposers = ", ".join(o.proposer for o in segment.options)
    if segment.change is AtomChange.CHANGED:
        changed = [describe(o) for o in segment.options if o.change is not AtomChange.UNCHANGED]
        return "options changed: " + "; ".join(changed)
    if segment.chosen is None:
        return {
            AtomChange.UNCHANGED: f"options ({proposers})",
            AtomChange.ADDED: f"options added ({proposers})",
            AtomChange.REMOVED: f"options removed with their words ({proposers})",
        }.get(segment.change, f"options {segment.change.value}")
    chosen = segment.options[segment.chosen]
    if segment.change is AtomChange.RESOLVED:
        what = "deletion" if not chosen.body else "wording"
        return f"options resolved: {chosen.proposer}'s {what} kept"
    others = ", ".join(o.proposer for o in segment.options if o is not chosen)
    return f"options opened: the existing words are {chosen.proposer}'s option; {others} proposed"


BADGES = {
    Change.ADDED: "added",
    Change.REMOVED: "removed",
    Change.MOVED: "moved",
    Change.RENUMBERED: "renumbered",
    Change.KIND: "kind changed",
    Change.HEADING: "heading changed",
    Change.RESERVATIONS: "reservations changed",
    Change.BODY: "words changed",
}
"""The badge shown for each kind of provision change."""


def headline(change: ProvisionChange) -> str:
    """How to name the provision: its citation (new, or old if removed) and heading."""
    side = change.new or change.old
    assert side is not None
    return f"{side.citation} — {side.heading}" if side.heading else side.citation


def details(change: ProvisionChange) -> list[str]:
    """Sentences about the provision's place, number, kind and reservations."""
    old, new = change.old, change.new
    if new is None:
        return [f"removed (was {old.citation})"] if old else []
    if old is None:
        return [f"added as {new.citation}"]
    out: list[str] = []
    if change.moved:
        out.append(f"moved from {old.citation} to {new.citation}")
    if change.renumbered and not (change.moved and old.citation != new.citation):
        # by citation, which a lawyer matches against the old text ("2." says too little)
        out.append(f"renumbered from {old.citation} to {new.citation}")
    if change.kind_changed:
        out.append(f"now {_a(new.kind.value)} (was {_a(old.kind.value)})")
    out.extend(f"reservation entered by {code}" for code in change.reservations_added)
    out.extend(f"reservation lifted by {code}" for code in change.reservations_removed)
    return out


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def notes(change: ProvisionChange) -> list[str]:
    """One line per bracket or options group that changed in the body, with its words."""
    out: list[str] = []
    if change.added or change.removed:
        return out
    for segment in change.body:
        if isinstance(segment, Words) or segment.change is AtomChange.UNCHANGED:
            continue
        out.append(f"{describe(segment)}: “{_quote(segment)}”")
    return out


def _quote(segment: BracketDiff | OptionsDiff, limit: int = 60) -> str:
    atom = segment.new or segment.old
    assert atom is not None
    if isinstance(atom, Bracket):
        text = atom.text
    else:
        text = " | ".join(f"{o.proposer}: {plain(o.body)}".rstrip() for o in atom.options)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def summary_line(summary: Summary) -> str:
    """The counts in one sentence, leaving out what is zero."""
    provisions = [
        f"{n} {word}"
        for n, word in (
            (summary.added, "added"),
            (summary.removed, "removed"),
            (summary.moved, "moved"),
            (summary.renumbered, "renumbered"),
            (summary.changed, "changed"),
        )
        if n
    ]
    parts = []
    if provisions:
        parts.append("provisions: " + ", ".join(provisions))
    for label, (plus, minus) in (
        ("words", (summary.words_inserted, summary.words_deleted)),
        ("brackets", (summary.brackets_added, summary.brackets_removed)),
        ("options", (summary.options_added, summary.options_removed)),
    ):
        if plus or minus:
            verb = "inserted" if label == "words" else "added"
            gone = "deleted" if label == "words" else "removed"
            parts.append(f"{label}: {plus} {verb}, {minus} {gone}")
    return "; ".join(parts) if parts else "no changes"
