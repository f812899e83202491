"""``parley redline OLD NEW``: what changed between two versions of a text.

The terminal view is built here (colour through rich, or plain text with git's ``[-deleted-]`` and
``{+inserted+}`` marks when the output is not a terminal or ``NO_COLOR`` is set); JSON, Markdown
and HTML come from ``parley.core.redline_render``. rich is imported only for the colour view, so
``--format json`` starts fast.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from parley.cli.errors import reported
from parley.cli.files import read_text, write_output

if TYPE_CHECKING:
    from parley.core.redline import ProvisionChange, Redline
    from parley.core.text import Text

FORMATS = ("terminal", "html", "markdown", "json")

Span = tuple[str, str]
"""Text and a style name: '' (plain), 'del', 'ins', 'mark', 'head', 'badge', 'muted'."""

STYLES = {
    "": "",
    "del": "red strike",
    "ins": "green underline",
    "mark": "bold yellow",
    "del-mark": "bold red strike",
    "ins-mark": "bold green underline",
    "head": "bold",
    "badge": "bold cyan",
    "muted": "dim",
}
"""rich styles for the colour view."""


@click.command("redline")
@click.argument("old", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="terminal",
    show_default=True,
    help="terminal (colour when it is one), html (a complete page), markdown or json.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
@click.option("-n", "--negotiation", help="With version hashes: the negotiation they belong to.")
@click.pass_context
def redline(
    ctx: click.Context, old: Path, new: Path, fmt: str, output: Path | None, negotiation: str | None
) -> None:
    """Show what changed from OLD to NEW: two text files, or two stored versions (their hashes).

    Provisions are matched by id, so a moved or renumbered provision is shown as moved or
    renumbered, not as deleted and inserted; inside each changed provision, deleted words are
    struck through and inserted words underlined, and changes to brackets and options are named.
    """
    from parley.core.redline import compare

    with reported():
        result = compare(_version(ctx, old, negotiation), _version(ctx, new, negotiation))
        if fmt == "terminal" and output is None and _colour():
            _print_colour(result)
            return
        _write(_render(result, fmt), output)


COMMANDS: list[click.Command] = [redline]


def _version(ctx: click.Context, ref: Path, negotiation: str | None) -> Text:
    """A file, or else a stored version named by its hash or its first digits."""
    if ref.exists() or not re.fullmatch(r"[0-9a-f]{4,64}…?", str(ref)):
        return _load(ref)
    from parley.cli.home import Home
    from parley.cli.negotiate import current

    home = ctx.find_root().obj
    assert isinstance(home, Home)
    return home.services().version(current(home, negotiation), str(ref))


def _load(path: Path) -> Text:
    """Read and parse one version; errors name the file."""
    return read_text(path)


def _colour() -> bool:
    """Colour only on a terminal, never when NO_COLOR is set (FORCE_COLOR forces it)."""
    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or sys.stdout.isatty()


def _render(result: Redline, fmt: str) -> str:
    from parley.core import redline_render

    if fmt == "json":
        return json.dumps(redline_render.to_json(result), ensure_ascii=False, indent=2) + "\n"
    if fmt == "markdown":
        return redline_render.to_markdown(result)
    if fmt == "html":
        return redline_render.to_html(result)
    return "".join(_plain(line) + "\n" for line in terminal_lines(result))


def _write(rendered: str, output: Path | None) -> None:
    write_output(rendered, output)


# --- the terminal view --------------------------------------------------------------------------


def terminal_lines(result: Redline) -> list[list[Span]]:
    """The redline as lines of styled spans, shared by the colour and the plain view."""
    from parley.core import redline_render as render

    lines: list[list[Span]] = [[(f"Redline: {result.new_title}", "head")]]
    if result.title_changed:
        lines.append([("Title: ", "muted"), *_pair(result.old_title, result.new_title)])
    if result.language_changed:
        lines.append([("Language: ", "muted"), *_pair(result.old_language, result.new_language)])
    lines.append([(render.summary_line(result.summary), "muted")])
    for change in result.changes:
        lines += [[], *_change_lines(change)]
    return lines


def _change_lines(change: ProvisionChange) -> list[list[Span]]:
    from parley.core import redline_render as render

    badges = " ".join(f"[{render.BADGES[c]}]" for c in change.changes)
    lines = [[(render.headline(change), "head"), (f"  {change.id}  ", "muted"), (badges, "badge")]]
    lines += [[("  • ", "muted"), (d, "")] for d in render.details(change)]
    if change.heading_changed and change.old and change.new:
        lines.append([("  • heading: ", "muted"), *_pair(change.old.heading, change.new.heading)])
    if change.body:
        lines += _body_lines(change)
    lines += [[("  • ", "muted"), (n, "muted")] for n in render.notes(change)]
    return lines


def _pair(old: str | None, new: str | None) -> list[Span]:
    """An old value struck out and the new one inserted (either may be missing)."""
    spans: list[Span] = [(old, "del")] if old else []
    if old and new:
        spans.append((" ", ""))
    return spans + ([(new, "ins")] if new else [])


def _body_lines(change: ProvisionChange) -> list[list[Span]]:
    """The body with its changes; a paragraph break kept or inserted starts a new line."""
    from parley.core import redline_render as render
    from parley.core.redline import Op

    lines: list[list[Span]] = [[("  ", "")]]
    for event in render.pieces(change.body):
        if not isinstance(event, render.Piece) or not event.text:
            continue
        style = {Op.EQUAL: "", Op.DELETE: "del", Op.INSERT: "ins"}[event.op]
        if event.role is not render.Role.WORDS:
            style = f"{style}-mark" if style else "mark"
        for k, part in enumerate(event.text.split("\n")):
            if k and style:
                lines[-1].append(("¶", style))
            if k and event.op is not Op.DELETE:
                lines.append([("  ", "")])
            if part:
                lines[-1].append((part, style))
    return lines


_PLAIN_MARKS = {"del": ("[-", "-]"), "ins": ("{+", "+}")}


def _plain(line: list[Span]) -> str:
    """A line without colour: git's word-diff marks around deletions and insertions."""
    out: list[str] = []
    merged: list[Span] = []
    for text, style in line:
        side = style.split("-")[0] if style.startswith(("del", "ins")) else ""
        if merged and merged[-1][1] == side:
            merged[-1] = (merged[-1][0] + text, side)
        else:
            merged.append((text, side))
    for text, side in merged:
        start, end = _PLAIN_MARKS.get(side, ("", ""))
        out.append(f"{start}{text}{end}")
    return "".join(out)


def _print_colour(result: Redline) -> None:
    from rich.console import Console
    from rich.text import Text as RichText

    console = Console(highlight=False, force_terminal=True)
    for line in terminal_lines(result):
        text = RichText()
        for part, style in line:
            text.append(part, style=STYLES[style])
        console.print(text)
