"""``parley verify``: check an agreement bundle offline and say, in words, what holds."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from parley.cli.errors import EXIT_INVALID, EXIT_NOT_YET, EXIT_OK, reported
from parley.cli.files import read_bytes, write_output
from parley.core import bundle, tlogpolicy
from parley.core.bundle import Report, Verdict
from parley.core.report import Line
from parley.core.textformat import render
from parley.errors import InvalidInputError

if TYPE_CHECKING:
    from rich.console import Console

EXIT_BY_VERDICT = {
    Verdict.IN_FORCE: EXIT_OK,
    Verdict.NOT_IN_FORCE: EXIT_NOT_YET,
    Verdict.INVALID: EXIT_INVALID,
}
STATEMENTS_SHOWN = 20
"""Statements the text report lists unless ``--statements``: the latest. A long negotiation has
thousands, which pushed the transparency log's checks out of sight."""
HEADLINE = {
    Verdict.IN_FORCE: "VALID AND IN FORCE",
    Verdict.NOT_IN_FORCE: "VALID, BUT NOT (YET) IN FORCE",
    Verdict.INVALID: "INVALID",
}


@click.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--policy",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A tlog-policy file naming the log witnesses you trust (instead of the charter's) and, "
    "in 'log' lines, the log keys you trust.",
)
@click.option(
    "--negotiation",
    "expected",
    metavar="ID",
    callback=lambda _ctx, _param, value: _expected(value),
    help="The negotiation's id as you know it from a source of your own (16 hex digits or "
    "more): a bundle of any other negotiation is refused, however valid.",
)
@click.option(
    "--text",
    "text_file",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Also write the final text, in the text format, to this file ('-': standard output).",
)
@click.option(
    "--statements",
    "every_statement",
    is_flag=True,
    help=f"List every statement (the report lists the latest {STATEMENTS_SHOWN}; --json has all).",
)
def verify(
    file: Path,
    as_json: bool,
    policy: Path | None,
    expected: str | None,
    text_file: Path | None,
    every_statement: bool,
) -> None:
    """Verify an agreement bundle offline: signatures, chain, rules, policy, log proofs.

    Exit 0 valid and in force, 1 valid but not in force, 2 invalid, tampered or malformed.
    """
    with reported():
        _check_text_file(text_file, as_json, [file, *([policy] if policy else [])])
        data = read_bytes(file, bundle.MAX_BUNDLE_BYTES)
        witness_policy = None if policy is None else _policy(policy)
    report = bundle.check_bundle(data, witness_policy=witness_policy, negotiation=expected)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        shown = None if every_statement else STATEMENTS_SHOWN
        print_report(report, str(file), None if policy is None else str(policy), shown)
    if text_file is not None:
        _write_text(report, text_file)
    sys.exit(EXIT_BY_VERDICT[report.verdict])


def _check_text_file(text_file: Path | None, as_json: bool, inputs: list[Path]) -> None:
    """Refuse, before anything is verified, a ``--text`` file that would overwrite an input
    (the bundle under examination, say), whose folder is not there, or that would mix the final
    text into the JSON on standard output."""
    if text_file is None:
        return
    if str(text_file) == "-":
        if as_json:
            raise InvalidInputError("--text - with --json would mix the text into the JSON: "
                                    "name a file for the text")  # fmt: skip
        return
    try:
        clash = text_file.exists() and any(_same(given, text_file) for given in inputs)
        folder = text_file.parent.is_dir()
    except OSError as exc:
        raise InvalidInputError(f"--text {text_file}: {exc.strerror or exc}") from None
    if clash:
        raise InvalidInputError(
            f"--text {text_file} is the file being read: name another file for the text"
        )
    if not folder:
        raise InvalidInputError(f"--text {text_file}: the folder {text_file.parent} does not exist")


def _same(given: Path, text_file: Path) -> bool:
    """Whether writing ``text_file`` would write over the input ``given`` (links included)."""
    return given.exists() and given.samefile(text_file)


