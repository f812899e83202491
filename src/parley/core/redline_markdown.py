"""A redline as Markdown: deletions struck through, insertions in bold, one section per change."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from parley.core.redline import Op, ProvisionChange, Redline, Segment, Side
from parley.core.redline_describe import BADGES, details, headline, notes, summary_line
from parley.core.redline_pieces import Event, Piece, pieces

# --- Markdown -----------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_~\[\]<>&|])")
_MD_LINE_START = re.compile(r"^([#>+=-])", re.MULTILINE)
_MD_ORDERED = re.compile(r"^(\d+)([.)])", re.MULTILINE)
"""A line that would start an ordered list: its ``.`` or ``)`` is escaped (a backslash before a
digit is no escape in CommonMark and would be shown)."""


def md_escape(text: str) -> str:
    """Text that Markdown shows as is: no emphasis, links, HTML, headings or lists by accident."""
    escaped = _MD_LINE_START.sub(r"\\\1", _MD_SPECIAL.sub(r"\\\1", text))
    return _MD_ORDERED.sub(r"\1\\\2", escaped)


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
    opens = _md_free(lead[-1] if lead else before) or not _punctuation(core[0])
    closes = _md_free(trail[0] if trail else after) or not _punctuation(core[-1])
    left, right = (marker, marker) if opens and closes else _MD_TAGS[marker]
    return f"{lead}{left}{md_escape(core)}{right}{trail}"


def _punctuation(c: str) -> bool:
    """Punctuation as CommonMark counts it: Unicode categories P and S (ASCII's included); a
    format character such as U+E0001 is none, and counts as a letter would."""
    return unicodedata.category(c)[0] in "PS"


def _space(c: str) -> bool:
    """White space as CommonMark counts it (category Zs, tab and line ends)."""
    return c in "\t\n\x0b\x0c\r" or unicodedata.category(c) == "Zs"


def _md_free(c: str) -> bool:
    """True if a marker beside ``c`` (or beside nothing) still counts as one."""
    return not c or _space(c) or _punctuation(c)


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
