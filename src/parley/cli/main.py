"""``parley``: the command-line entry point. Commands live in modules named after what they do."""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from parley import __version__
from parley.cli.errors import EXIT_HELP


@click.group(epilog=EXIT_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="parley")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="PARLEY_HOME",
    help="Where keys and the SQLite store live (default ~/.local/share/parley).",
)
@click.option(
    "--db",
    "database_url",
    envvar="PARLEY_DATABASE_URL",
    help="A database URL instead (postgresql+psycopg://… or sqlite:///…).",
)
@click.option(
    "--server",
    "server_url",
    envvar="PARLEY_SERVER",
    help="Work through a Parley server's API instead of a local store.",
)
@click.pass_context
def main(
    ctx: click.Context, home: Path | None, database_url: str | None, server_url: str | None
) -> None:
    """Parley: mediated negotiation of written agreements.

    Drafts go back and forth; redlines show exactly what changed; merges never lose an edit;
    the final text is signed, witnessed and endorsed on a tamper-evident log that anyone can
    verify offline.
    """
    from parley.cli.home import Home, default_home

    ctx.obj = Home(home or default_home(), database_url, server_url)


COMMAND_MODULES = (
    "textcmd",
    "redlinecmd",
    "negotiate",
    "records",
    "verifycmd",
    "log",
    "demo",
    "dbcmd",
    "serve",
)
"""Modules under ``parley.cli`` whose ``COMMANDS`` list joins the ``parley`` group."""


def _register() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"parley.cli.{name}")
        for command in module.COMMANDS:
            main.add_command(command)


_register()