def _write_text(report: Report, text_file: Path) -> None:
    if report.verdict is Verdict.INVALID:
        click.echo(f"the bundle is invalid: no text written to {text_file}", err=True)
        return
    if report.final_text is None:
        click.echo(f"no final text in this bundle: nothing written to {text_file}", err=True)
        return
    with reported():
        write_output(render(report.final_text), None if str(text_file) == "-" else text_file)


def _policy(path: Path) -> str:
    """The verifier's policy file, read and checked before the bundle, so that a fault in it is
    said to be the file's, not the bundle's."""
    try:
        text = read_bytes(path).decode("utf-8")
        tlogpolicy.parse_policy(text)
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path}: not UTF-8 (byte {exc.start})") from None
    except InvalidInputError as exc:
        raise exc.with_source(str(path)) from None
    return text


def _expected(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"[0-9a-fA-F]{16,64}", value):
        raise click.BadParameter(
            f"expected 16 to 64 hex digits of the negotiation id, found {value[:80]!r}"
        )
    return value


def print_report(
    report: Report, source: str, policy: str | None = None, statements: int | None = None
) -> None:
    """The report for a person: verdict first, then who did what, then every requirement; the
    latest ``statements`` statements (None: all)."""
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False)
    # into a file or a pipe, a line stays whole (hashes and quotations unbroken)
    console.soft_wrap = not console.is_terminal
    colour = {"in_force": "bold green", "not_in_force": "bold yellow", "invalid": "bold red"}
    verdict = f"[{colour[report.verdict.value]}]{HEADLINE[report.verdict]}[/]"
    console.print(f"{verdict} — {escape(source)}")
    console.print(f"  [dim]file SHA-256 {report.sha256} ({report.size:,} bytes)[/]")
    if report.problem:
        tone = "red" if report.verdict is Verdict.INVALID else "yellow"
        console.print(f"  [{tone}]{escape(report.problem)}[/]")
    for caution in (line for line in report.log if line.caution):
        console.print(f"  [yellow]! {escape(caution.text)} (see the transparency log below)[/]")
    if report.as_of:
        console.print(f"  {escape(report.as_of)}")
    if report.title:
        console.print(f"\n[bold]{escape(report.title)}[/]")
        console.print(f"Negotiation {report.negotiation}")
    if report.final_version:
        console.print(f"Final text: version {report.final_version}")
    if report.parties:
        console.print(f"[dim]{bundle.TRUST}[/]")
    if policy is not None and report.log:
        console.print(f"[dim]Log and log witnesses: as your policy {escape(policy)} names them.[/]")
    for heading, lines in (
        ("Participants", report.parties),
        ("Acceptances and attestations", report.attestations),
        ("Requirements of the conclusion policy", report.requirements),
        (_statements_heading(report, statements), _latest(report.statements, statements)),
        ("Transparency log", report.log),
    ):
        _section(console, heading, lines)


def _latest(lines: tuple[Line, ...], count: int | None) -> tuple[Line, ...]:
    return lines if count is None else lines[len(lines) - min(count, len(lines)) :]


def _statements_heading(report: Report, shown: int | None) -> str:
    total = len(report.statements)
    if shown is None or total <= shown:
        return "Statements (unilateral, not binding)"
    return (
        f"Statements (unilateral, not binding): the latest {shown} of {total:,} "
        "(--statements lists every one)"
    )


def _section(console: Console, heading: str, lines: tuple[Line, ...]) -> None:
    from rich.markup import escape

    if not lines:
        return
    console.print(f"\n[bold]{heading}[/]")
    for line in lines:
        mark = "[green]✔[/]" if line.holds else "[red]✘[/]"
        if line.caution:
            mark = "[yellow]![/]"
        if heading.startswith("Statements"):
            mark = "[yellow]•[/]"
        detail = f" [dim]— {escape(line.detail)}[/]" if line.detail else ""
        console.print(f"{'  ' * (line.depth + 1)}{mark} {escape(line.text)}{detail}")


COMMANDS: list[click.Command] = [verify]
