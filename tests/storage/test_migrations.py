"""Opening a SQL store: where it lives, its schema revision, its locks, and what it refuses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import Engine, create_engine, inspect, text, update

from parley.cli.main import main as cli
from parley.errors import InvalidInputError, StorageError
from parley.storage import migrations, open_engine, open_store, schema
from parley.storage.sql import MMAP_BYTES, SqlStore, completion_query, connect
from parley.store import Store
from tests.negotiation import Table
from tests.storage import append_chain, rows_for
from tests.storage.conftest import postgres_schema


def _sql(store: Store) -> SqlStore:
    assert isinstance(store, SqlStore)
    return store


# --- where the store lives -----------------------------------------------------------------------


def test_the_default_store_is_a_sqlite_file_in_parley_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PARLEY_DATABASE_URL", raising=False)
    monkeypatch.setenv("PARLEY_HOME", str(tmp_path / "home"))
    store = open_store()
    try:
        append_chain(store, Table().events)
    finally:
        store.close()
    assert (tmp_path / "home" / "parley.db").is_file()
    explicit = open_store(home=tmp_path / "elsewhere")
    explicit.close()
    assert (tmp_path / "elsewhere" / "parley.db").is_file()


def test_parley_database_url_names_another_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARLEY_DATABASE_URL", f"sqlite:///{tmp_path / 'sub' / 'other.db'}")
    open_store(home=tmp_path / "home").close()
    assert (tmp_path / "sub" / "other.db").is_file()
    assert not (tmp_path / "home").exists()


@pytest.mark.parametrize(
    "url", ["mysql://root@localhost/parley", "sqlite://", "sqlite:///:memory:", "not a url"]
)
def test_unsupported_databases_are_refused(url: str) -> None:
    with pytest.raises(InvalidInputError):
        open_store(url)


def test_an_unreachable_server_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match=r"Connection refused|connection failed"):
        open_store("postgresql://postgres@127.0.0.1:1/test")


# --- schema revisions ----------------------------------------------------------------------------


def test_the_migrated_schema_is_exactly_the_tables_the_code_uses(database_url: str) -> None:
    engine = open_engine(database_url)
    try:
        migrations.upgrade(engine)
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), schema.metadata) == []
    finally:
        engine.dispose()


def test_head_is_the_newest_revision_alembic_finds() -> None:
    assert migrations.head() == migrations.HEAD


def test_the_revision_read_directly_is_the_one_alembic_reads(database_url: str) -> None:
    engine = open_engine(database_url)
    try:
        assert migrations.current(engine) is None
        for revision in ("0001", "0002", "0003"):
            with engine.begin() as connection:
                command.upgrade(migrations.config(connection), revision)
                alembic = MigrationContext.configure(connection).get_current_revision()
            assert migrations.current(engine) == alembic == revision
    finally:
        engine.dispose()


def test_opening_a_store_at_head_does_not_load_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'parley.db'}"
    open_store(url).close()
    program = (
        "import sys; from parley.storage import open_store; "
        f"open_store({url!r}).close(); print(sorted(m for m in sys.modules if 'alembic' in m))"
    )
    loaded = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"


def test_without_automatic_upgrades_an_old_schema_is_refused(database_url: str) -> None:
    with pytest.raises(StorageError, match=r"none \(empty\).*run `parley db upgrade`"):
        open_store(database_url, upgrade=False)
    open_store(database_url).close()
    open_store(database_url, upgrade=False).close()


def test_the_environment_can_switch_automatic_upgrades_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARLEY_AUTO_UPGRADE", "0")
    with pytest.raises(StorageError, match="run `parley db upgrade`"):
        open_store(home=tmp_path)


def test_a_schema_from_a_newer_parley_is_left_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'parley.db'}"
    open_store(url).close()
    engine = connect(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        with pytest.raises(StorageError, match="newer parley"):
            open_store(url)
        with pytest.raises(StorageError, match=r"9999.*run `parley db upgrade`"):
            open_store(url, upgrade=False)
    finally:
        engine.dispose()


def test_the_db_commands_report_and_upgrade(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["--home", str(tmp_path)]
    before = runner.invoke(cli, [*args, "db", "status"])
    assert before.exit_code == 1
    assert "revision: none" in before.output
    assert not (tmp_path / "parley.db").exists()
    done = runner.invoke(cli, [*args, "db", "upgrade"])
    assert done.exit_code == 0, done.output
    assert f"revision {migrations.head()}" in done.output
    after = runner.invoke(cli, [*args, "db", "status"])
    assert after.exit_code == 0
    assert f"revision: {migrations.head()}" in after.output


def test_db_status_hides_the_password_and_reports_an_unreachable_server() -> None:
    url = "postgresql+psycopg://parley:s3cret@127.0.0.1:1/test"
    result = CliRunner().invoke(cli, ["--db", url, "db", "status"])
    assert result.exit_code == 7
    assert "s3cret" not in result.output


# --- locks and pragmas ---------------------------------------------------------------------------


PRAGMAS = ("journal_mode", "synchronous", "foreign_keys", "busy_timeout", "mmap_size")


def test_sqlite_is_wal_synchronous_full_with_foreign_keys_and_mapped(tmp_path: Path) -> None:
    store = _sql(open_store(f"sqlite:///{tmp_path / 'parley.db'}"))
    try:
        with store.engine.connect() as connection:
            pragma = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar() for name in PRAGMAS
            }
    finally:
        store.close()
    assert pragma == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1,
                      "busy_timeout": 30000, "mmap_size": MMAP_BYTES}  # fmt: skip


def test_a_sqlite_transaction_holds_the_write_lock_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "parley.db"
    store = open_store(f"sqlite:///{path}")
    other = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    try:
        with store.transaction() as tx, other.connect() as connection:
            tx.log_size()  # a read only, yet no other writer may begin
            with pytest.raises(Exception, match="database is locked"):
                connection.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        other.dispose()
        store.close()


def test_a_sqlite_snapshot_reads_beside_a_writer(tmp_path: Path) -> None:
    store = _sql(open_store(f"sqlite:///{tmp_path / 'parley.db'}"))
    table = Table().open()
    try:
        append_chain(store, table.events[:1])
        with store.transaction() as tx:
            tx.append(table.events[1], rows_for(table.events)[1])
            tx.log_size()  # written, not yet committed: the write lock is held
            with store.snapshot() as reader:
                assert reader.log_size() == 1  # no wait, and only what is committed
        with store.snapshot() as reader:
            assert reader.log_size() == 2
    finally:
        store.close()


@pytest.mark.postgres
def test_a_postgres_append_holds_the_log_head_until_commit() -> None:
    with postgres_schema() as url:
        store = open_store(url)
        other = create_engine(url)
        try:
            with store.transaction() as tx, other.connect() as connection:
                table = Table()
                for event, row in zip(table.events, rows_for(table.events), strict=True):
                    tx.append(event, row)
                with pytest.raises(Exception, match="could not obtain lock"):
                    connection.execute(text("SELECT size FROM log_head FOR UPDATE NOWAIT"))
        finally:
            other.dispose()
            store.close()


# --- short hashes and damaged rows ---------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["", "abc", "ABCD", "ab%d", "abcg", "a" * 65])
def test_a_short_hash_needs_four_lowercase_hex_digits(tmp_path: Path, prefix: str) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'parley.db'}")
    try:
        with pytest.raises(InvalidInputError, match="4 to 64"), store.transaction() as tx:
            tx.complete(prefix)
    finally:
        store.close()


def test_short_hash_lookups_use_the_indexes(database_url: str) -> None:
    store = _sql(open_store(database_url))
    try:
        plan = _plan(store.engine)
    finally:
        store.close()
    assert "events" in plan and "versions" in plan
    assert "SCAN events" not in plan and "SCAN versions" not in plan
    assert "Seq Scan" not in plan


def _plan(engine: Engine) -> str:
    """The database's plan for the query ``complete`` runs."""
    compiled = completion_query("7f3a").compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
            return "\n".join(str(row[-1]) for row in rows)
        connection.exec_driver_sql("SET enable_seqscan = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {compiled}").all()
        return "\n".join(str(row[0]) for row in rows)


