"""Alembic's environment: run the migrations on the connection Parley hands over.

``parley.storage.migrations.upgrade`` opens the transaction (and takes the lock) and passes its
connection in ``config.attributes["connection"]``. Run from the ``alembic`` command line instead,
it connects to the configured store (``PARLEY_DATABASE_URL`` or the SQLite file in
``PARLEY_HOME``) itself; ``--sql`` (offline) mode writes the SQL for that URL's dialect.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from parley.storage import database_url, open_engine
from parley.storage.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    if context.is_offline_mode():
        context.configure(url=database_url(), target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    given = context.config.attributes.get("connection")
    if isinstance(given, Connection):
        _run(given)
        return
    engine = open_engine()
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


_main()
