"""Stores to test against: in memory, a SQLite file, and a fresh PostgreSQL schema per test.

PostgreSQL is at ``PARLEY_TEST_DATABASE_URL`` (default: the local server, database ``test``).
Each test gets its own schema (``search_path`` set through the URL), dropped afterwards. When the
server cannot be reached the PostgreSQL cases skip, unless ``PARLEY_REQUIRE_POSTGRES=1`` (CI):
then they fail, saying why.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from parley.storage import open_store
from parley.store import MemoryStore, Store

POSTGRES_URL = os.environ.get(
    "PARLEY_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
ALL_BACKENDS = ["memory", *SQL_BACKENDS]


@functools.cache
def _postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used (None: it can); asked once per test process."""
    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure to connect is a reason to skip
        return f"{type(error).__name__}: {str(error).splitlines()[0]}"
    finally:
        engine.dispose()
    return None


def require_postgres() -> None:
    """Skip (or, with PARLEY_REQUIRE_POSTGRES=1, fail) when the server is unreachable."""
    problem = _postgres_problem()
    if problem is None:
        return
    where = make_url(POSTGRES_URL).render_as_string(hide_password=True)
    if os.environ.get("PARLEY_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL at {where} is required (PARLEY_REQUIRE_POSTGRES=1): {problem}")
    pytest.skip(f"PostgreSQL at {where} is unreachable ({problem})")


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A new, empty schema; yields a URL whose connections use only it. Dropped afterwards."""
    require_postgres()
    schema = f"parley_test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """The URL of a fresh, empty database of ``kind`` ("sqlite" or "postgres")."""
    if kind == "postgres":
        with postgres_schema() as url:
            yield url
    else:
        yield f"sqlite:///{folder / 'parley.db'}"


@dataclass
class Backend:
    """One kind of store; ``open`` again to see what a restarted process would see."""

    name: str
    url: str | None
    memory: MemoryStore | None = None

    def open(self) -> Store:
        if self.url is None:
            self.memory = self.memory or MemoryStore()
            return self.memory
        return open_store(self.url)


@pytest.fixture(params=ALL_BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "memory":
        yield Backend("memory", None)
        return
    with database(request.param, tmp_path) as url:
        yield Backend(request.param, url)


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:
    opened = backend.open()
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(params=SQL_BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh SQLite file or PostgreSQL schema, not yet migrated."""
    with database(request.param, tmp_path) as url:
        yield url
