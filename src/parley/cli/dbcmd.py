"""The database behind the local store: its schema revision, and upgrading it.

    parley db status     where the database is, its schema revision and the code's
    parley db upgrade    apply the schema migrations; print the revision

The store migrates itself on first use unless ``PARLEY_AUTO_UPGRADE=0``; servers that deploy
schema changes on purpose run ``parley db upgrade`` instead.
"""

from __future__ import annotations

import sys

import click

from parley.cli.errors import EXIT_NOT_YET, reported
from parley.cli.home import Home
from parley.storage import database_url, migrations, open_engine, sqlite_path, where
from parley.storage.sql import connect


def _home() -> Home:
    """The ``parley`` group's Home (``--home``, ``--db``), or the defaults."""
    found = click.get_current_context().find_object(Home)
    return found if found is not None else Home()


@click.group("db")
def db_group() -> None:
    """The database: where it is and its schema revision."""


@db_group.command("upgrade")
def upgrade() -> None:
    """Apply the schema migrations to the configured database (creating it if needed)."""
    home = _home()
    with reported():
        engine = open_engine(home.database_url, home=home.path)
        try:
            revision = migrations.upgrade(engine)
        finally:
            engine.dispose()
    click.echo(f"{where(engine)}: schema at revision {revision} (head)")


@db_group.command("status")
def status() -> None:
    """Show the database, its schema revision and the one this parley needs; exit 1 if behind."""
    home = _home()
    with reported():
        engine = connect(database_url(home.database_url, home=home.path))
        try:
            path = sqlite_path(engine)
            found = None if path is not None and not path.exists() else migrations.current(engine)
            target = migrations.head()
        finally:
            engine.dispose()
    click.echo(f"database: {where(engine)}")
    click.echo(f"revision: {found or 'none (empty)'}")
    click.echo(f"head:     {target}")
    if found != target:
        click.echo("the schema is behind: run `parley db upgrade`", err=True)
        sys.exit(EXIT_NOT_YET)


COMMANDS: list[click.Command] = [db_group]
"""Registered on ``parley`` by ``parley.cli.main``."""
