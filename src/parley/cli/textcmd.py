"""``parley text``: check, format and show negotiating texts written in the text format."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from parley.cli.errors import EXIT_NOT_YET, reported
from parley.cli.files import read_bytes
from parley.core.text import (
    Bracket,
    Inline,
    Options,
    Provision,
    Run,
    Text,
    numbering,
    status,
    version_hash,
)
from parley.core.textformat import parse_bytes, render
from parley.errors import InvalidInputError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text as RichText

_FILE = click.Path(dir_okay=False, allow_dash=True)


def _name(path: str) -> str:
    return "<stdin>" if path == "-" else path


def _parse(data: bytes, path: str) -> Text:
    try:
        return parse_bytes(data)
    except InvalidInputError as error:
        raise error.with_source(_name(path)) from None


def _console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


class _VersionFallback(click.Group):
    """``parley text VERSION`` reads a version from the store; subcommands work on files."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.list_commands(ctx) and not args[0].startswith("-"):
            args = ["version", *args]
        return super().resolve_command(ctx, args)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # ``parley text -n ID VERSION``: options first are the version's (the group has none)
        if args and args[0].startswith("-") and args[0] not in ctx.help_option_names:
            args = ["version", *args]
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*self.commands, "version"])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name == "version":
            from parley.cli.records import text_version

            return text_version
        return super().get_command(ctx, cmd_name)


@click.group("text", cls=_VersionFallback)
def text_group() -> None:
    """Check, format and show text files, or print a version: ``parley text VERSION``."""


@text_group.command("check")
@click.argument("file", type=_FILE)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def check(file: str, as_json: bool) -> None:
    """Check that FILE is a valid text and summarize what is still open.

    Exits 0 when the text is valid (clean or not) and 2 when it is malformed, with one line on
    stderr naming the line and column.
    """
    with reported():
        text = _parse(read_bytes(file), file)
    summary = _summary(text, _name(file))
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        _print_summary(summary)


def _summary(text: Text, name: str) -> dict[str, object]:
    counts = status(text)
    return {
        "file": name,
        "title": text.title,
        "language": text.language,
        "provisions": counts.provisions,
        "brackets": counts.brackets,
        "options": counts.options,
        "reservations": counts.reservations,
        "clean": counts.clean,
        "open_ids": list(counts.open_ids),
        "version": version_hash(text),
    }


def _print_summary(summary: dict[str, object]) -> None:
    from rich.text import Text as RichText

    console = _console()
    console.print(RichText.assemble((str(summary["file"]), "bold"), ": valid text"))
    for key in ("title", "language", "provisions", "brackets", "options", "reservations"):
        console.print(RichText.assemble((f"  {key.capitalize():<14}", "bold"), str(summary[key])))
    open_ids = summary["open_ids"]
    assert isinstance(open_ids, list)
    clean = ("yes", "green") if summary["clean"] else ("no", "yellow")
    line = RichText.assemble(("  Clean         ", "bold"), clean)
    if open_ids:
        line.append(f" — open: {', '.join(open_ids)}")
    console.print(line)
    console.print(RichText.assemble(("  Version       ", "bold"), str(summary["version"])))


@text_group.command("format")
@click.argument("file", type=_FILE)
@click.option("-o", "--output", type=_FILE, help="Write here instead of FILE ('-': stdout).")
@click.option("--check", "check_only", is_flag=True, help="Only check; exit 1 if not canonical.")
def format_text(file: str, output: str | None, check_only: bool) -> None:
    """Rewrite FILE in canonical form: computed numbers, one line per paragraph, LF endings.

    With --check nothing is written: exit 0 if FILE is canonical, 1 if not, 2 if it is invalid.
    """
    with reported():
        data = read_bytes(file)
        canonical = render(_parse(data, file)).encode("utf-8")
    if check_only:
        if data != canonical:
            click.echo(f"{_name(file)}: not in canonical form (run: parley text format)", err=True)
            sys.exit(EXIT_NOT_YET)
        click.echo(f"{_name(file)}: canonical")
        return
    target = output or file
    if target == "-":
        sys.stdout.buffer.write(canonical)
        sys.stdout.flush()
        return
    with reported():
        _write(target, canonical)
    changed = data != canonical or target != file
    click.echo(f"{target}: {'written' if changed else 'already canonical'}")


def _write(path: str, data: bytes) -> None:
    try:
        Path(path).write_bytes(data)
    except OSError as error:
        raise InvalidInputError(f"cannot write the file: {error.strerror}", source=path) from None


@text_group.command("show")
@click.argument("file", type=_FILE)
def show(file: str) -> None:
    """Print FILE with its computed numbering, brackets and options highlighted."""
    with reported():
        text = _parse(read_bytes(file), file)
    console = _console()
    console.print(f"[bold]{_escape(text.title)}[/]  [dim]({text.language})[/]\n")
    labels = numbering(text)
    for provision in text.provisions:
        _show(console, provision, labels, 0)
    counts = status(text)
    console.print(
        "[green]clean text[/]"
        if counts.clean
        else f"[yellow]{counts.brackets} brackets, {counts.options} options, "
        f"{counts.reservations} reservations open[/]"
    )


def _show(console: Console, provision: Provision, labels: dict[str, str], indent: int) -> None:
    from rich.text import Text as RichText

    head = RichText(labels[provision.id], style="bold")
    if provision.heading:
        head.append(f" — {provision.heading}", style="bold")
    head.append(f"  #{provision.id}", style="dim")
    if provision.reservations:
        head.append(f"  reserved by {', '.join(provision.reservations)}", style="red")
    _print_indented(console, head, indent)
    for paragraph in _paragraphs(provision.body):
        _print_indented(console, paragraph, indent + 2)
        console.print()
    for child in provision.children:
        _show(console, child, labels, indent + 2)


def _print_indented(console: Console, text: RichText, indent: int) -> None:
    """Wrap ``text`` to the console width less ``indent``, without trailing spaces."""
    for line in text.wrap(console, max(20, console.width - indent)):
        line.rstrip()
        console.print(" " * indent, line, sep="")


def _paragraphs(body: tuple[Inline, ...]) -> list[RichText]:
    """The body as styled paragraphs: brackets in yellow, options in cyan, holders dimmed."""
    from rich.text import Text as RichText

    out = [RichText()]
    for item in body:
        if isinstance(item, Run):
            first, *rest = item.text.split("\n")
            out[-1].append(first)
            out.extend(RichText(line) for line in rest)
        elif isinstance(item, Bracket):
            _append_bracket(out[-1], item)
        else:
            _append_options(out[-1], item)
    return [p for p in out if p.plain]


def _append_bracket(line: RichText, bracket: Bracket) -> None:
    line.append(f"[{bracket.text}]", style="bold yellow")
    if bracket.holders:
        line.append(f"{{{','.join(bracket.holders)}}}", style="dim")


def _append_options(line: RichText, options: Options) -> None:
    line.append("[[", style="bold cyan")
    for i, option in enumerate(options.options):
        if i:
            line.append(" | ", style="bold cyan")
        line.append(f"{option.proposer}:" + (" " if option.body else ""), style="cyan")
        for item in option.body:
            if isinstance(item, Bracket):
                _append_bracket(line, item)
            else:
                line.append(item.text)
    line.append("]]", style="bold cyan")


def _escape(s: str) -> str:
    from rich.markup import escape

    return escape(s)


COMMANDS: list[click.Command] = [text_group]
"""Registered on ``parley`` by ``parley.cli.main``."""
