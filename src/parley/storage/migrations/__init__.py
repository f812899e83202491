"""Schema migrations (Alembic), applied from code: no ``alembic.ini`` in the current directory.

``upgrade`` serialises itself in the database, so two processes opening a fresh database at the
same moment cannot both create the tables: on SQLite the migration runs inside ``BEGIN
IMMEDIATE`` (SQLite's DDL is transactional) with the store's writer queue held (its ``flock``),
on PostgreSQL inside a transaction holding an advisory lock. The second process then finds the
schema at head and does nothing. On SQLite the queue is needed as well: a connection's first use
switches the file to WAL, and two processes doing that while one migrates could deadlock, one of
them told at once that the database is locked (seen in 9 of 20 pairs of processes opening a new
file together).
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, text

from parley.errors import StorageError
from parley.storage.sql import held, translated, writer_queue

HERE = Path(__file__).resolve().parent
ADVISORY_LOCK = 0x7061726C6579
"""PostgreSQL advisory lock key held while migrating ("parley" in ASCII)."""


def config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, pointing at this folder whatever the current directory."""
    cfg = Config(str(HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(HERE))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def head() -> str:
    """The revision this version of Parley expects."""
    revision = ScriptDirectory.from_config(config()).get_current_head()
    if revision is None:
        raise StorageError("no schema migrations are packaged with parley")
    return revision


def current(engine: Engine) -> str | None:
    """The database's schema revision; None for an empty database."""
    with translated("reading the schema revision"), engine.connect() as connection:
        return _current(connection)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> str:
    """Bring the schema to ``head()`` (nothing to do if it is there already); the revision."""
    target = head()
    with (
        held(writer_queue(engine)),
        translated("upgrading the database schema"),
        engine.begin() as connection,
    ):
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
        found = _current(connection)
        if found != target:
            _check_known(found)
            command.upgrade(config(connection), target)
    return target


def check(engine: Engine) -> None:
    """Raise StorageError unless the database's schema is at ``head()``."""
    found = current(engine)
    if found != head():
        raise StorageError(
            f"the database schema is at revision {found or 'none (empty)'}, this version of "
            f"parley needs {head()}: run `parley db upgrade`"
        )


def _check_known(revision: str | None) -> None:
    """A revision this code does not know was written by a newer Parley: refuse to touch it."""
    if revision is None:
        return
    try:
        ScriptDirectory.from_config(config()).get_revision(revision)
    except CommandError as error:
        raise StorageError(
            f"the database schema is at revision {revision}, which this version of parley does "
            "not know (a newer parley wrote it): upgrade parley"
        ) from error