def test_a_damaged_event_row_is_reported_not_served(tmp_path: Path) -> None:
    store = _sql(open_store(f"sqlite:///{tmp_path / 'parley.db'}"))
    table = Table().open()
    try:
        append_chain(store, table.events)
        with store.engine.begin() as connection:
            connection.execute(
                update(schema.events)
                .where(schema.events.c.seq == 2)
                .values(body='{"charter":"0000"}')
            )
        with pytest.raises(StorageError, match=r"event 2 .* damaged"), store.transaction() as tx:
            tx.events(table.s.negotiation)
    finally:
        store.close()


def test_revision_0002_drops_what_the_events_hold_and_downgrading_rebuilds_it(
    database_url: str,
) -> None:
    store = _sql(open_store(database_url))
    table = Table().open()
    try:
        append_chain(store, table.events)
        entries = [e.hash for e in table.events]
        with store.engine.begin() as connection:
            command.downgrade(migrations.config(connection), "0001")
            rebuilt = connection.execute(text("SELECT idx, event FROM log_entries ORDER BY idx"))
            assert [tuple(r) for r in rebuilt] == list(enumerate(entries))
            names = {i["name"] for i in inspect(connection).get_indexes("negotiations")}
            assert "ix_negotiations_updated" in names
        migrations.upgrade(store.engine)
        with store.engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), schema.metadata) == []
        with store.transaction() as tx:
            assert [tx.log_entry(i) for i in range(len(entries))] == entries
            assert [s.event.hash for s in tx.events(table.s.negotiation)] == entries
    finally:
        store.close()
