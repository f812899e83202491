"""One log key per database: the first process to keep a log records its key, others refuse."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley import services as svc
from parley.core import keys, moves
from parley.errors import StorageError
from parley.log_setup import load_log_setup
from parley.store import MemoryStore
from tests.negotiation import key_for, make_charter


def test_the_log_key_is_made_once_recorded_and_witnesses_are_found(tmp_path: Path) -> None:
    store = MemoryStore()
    first = load_log_setup(tmp_path, store)
    assert load_log_setup(tmp_path, store).key == first.key and first.witnesses == []
    with store.transaction() as tx:
        assert tx.log_key() == first.key.public().vkey()
    witness = keys.SigningKey.from_seed("qa-log-witness", b"q" * 32, keys.COSIGNATURE_V1)
    (tmp_path / "log" / "witnesses").mkdir()
    (tmp_path / "log" / "witnesses" / "qa-log-witness.key").write_bytes(
        keys.key_file_bytes(witness)
    )
    assert load_log_setup(tmp_path, store).witnesses == [("qa-log-witness", witness)]


def test_a_process_with_another_log_key_refuses_the_database(tmp_path: Path) -> None:
    """Two API hosts started with empty homes on one database made two log keys, and the
    bundles of either failed to verify: the second now refuses, naming both keys."""
    store = MemoryStore()
    first = load_log_setup(tmp_path / "a", store).key
    other = load_log_setup(tmp_path / "b", MemoryStore()).key  # a key of its own
    with pytest.raises(StorageError) as refused:
        load_log_setup(tmp_path / "b", store)
    said = str(refused.value)
    assert f"signed with {first.name}+{first.public().id_hex}" in said
    assert f"{other.name}+{other.public().id_hex}" in said and "same log key" in said


def test_a_home_without_a_log_key_refuses_a_claimed_database_and_makes_none(
    tmp_path: Path,
) -> None:
    """A command run against the database with the wrong PARLEY_HOME made a stray log key and
    signed a checkpoint with it."""
    store = MemoryStore()
    load_log_setup(tmp_path / "server", store)
    with pytest.raises(StorageError, match=r"copy log/log\.key from a server of this database"):
        load_log_setup(tmp_path / "elsewhere", store)
    assert not (tmp_path / "elsewhere" / "log").exists()


def test_a_database_from_before_keys_were_recorded_takes_only_its_checkpoints_signer(
    tmp_path: Path,
) -> None:
    """Migrated from revision 0002, a database has checkpoints but no recorded key: the key
    that signed its latest checkpoint claims it, another is refused."""
    store = MemoryStore()
    signer = load_log_setup(tmp_path / "a", store)
    services = svc.Services(store, signer)
    charter = make_charter(nonce="log-setup-00001")
    services.submit(moves.convene(charter, key_for("QA"), "QA", services.now()))
    assert services.publish() is not None
    with store.transaction() as tx:  # as revision 0002 left it: checkpoints, no key recorded
        tx.data.log_vkey = None  # type: ignore[attr-defined]
    with pytest.raises(StorageError, match="latest checkpoint is not signed by"):
        load_log_setup(tmp_path / "b", store)
    with store.transaction() as tx:
        assert tx.log_key() is None  # nothing claimed by the refused key
    assert load_log_setup(tmp_path / "a", store).key == signer.key


def test_a_new_log_key_is_named_as_the_operator_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARLEY_LOG_ORIGIN", "parley.example.org/log")
    assert load_log_setup(tmp_path, MemoryStore()).key.name == "parley.example.org/log"
