"""``parley``: the command-line entry point. Commands live in modules named after what they do."""

from __future__ import annotations

import click

from parley import __version__
from parley.cli.errors import EXIT_HELP


@click.group(epilog=EXIT_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="parley")
def main() -> None:
    """Parley: mediated negotiation of written agreements.

    Drafts go back and forth; redlines show exactly what changed; merges never lose an edit;
    the final text is signed, witnessed and endorsed on a tamper-evident log that anyone can
    verify offline.
    """


def _register() -> None:
    from parley.cli import demo, log, textcmd

    for command in (*textcmd.COMMANDS, *log.COMMANDS, *demo.COMMANDS):
        main.add_command(command)


_register()
