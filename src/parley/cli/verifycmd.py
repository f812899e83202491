"""``parley verify``: check an agreement bundle offline and say, in words, what holds."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from parley.cli.errors import EXIT_INVALID, EXIT_NOT_YET, EXIT_OK, reported
from parley.cli.files import read_bytes
from parley.core import bundle
from parley.core.bundle import Report, Verdict
from parley.core.report import Line

if TYPE_CHECKING:
    from rich.console import Console

EXIT_BY_VERDICT = {
    Verdict.IN_FORCE: EXIT_OK,
    Verdict.NOT_IN_FORCE: EXIT_NOT_YET,
    Verdict.INVALID: EXIT_INVALID,
}
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
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A tlog-policy file naming the log witnesses you trust (instead of the charter's).",
)
def verify(file: Path, as_json: bool, policy: Path | None) -> None:
    """Verify an agreement bundle offline: signatures, chain, rules, policy, log proofs.

    Exit 0 valid and in force, 1 valid but not in force, 2 invalid, tampered or malformed.
    """
    with reported():
        data = _read(file)
        witness_policy = None if policy is None else _read(policy).decode("utf-8", "replace")
    report = bundle.check_bundle(data, witness_policy=witness_policy)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        print_report(report, str(file))
    sys.exit(EXIT_BY_VERDICT[report.verdict])


def _read(path: Path) -> bytes:
    return read_bytes(path)


def print_report(report: Report, source: str) -> None:
    """The report for a person: verdict first, then who did what, then every requirement."""
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False)
    # into a file or a pipe, a line stays whole (hashes and quotations unbroken)
    console.soft_wrap = not console.is_terminal
    colour = {"in_force": "bold green", "not_in_force": "bold yellow", "invalid": "bold red"}
    verdict = f"[{colour[report.verdict.value]}]{HEADLINE[report.verdict]}[/]"
    console.print(f"{verdict} — {escape(source)}")
    if report.problem:
        console.print(f"  [red]{escape(report.problem)}[/]")
    if report.title:
        console.print(f"\n[bold]{escape(report.title)}[/]  negotiation {report.negotiation[:16]}…")
    if report.final_version:
        console.print(f"Final text: version {report.final_version}")
    for heading, lines in (
        ("Participants", report.parties),
        ("Acceptances and attestations", report.attestations),
        ("Requirements of the conclusion policy", report.requirements),
        ("Statements (unilateral, not binding)", report.statements),
        ("Transparency log", report.log),
    ):
        _section(console, heading, lines)


def _section(console: Console, heading: str, lines: tuple[Line, ...]) -> None:
    from rich.markup import escape

    if not lines:
        return
    console.print(f"\n[bold]{heading}[/]")
    for line in lines:
        mark = "[green]✔[/]" if line.holds else "[red]✘[/]"
        if heading.startswith("Statements"):
            mark = "[yellow]•[/]"
        detail = f" [dim]— {escape(line.detail)}[/]" if line.detail else ""
        console.print(f"{'  ' * (line.depth + 1)}{mark} {escape(line.text)}{detail}")


COMMANDS: list[click.Command] = [verify]
