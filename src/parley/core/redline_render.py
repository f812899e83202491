"""Redlines for people and programs: JSON, Markdown and HTML, built as plain strings.

Every renderer walks the same stream of ``pieces``: words and the marks of brackets and options,
each kept, inserted or deleted, with ``Open``/``Close`` around every bracket, options group and
option so that a renderer can wrap them (HTML) or ignore the wrapping (Markdown, the terminal).
Brackets and options are shown in the text format's own notation: ``[words]{AF,PK}`` and
``[[AF: one wording | PK: another]]``.

The JSON form (``to_json``, format ``parley/redline/v1``) is documented in ``docs/redline.md``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from parley.core.canonical import JsonValue
from parley.core.redline import (
    AtomChange,
    BracketDiff,
    Change,
    Op,
    OptionDiff,
    OptionsDiff,
    ProvisionChange,
    Redline,
    Segment,
    Side,
    Summary,
    Words,
    sides,
)
from parley.core.text import Bracket, plain

REDLINE_FORMAT = "parley/redline/v1"


# --- JSON ---------------------------------------------------------------------------------------


def to_json(redline: Redline) -> dict[str, JsonValue]:
    """The redline as plain JSON data (see docs/redline.md for the schema)."""
    return {
        "format": REDLINE_FORMAT,
        "title": {"old": redline.old_title, "new": redline.new_title},
        "language": {"old": redline.old_language, "new": redline.new_language},
        "summary": _summary_json(redline.summary),
        "changes": [_change_json(c) for c in redline.changes],
    }


def _summary_json(summary: Summary) -> dict[str, JsonValue]:
    return {name: getattr(summary, name) for name in Summary.__dataclass_fields__}


def _change_json(change: ProvisionChange) -> dict[str, JsonValue]:
    return {
        "id": change.id,
        "changes": [c.value for c in change.changes],
        "old": _side_json(change.old),
        "new": _side_json(change.new),
        "reservations": {
            "added": list(change.reservations_added),
            "removed": list(change.reservations_removed),
        },
        "body": [_segment_json(s) for s in change.body],
    }


def _side_json(side: Side | None) -> JsonValue:
    if side is None:
        return None
    return {
        "kind": side.kind.value,
        "label": side.label,
        "citation": side.citation,
        "parent": side.parent,
        "heading": side.heading,
        "reservations": list(side.reservations),
    }


def _segment_json(segment: Segment) -> dict[str, JsonValue]:
    if isinstance(segment, Words):
        return {"type": "words", "op": segment.op.value, "text": segment.text}
    if isinstance(segment, BracketDiff):
        return {
            "type": "bracket",
            "change": segment.change.value,
            "old": _bracket_json(segment.old),
            "new": _bracket_json(segment.new),
            "holders": {
                "added": list(segment.holders_added),
                "removed": list(segment.holders_removed),
            },
            "words": [_segment_json(w) for w in segment.words],
        }
    return {
        "type": "options",
        "change": segment.change.value,
        "chosen": segment.chosen,
        "options": [_option_json(o) for o in segment.options],
    }


def _bracket_json(bracket: Bracket | None) -> JsonValue:
    if bracket is None:
        return None
    return {"text": bracket.text, "holders": list(bracket.holders)}


def _option_json(option: OptionDiff) -> dict[str, JsonValue]:
    return {
        "change": option.change.value,
        "proposer": option.proposer,
        "body": [_segment_json(s) for s in option.body],
    }


# --- pieces: the shared walk --------------------------------------------------------------------


class Role(StrEnum):
    """What a piece of a rendered body is."""

    WORDS = "words"
    BRACKET = "bracket"
    """The square brackets around words not yet agreed."""
    HOLDERS = "holders"
    """Who holds a bracket open: ``{AF,PK}``."""
    OPTIONS = "options"
    """The marks around and between alternatives: ``[[``, `` | ``, ``]]``."""
    PROPOSER = "proposer"
    """Who proposed an alternative: ``AF:``."""


@dataclass(frozen=True, slots=True)
class Piece:
    """Text to show, kept, inserted or deleted."""

    op: Op
    role: Role
    text: str


@dataclass(frozen=True, slots=True)
class Open:
    """Start of a bracket, an options group or one option, with a note saying what happened."""

    what: str
    """``bracket``, ``options`` or ``option``."""
    change: AtomChange
    note: str


@dataclass(frozen=True, slots=True)
class Close:
    """End of the innermost ``Open``."""


Event = Piece | Open | Close

_MARK_OP = {
    AtomChange.UNCHANGED: Op.EQUAL,
    AtomChange.CHANGED: Op.EQUAL,
    AtomChange.ADDED: Op.INSERT,
    AtomChange.OPENED: Op.INSERT,
    AtomChange.REMOVED: Op.DELETE,
    AtomChange.RESOLVED: Op.DELETE,
}
"""How the marks of a bracket or options group show, by what happened to it."""


def pieces(segments: Iterable[Segment]) -> Iterator[Event]:
    """The body diff as a stream of pieces to show, in reading order."""
    for segment in segments:
        if isinstance(segment, Words):
            yield Piece(segment.op, Role.WORDS, segment.text)
        elif isinstance(segment, BracketDiff):
            yield from _bracket_pieces(segment)
        else:
            yield from _options_pieces(segment)


def _bracket_pieces(segment: BracketDiff) -> Iterator[Event]:
    op = _MARK_OP[segment.change]
    yield Open("bracket", segment.change, describe(segment))
    yield Piece(op, Role.BRACKET, "[")
    yield from pieces(segment.words)
    yield Piece(op, Role.BRACKET, "]")
    old, new = _holders_text(segment.old), _holders_text(segment.new)
    if segment.change is not AtomChange.CHANGED or old == new:
        if old or new:
            yield Piece(op, Role.HOLDERS, old or new)
    else:
        if old:
            yield Piece(Op.DELETE, Role.HOLDERS, old)
        if new:
            yield Piece(Op.INSERT, Role.HOLDERS, new)
    yield Close()


def _holders_text(bracket: Bracket | None) -> str:
    return "{" + ",".join(bracket.holders) + "}" if bracket and bracket.holders else ""


def _options_pieces(segment: OptionsDiff) -> Iterator[Event]:
    op = _MARK_OP[segment.change]
    yield Open("options", segment.change, describe(segment))
    yield Piece(op, Role.OPTIONS, "[[")
    old_seen = new_seen = False
    for option in segment.options:
        in_old, in_new = sides(option)
        sep_old, sep_new = in_old and old_seen, in_new and new_seen
        if sep_old or sep_new:
            sep = Op.EQUAL if sep_old and sep_new else Op.DELETE if sep_old else Op.INSERT
            yield Piece(op if sep is Op.EQUAL else sep, Role.OPTIONS, " | ")
        yield from _option_pieces(option, op)
        old_seen, new_seen = old_seen or in_old, new_seen or in_new
    yield Piece(op, Role.OPTIONS, "]]")
    yield Close()


def _option_pieces(option: OptionDiff, group_op: Op) -> Iterator[Event]:
    op = _MARK_OP[option.change] if option.change in _ONE_SIDED else group_op
    yield Open("option", option.change, describe(option))
    yield Piece(op, Role.PROPOSER, f"{option.proposer}: " if option.body else f"{option.proposer}:")
    yield from pieces(option.body)
    yield Close()


_ONE_SIDED = frozenset({AtomChange.ADDED, AtomChange.REMOVED})


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
        out.append(f"renumbered from {old.label} to {new.label}")
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


# --- Markdown -----------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_~\[\]<>&|])")
_MD_LINE_START = re.compile(r"^([#>+=-]|\d+[.)])", re.MULTILINE)


def md_escape(text: str) -> str:
    """Text that Markdown shows as is: no emphasis, links, HTML or headings by accident."""
    return _MD_LINE_START.sub(r"\\\1", _MD_SPECIAL.sub(r"\\\1", text))


_MD_TAGS = {"~~": ("<del>", "</del>"), "**": ("<ins>", "</ins>")}


def _md_wrap(text: str, marker: str, before: str = " ", after: str = " ") -> str:
    """``~~text~~`` or ``**text**``, white space kept outside the markers.

    Markdown ignores a marker between punctuation and a letter (``a~~[~~b``), so such a span is
    wrapped in ``<del>`` or ``<ins>`` instead; ``before`` and ``after`` are the characters around.
    """
    core = text.strip()
    if not core:
        return text
    start = text.index(core[0])
    lead, trail = text[:start], text[start + len(core) :]
    opens = bool(lead) or _md_free(before) or not _punctuation(core[0])
    closes = bool(trail) or _md_free(after) or not _punctuation(core[-1])
    left, right = (marker, marker) if opens and closes else _MD_TAGS[marker]
    return f"{lead}{left}{md_escape(core)}{right}{trail}"


def _punctuation(c: str) -> bool:
    return not c.isalnum() and not c.isspace()


def _md_free(c: str) -> bool:
    """True if a marker beside ``c`` (or beside nothing) still counts as one."""
    return not c or c.isspace() or _punctuation(c)


def _md_span(op: Op, text: str, before: str, after: str) -> str:
    if op is Op.EQUAL:
        return md_escape(text).replace("\n", "\n\n")
    marker = "**" if op is Op.INSERT else "~~"
    lines = text.split("\n")
    last = len(lines) - 1
    out = [
        _md_wrap(
            line if k == last else line + "¶",
            marker,
            before if k == 0 else " ",
            after if k == last else " ",
        )
        for k, line in enumerate(lines)
    ]
    return ("\n\n" if op is Op.INSERT else " ").join(out)


def markdown_body(segments: Iterable[Segment]) -> str:
    """A body diff in Markdown: ``~~deleted~~``, ``**inserted**``, brackets as in the text."""
    parts = runs(pieces(segments))
    out = []
    for k, (op, text) in enumerate(parts):
        before = _md_edge(parts[k - 1], last=True) if k else ""
        after = _md_edge(parts[k + 1], last=False) if k + 1 < len(parts) else ""
        out.append(_md_span(op, text, before, after))
    return "".join(out)


def _md_edge(part: tuple[Op, str], *, last: bool) -> str:
    """The character a neighbouring run shows next to this one (a marker is punctuation)."""
    op, text = part
    if op is not Op.EQUAL and text.strip():
        return "~"
    return text[-1] if last else text[0]


def runs(events: Iterable[Event]) -> list[tuple[Op, str]]:
    """Pieces joined into runs of the same op (wrapping dropped)."""
    out: list[tuple[Op, str]] = []
    for event in events:
        if not isinstance(event, Piece) or not event.text:
            continue
        if out and out[-1][0] is event.op:
            out[-1] = (event.op, out[-1][1] + event.text)
        else:
            out.append((event.op, event.text))
    return out


def to_markdown(redline: Redline) -> str:
    """A readable redline in Markdown, one section per changed provision."""
    lines = [f"# Redline: {md_escape(redline.new_title)}", ""]
    if redline.title_changed:
        lines += [f"**Title:** {_md_pair(redline.old_title, redline.new_title)}", ""]
    if redline.language_changed:
        lines += [f"**Language:** {_md_pair(redline.old_language, redline.new_language)}", ""]
    lines += [f"**Summary:** {summary_line(redline.summary)}", ""]
    for change in redline.changes:
        lines += _md_change(change)
    return "\n".join(lines).rstrip("\n") + "\n"


def _md_pair(old: str, new: str) -> str:
    return f"{_md_wrap(old, '~~')} {_md_wrap(new, '**')}"


def _md_change(change: ProvisionChange) -> list[str]:
    badges = " · ".join(BADGES[c] for c in change.changes)
    lines = [f"## {md_escape(headline(change))} (`{change.id}`)", "", f"*{badges}*", ""]
    lines += [f"- {md_escape(d)}" for d in details(change)]
    if change.heading_changed and change.old and change.new:
        lines.append(f"- heading: {_md_heading(change.old, change.new)}")
    if lines[-1]:
        lines.append("")
    if change.body:
        lines += [markdown_body(change.body), ""]
    remarks = notes(change)
    if remarks:
        lines += [*(f"- {md_escape(n)}" for n in remarks), ""]
    return lines


def _md_heading(old: Side, new: Side) -> str:
    if old.heading and new.heading:
        return _md_pair(old.heading, new.heading)
    if new.heading:
        return _md_wrap(new.heading, "**")
    return _md_wrap(old.heading or "", "~~")


# --- HTML ---------------------------------------------------------------------------------------

_TAG = {Op.INSERT: "ins", Op.DELETE: "del"}


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _html_piece(piece: Piece, breaks: Op) -> str:
    """A piece; a paragraph break inserted or deleted shows as ¶, and breaks the line only on
    the side being read (``breaks``)."""
    text = _esc(piece.text)
    if piece.op is Op.EQUAL:
        return text if piece.role is Role.WORDS else f'<span class="pl-{piece.role}">{text}</span>'
    if "\n" in text:
        text = text.replace("\n", "¶\n" if piece.op is breaks else "¶")
    tag = _TAG[piece.op]
    return f'<{tag} class="pl-{piece.role}">{text}</{tag}>'


def html_body(segments: Iterable[Segment], *, show: frozenset[Op] = frozenset(Op)) -> str:
    """A body diff as HTML: ``<ins>``/``<del>`` with classes; ``show`` picks the sides shown."""
    out: list[str] = []
    breaks = Op.INSERT if Op.INSERT in show else Op.DELETE
    for event in pieces(segments):
        if isinstance(event, Open):
            classes = f"pl-atom pl-atom-{event.what} pl-atom-{event.change}"
            out.append(f'<span class="{classes}" title="{_esc(event.note)}">')
        elif isinstance(event, Close):
            out.append("</span>")
        elif event.op in show:
            out.append(_html_piece(event, breaks))
    return "".join(out)


_OLD_SIDE = frozenset({Op.EQUAL, Op.DELETE})
_NEW_SIDE = frozenset({Op.EQUAL, Op.INSERT})


def to_html(redline: Redline, *, standalone: bool = True) -> str:
    """The redline as HTML: a complete page with its stylesheet, or the bare ``<div>``.

    Each changed body is given twice: inline (``.pl-inline``) and side by side (``.pl-sides``);
    the class ``pl-view-inline`` or ``pl-view-sides`` on the outer ``div`` picks which shows.
    """
    div = _html_redline(redline)
    if not standalone:
        return div
    return _PAGE.format(
        language=_esc(redline.new_language),
        title=_esc(f"Redline: {redline.new_title}"),
        style=STYLESHEET,
        body=div,
    )


def _html_redline(redline: Redline) -> str:
    head = [f"<h1>Redline: {_esc(redline.new_title)}</h1>"]
    if redline.title_changed:
        head.append(_html_pair("Title", redline.old_title, redline.new_title))
    if redline.language_changed:
        head.append(_html_pair("Language", redline.old_language, redline.new_language))
    head.append(f'<p class="pl-summary">{_esc(summary_line(redline.summary))}</p>')
    sections = "\n".join(_html_change(c) for c in redline.changes)
    return (
        '<div class="pl-redline pl-view-inline">\n'
        f'<header class="pl-head">\n{chr(10).join(head)}\n</header>\n{sections}\n</div>\n'
    )


def _html_pair(label: str, old: str, new: str) -> str:
    return (
        f'<p class="pl-meta"><span class="pl-meta-label">{label}:</span> '
        f'<del class="pl-words">{_esc(old)}</del> <ins class="pl-words">{_esc(new)}</ins></p>'
    )


def _html_change(change: ProvisionChange) -> str:
    classes = " ".join(["pl-change", *(f"pl-change-{c}" for c in change.changes)])
    badges = "".join(f'<li class="pl-badge pl-badge-{c}">{BADGES[c]}</li>' for c in change.changes)
    parts = [
        f'<section class="{classes}" id="pl-{_esc(change.id)}" data-id="{_esc(change.id)}"'
        f"{_html_places(change)}>",
        f'<h2><span class="pl-cite">{_esc(headline(change))}</span> '
        f'<code class="pl-id">{_esc(change.id)}</code></h2>',
        f'<ul class="pl-badges">{badges}</ul>',
    ]
    parts += _html_list("pl-details", [_esc(d) for d in details(change)] + _html_heading(change))
    if change.body:
        parts.append(_html_bodies(change.body))
    parts += _html_list("pl-notes", [_esc(n) for n in notes(change)])
    parts.append("</section>")
    return "\n".join(parts)


def _html_places(change: ProvisionChange) -> str:
    old = f' data-from="{_esc(change.old.citation)}"' if change.old else ""
    new = f' data-to="{_esc(change.new.citation)}"' if change.new else ""
    return old + new


def _html_heading(change: ProvisionChange) -> list[str]:
    if not change.heading_changed or not change.old or not change.new:
        return []
    old = f'<del class="pl-words">{_esc(change.old.heading)}</del>' if change.old.heading else ""
    new = f'<ins class="pl-words">{_esc(change.new.heading)}</ins>' if change.new.heading else ""
    return [f"heading: {' '.join(x for x in (old, new) if x)}"]


def _html_list(cls: str, items: list[str]) -> list[str]:
    if not items:
        return []
    return [f'<ul class="{cls}">' + "".join(f"<li>{item}</li>" for item in items) + "</ul>"]


def _html_bodies(body: tuple[Segment, ...]) -> str:
    return (
        f'<div class="pl-body pl-inline">{html_body(body)}</div>\n'
        '<div class="pl-sides">'
        f'<div class="pl-body pl-old">{html_body(body, show=_OLD_SIDE)}</div>'
        f'<div class="pl-body pl-new">{html_body(body, show=_NEW_SIDE)}</div>'
        "</div>"
    )


STYLESHEET = """\
:root { --ink: #1f2328; --muted: #59636e; --rule: #d0d7de; --ins: #0a5c2b; --ins-bg: #e3f4e8;
  --del: #9f1c1c; --del-bg: #fbe9e9; --mark: #7a4e00; --paper: #fff; }
body { margin: 0; background: var(--paper); color: var(--ink);
  font: 16px/1.6 Georgia, Cambria, "Times New Roman", serif; }
.pl-page { max-width: 54rem; margin: 2rem auto; padding: 0 1.25rem; }
h1, h2, .pl-summary, .pl-meta, .pl-badges, .pl-details, .pl-notes, .pl-switch {
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
h2 { font-size: 1.1rem; margin: 0 0 .35rem; }
.pl-head { border-bottom: 2px solid var(--ink); padding-bottom: .75rem; margin-bottom: 1rem; }
.pl-summary, .pl-meta { margin: .25rem 0; color: var(--muted); font-size: .92rem; }
.pl-meta-label { font-weight: 600; color: var(--ink); }
.pl-change { border-bottom: 1px solid var(--rule); padding: .9rem 0; break-inside: avoid-page; }
.pl-id { font-size: .8rem; color: var(--muted); background: #f3f4f6; padding: 0 .3em;
  border-radius: 3px; }
.pl-badges { list-style: none; margin: 0 0 .4rem; padding: 0; }
.pl-badge { display: inline-block; margin: 0 .3rem .2rem 0; padding: 0 .5em; font-size: .72rem;
  letter-spacing: .04em; text-transform: uppercase; border: 1px solid currentColor;
  border-radius: 1em; color: var(--muted); }
.pl-badge-added { color: var(--ins); } .pl-badge-removed { color: var(--del); }
.pl-badge-moved, .pl-badge-renumbered { color: #0b5394; }
.pl-details, .pl-notes { margin: .2rem 0 .5rem; padding-left: 1.2rem; font-size: .9rem;
  color: var(--muted); }
.pl-body { white-space: pre-wrap; overflow-wrap: anywhere; margin: .4rem 0; }
ins { color: var(--ins); background: var(--ins-bg); text-decoration: underline;
  text-decoration-thickness: 1px; text-underline-offset: 2px; }
del { color: var(--del); background: var(--del-bg); text-decoration: line-through; }
.pl-bracket, .pl-holders, .pl-options, .pl-proposer { font-weight: 700; }
span.pl-bracket, span.pl-holders, span.pl-options, span.pl-proposer { color: var(--mark); }
.pl-holders, .pl-proposer { font-family: system-ui, sans-serif; font-size: .85em; }
.pl-atom-bracket.pl-atom-unchanged, .pl-atom-options.pl-atom-unchanged { background: #fff6d6; }
.pl-sides { display: grid; grid-template-columns: 1fr 1fr; gap: 1.25rem; }
.pl-sides .pl-old { border-right: 1px solid var(--rule); padding-right: 1.25rem; }
.pl-view-inline .pl-sides { display: none; }
.pl-view-sides .pl-inline { display: none; }
.pl-switch { margin: 0 0 1rem; font-size: .9rem; color: var(--muted); }
.pl-switch input { margin-left: .8rem; }
#pl-view-sides:checked ~ .pl-redline .pl-inline { display: none; }
#pl-view-sides:checked ~ .pl-redline .pl-sides { display: grid; }
@media print {
  body { font-size: 11pt; }
  .pl-page { max-width: none; margin: 0; padding: 0; }
  .pl-switch, .pl-page > input { display: none; }
  ins, del, .pl-atom { background: none !important; }
  ins { text-decoration: underline double; }
  h2 { break-after: avoid-page; }
}
"""
"""The stylesheet of a standalone redline page; a web UI may reuse the same classes."""

_PAGE = """\
<!DOCTYPE html>
<html lang="{language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="parley">
<title>{title}</title>
<style>
{style}</style>
</head>
<body>
<main class="pl-page">
<input type="radio" name="pl-view" id="pl-view-inline" checked>\
<label class="pl-switch" for="pl-view-inline">Inline</label>
<input type="radio" name="pl-view" id="pl-view-sides">\
<label class="pl-switch" for="pl-view-sides">Side by side</label>
{body}</main>
</body>
</html>
"""
