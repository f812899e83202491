"""``parley merge BASE OURS THEIRS``: integrate two amended versions of one text.

The merged text goes to standard output (or ``-o``), a short account of what the mediator must
still decide to standard error. Exit 0 when the merge is clean, 1 when it made options or recorded
conflicts, 2 on invalid input.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from parley.cli.errors import EXIT_NOT_YET, EXIT_OK, reported
from parley.cli.files import read_text, write_output
from parley.core.text import check_code

if TYPE_CHECKING:
    from parley.core.merge import Conflict, MergeResult
    from parley.core.text import Text

SHOWN = 20
"""Conflicts listed one by one on standard error; the rest are counted."""


@click.command("merge")
@click.argument("base", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("ours", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("theirs", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--ours-label",
    default="OURS",
    show_default=True,
    help="Participant code that proposes OURS' options (e.g. AF).",
)
@click.option(
    "--theirs-label",
    default="THEIRS",
    show_default=True,
    help="Participant code that proposes THEIRS' options (e.g. PK).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the merged text to this file instead of standard output.",
)
def merge(
    base: Path, ours: Path, theirs: Path, ours_label: str, theirs_label: str, output: Path | None
) -> None:
    """Merge OURS and THEIRS, two amended versions of BASE, all in the text format.

    Provisions are matched by id, then words inside each provision. Edits that do not overlap
    are applied; overlapping edits become options attributed to --ours-label and
    --theirs-label. Exit 0: merged cleanly; 1: options made or conflicts recorded (listed on
    standard error); 2: invalid input.
    """
    from parley.core import merge as merging
    from parley.core import textformat

    with reported():
        check_code(ours_label, "--ours-label")
        check_code(theirs_label, "--theirs-label")
        old, mine, other = (_load(path) for path in (base, ours, theirs))
        result = merging.merge(old, mine, other, ours_label, theirs_label)
        _write(textformat.render(result.text), output)
        click.echo(summary(result), err=True)
    sys.exit(EXIT_OK if result.clean else EXIT_NOT_YET)


COMMANDS: list[click.Command] = [merge]


def summary(result: MergeResult) -> str:
    """A few lines for the drafting officer: counts, then each conflict with both sides."""
    if result.clean:
        return "merged cleanly"
    head = (
        f"merged with {_plural(result.options_created, 'new options group')} and "
        f"{_plural(len(result.conflicts), 'conflict')} to resolve"
    )
    lines = [head, *(f"  {_line(c)}" for c in result.conflicts[:SHOWN])]
    if len(result.conflicts) > SHOWN:
        lines.append(f"  … and {len(result.conflicts) - SHOWN} more")
    return "\n".join(lines)


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _line(conflict: Conflict) -> str:
    where = conflict.provision or "(the text)"
    ours, theirs = _quoted(conflict.ours), _quoted(conflict.theirs)
    return f"{where}: {conflict.kind.value}: ours {ours}; theirs {theirs}"


def _quoted(s: str, limit: int = 60) -> str:
    if not s:
        return "(nothing)"
    short = s if len(s) <= limit else s[: limit - 1] + "…"
    return f"“{short}”"


def _load(path: Path) -> Text:
    """Read and parse one version; errors name the file."""
    return read_text(path)


def _write(rendered: str, output: Path | None) -> None:
    write_output(rendered, output)
