"""Where Parley keeps negotiations and the log: a SQLite file by default, PostgreSQL for servers.

* no URL: SQLite at ``$PARLEY_HOME/parley.db`` (``PARLEY_HOME`` defaults to
  ``~/.local/share/parley``; the folder is created);
* ``PARLEY_DATABASE_URL`` or an explicit URL: ``postgresql+psycopg://user@host/db`` or another
  SQLite file, ``sqlite:///path/parley.db``.

The schema is migrated to the current revision on first use, unless automatic upgrades are
switched off (``PARLEY_AUTO_UPGRADE=0``, for servers whose schema changes are deployed on
purpose): then a database behind the code is refused with "run `parley db upgrade`".
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import URL, Engine

from parley.storage import migrations
from parley.storage.sql import SqlStore, connect

HOME_ENV = "PARLEY_HOME"
DATABASE_URL_ENV = "PARLEY_DATABASE_URL"
AUTO_UPGRADE_ENV = "PARLEY_AUTO_UPGRADE"
DEFAULT_HOME = Path("~/.local/share/parley")
SQLITE_FILE = "parley.db"


def home_dir(home: Path | None = None) -> Path:
    """``home``, else ``$PARLEY_HOME``, else ``~/.local/share/parley``."""
    if home is not None:
        return home
    return Path(os.environ.get(HOME_ENV) or DEFAULT_HOME).expanduser()


def database_url(url: str | None = None, *, home: Path | None = None) -> str:
    """The store's URL: ``url``, else ``$PARLEY_DATABASE_URL``, else the SQLite file in home."""
    chosen = url or os.environ.get(DATABASE_URL_ENV)
    if chosen:
        return chosen
    return str(URL.create("sqlite", database=str(home_dir(home) / SQLITE_FILE)))


def sqlite_path(engine: Engine) -> Path | None:
    """The file of a SQLite engine; None for PostgreSQL."""
    if engine.url.get_backend_name() != "sqlite" or not engine.url.database:
        return None
    return Path(engine.url.database)


def open_engine(url: str | None = None, *, home: Path | None = None) -> Engine:
    """An engine for the configured database; creates the folder of a SQLite file."""
    engine = connect(database_url(url, home=home))
    path = sqlite_path(engine)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    return engine


def where(engine: Engine) -> str:
    """The database for people: a SQLite file's path, or the URL without its password."""
    path = sqlite_path(engine)
    return str(path) if path is not None else engine.url.render_as_string(hide_password=True)


def open_store(
    url: str | None = None, *, home: Path | None = None, upgrade: bool | None = None
) -> SqlStore:
    """Open the configured store, migrating its schema first (see the module docstring).

    ``upgrade`` overrides ``PARLEY_AUTO_UPGRADE``: False only checks the schema revision.
    """
    engine = open_engine(url, home=home)
    if upgrade is None:
        upgrade = os.environ.get(AUTO_UPGRADE_ENV, "1") != "0"
    try:
        if upgrade:
            migrations.upgrade(engine)
        else:
            migrations.check(engine)
    except BaseException:
        engine.dispose()
        raise
    return SqlStore(engine)
