"""Schema migrations (Alembic), applied from code: no ``alembic.ini`` in the current directory.

``upgrade`` serialises itself in the database, so two processes opening a fresh database at the
same moment cannot both create the tables: on SQLite the migration runs inside ``BEGIN
IMMEDIATE`` (SQLite's DDL is transactional) with the store's writer queue held (its ``flock``),
on PostgreSQL inside a transaction holding an advisory lock. The second process then finds the
schema at head and does nothing. On SQLite the queue is needed as well: a connection's first use
switches the file to WAL, and two processes doing that while one migrates could deadlock, one of
them told at once that the database is locked (seen in 9 of 20 pairs of processes opening a new
file together).

Alembic is loaded only when the schema is not at ``HEAD``: almost every open finds it there, and
loading Alembic would cost each command of the CLI about a tenth of a second.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from parley.errors import StorageError
from parley.storage.sql import held, translated, writer_queue

HERE = Path(__file__).resolve().parent
ADVISORY_LOCK = 0x7061726C6579
"""PostgreSQL advisory lock key held while migrating ("parley" in ASCII)."""
HEAD = "0003"
"""The revision this version of Parley expects: the newest in ``versions/`` (a test holds the
two together), known without loading Alembic."""
VERSION_TABLE = "alembic_version"

if TYPE_CHECKING:
    from alembic.config import Config


def config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, pointing at this folder whatever the current directory."""
    from alembic.config import Config

    cfg = Config(str(HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(HERE))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def head() -> str:
    """The newest revision in ``versions/``, as Alembic reads it (``HEAD`` is its copy)."""
    from alembic.script import ScriptDirectory

    revision = ScriptDirectory.from_config(config()).get_current_head()
    if revision is None:
        raise StorageError("no schema migrations are packaged with parley")
    return revision


def current(engine: Engine) -> str | None:
    """The database's schema revision; None for an empty database."""
    with translated("reading the schema revision"), engine.connect() as connection:
        return _current(connection)


def _current(connection: Connection) -> str | None:
    """The revision Alembic recorded; read directly when it is one row, as Alembic keeps it for
    a single line of revisions, else by Alembic itself (which explains what it finds)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(rows) == 1:
        return str(rows[0])
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> str:
    """Bring the schema to ``HEAD`` (nothing to do if it is there already); the revision."""
    target = HEAD
    with (
        held(writer_queue(engine)),
        translated("upgrading the database schema"),
        engine.begin() as connection,
    ):
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
        found = _current(connection)
        if found != target:
            from alembic import command

            _check_known(found)
            command.upgrade(config(connection), target)
    return target


def check(engine: Engine) -> None:
    """Raise StorageError unless the database's schema is at ``HEAD``."""
    found = current(engine)
    if found != HEAD:
        raise StorageError(
            f"the database schema is at revision {found or 'none (empty)'}, this version of "
            f"parley needs {HEAD}: run `parley db upgrade`"
        )


def _check_known(revision: str | None) -> None:
    """A revision this code does not know was written by a newer Parley: refuse to touch it."""
    if revision is None:
        return
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        ScriptDirectory.from_config(config()).get_revision(revision)
    except CommandError as error:
        raise StorageError(
            f"the database schema is at revision {revision}, which this version of parley does "
            "not know (a newer parley wrote it): upgrade parley"
        ) from error
