"""A redline as HTML: a page or fragment with <del> and <ins>, and its stylesheet."""

from __future__ import annotations

import html
from collections.abc import Iterable

from parley.core.redline import Op, ProvisionChange, Redline, Segment
from parley.core.redline_describe import BADGES, details, headline, notes, summary_line
from parley.core.redline_pieces import Close, Open, Piece, Role, pieces
from parley.core.text import direction

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


def to_html(redline: Redline, *, standalone: bool = True, level: int = 1) -> str:
    """The redline as HTML: a complete page with its stylesheet, or the bare ``<div>``.

    Each changed body is given twice: inline (``.pl-inline``) and side by side (``.pl-sides``);
    the class ``pl-view-inline`` or ``pl-view-sides`` on the outer ``div`` picks which shows.
    ``level`` is the title's heading level (each change's is one below): a page that embeds the
    ``<div>`` under its own headings gives the next free level.
    """
    div = _html_redline(redline, level)
    if not standalone:
        return div
    return _PAGE.format(
        language=_esc(redline.new_language),
        title=_esc(f"Redline: {redline.new_title}"),
        style=STYLESHEET,
        body=div,
    )


def _html_redline(redline: Redline, level: int) -> str:
    head = [f'<h{level} class="pl-title">Redline: {_esc(redline.new_title)}</h{level}>']
    if redline.title_changed:
        head.append(_html_pair("Title", redline.old_title, redline.new_title))
    if redline.language_changed:
        head.append(_html_pair("Language", redline.old_language, redline.new_language))
    head.append(f'<p class="pl-summary">{_esc(summary_line(redline.summary))}</p>')
    script = _script(redline.new_language)
    sections = "\n".join(_html_change(c, level + 1, script) for c in redline.changes)
    return (
        '<div class="pl-redline pl-view-inline">\n'
        f'<header class="pl-head">\n{chr(10).join(head)}\n</header>\n{sections}\n</div>\n'
    )


def _html_pair(label: str, old: str, new: str) -> str:
    return (
        f'<p class="pl-meta"><span class="pl-meta-label">{label}:</span> '
        f'<del class="pl-words">{_esc(old)}</del> <ins class="pl-words">{_esc(new)}</ins></p>'
    )


def _script(language: str) -> str:
    """The attributes a body in ``language`` needs: its direction where it is written from right
    to left (the labels around it stay as they are), none otherwise."""
    if direction(language) == "ltr":
        return ""
    return f' lang="{_esc(language)}" dir="rtl"'


def _html_change(change: ProvisionChange, level: int, script: str = "") -> str:
    classes = " ".join(["pl-change", *(f"pl-change-{c}" for c in change.changes)])
    badges = "".join(f'<li class="pl-badge pl-badge-{c}">{BADGES[c]}</li>' for c in change.changes)
    parts = [
        f'<section class="{classes}" id="pl-{_esc(change.id)}" data-id="{_esc(change.id)}"'
        f"{_html_places(change)}>",
        f'<h{level} class="pl-change-h"><span class="pl-cite">{_esc(headline(change))}</span> '
        f'<code class="pl-id">{_esc(change.id)}</code></h{level}>',
        f'<ul class="pl-badges">{badges}</ul>',
    ]
    parts += _html_list("pl-details", [_esc(d) for d in details(change)] + _html_heading(change))
    if change.body:
        parts.append(_html_bodies(change.body, script))
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


def _html_bodies(body: tuple[Segment, ...], script: str = "") -> str:
    return (
        f'<div class="pl-body pl-inline"{script}>{html_body(body)}</div>\n'
        '<div class="pl-sides">'
        f'<div class="pl-body pl-old"{script}>{html_body(body, show=_OLD_SIDE)}</div>'
        f'<div class="pl-body pl-new"{script}>{html_body(body, show=_NEW_SIDE)}</div>'
        "</div>"
    )


STYLESHEET = """\
:root { --ink: #1f2328; --muted: #59636e; --rule: #d0d7de; --ins: #0a5c2b; --ins-bg: #e3f4e8;
  --del: #9f1c1c; --del-bg: #fbe9e9; --mark: #7a4e00; --paper: #fff; }
body { margin: 0; background: var(--paper); color: var(--ink);
  font: 16px/1.6 Georgia, Cambria, "Times New Roman", serif; }
.pl-page { max-width: 54rem; margin: 2rem auto; padding: 0 1.25rem; }
.pl-title, .pl-change-h, .pl-summary, .pl-meta, .pl-badges, .pl-details, .pl-notes, .pl-switch {
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.pl-title { font-size: 1.6rem; margin: 0 0 .5rem; }
.pl-change-h { font-size: 1.1rem; margin: 0 0 .35rem; }
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
ins::before, ins::after, del::before, del::after { position: absolute; width: 1px; height: 1px;
  overflow: hidden; clip: rect(1px, 1px, 1px, 1px); clip-path: inset(100%); white-space: nowrap; }
del::before { content: " [deleted: "; } del::after { content: "] "; }
ins::before { content: " [inserted: "; } ins::after { content: "] "; }
@media print {
  body { font-size: 11pt; }
  .pl-page { max-width: none; margin: 0; padding: 0; }
  .pl-switch, .pl-page > input { display: none; }
  ins, del, .pl-atom { background: none !important; }
  ins { text-decoration: underline double; }
  .pl-change-h { break-after: avoid-page; }
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
