"""``parley``: the command-line entry point. Commands live in modules named after what they do."""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from parley import __version__
from parley.cli.errors import EXIT_HELP

COMMAND_INDEX: dict[str, str] = {
    "text": "textcmd", "redline": "redlinecmd", "verify": "verifycmd", "key": "log",
    "note": "log", "proof": "log", "negotiation": "negotiate", "join": "negotiate",
    "propose": "negotiate", "send": "negotiate", "amend": "negotiate", "accept": "negotiate",
    "confirm": "negotiate", "reject": "negotiate", "integrate": "negotiate",
    "comment": "negotiate", "statement": "negotiate", "suspend": "negotiate",
    "resume": "negotiate", "terminate": "negotiate", "finalize": "negotiate", "sign": "negotiate",
    "ratify": "negotiate", "witness": "negotiate", "endorse": "negotiate", "status": "records",
    "history": "records", "bundle": "records", "log": "records", "demo": "demo", "db": "dbcmd",
    "serve": "serve", "merge": "mergecmd",
}  # fmt: skip
"""Each command and the module under ``parley.cli`` that defines it (in its ``COMMANDS``).

Modules are imported only when their command runs, so ``parley redline … --format json`` does
not pay for the database, the server or the terminal library it does not use.
"""


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_INDEX)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = COMMAND_INDEX.get(cmd_name)
        if module_name is None:
            return None
        module = importlib.import_module(f"parley.cli.{module_name}")
        return next((c for c in module.COMMANDS if c.name == cmd_name), None)


@click.group(
    cls=LazyGroup, epilog=EXIT_HELP, context_settings={"help_option_names": ["-h", "--help"]}
)
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
