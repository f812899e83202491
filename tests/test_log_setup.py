"""One log key per database: the first process to keep a log records its key, others refuse."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley import services as svc
from parley.core import keys, moves
from parley.errors import StorageError
from parley.log_setup import claim, load_log_setup
from parley.store import MemoryStore
from tests.negotiation import LOG_KEY, key_for, make_charter


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


def test_a_process_that_loses_the_race_to_record_its_key_removes_the_key_it_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two first processes on one empty database: both find no key recorded and each makes one;
    the loser must not leave its never-used key behind, or its next start would refuse again."""
    store = MemoryStore()
    winner = load_log_setup(tmp_path / "a", store).key
    with store.transaction() as tx:
        unrecorded = type(tx)
    reads = iter([None])  # the loser read the database before the winner recorded its key
    recorded = unrecorded.log_key
    monkeypatch.setattr(unrecorded, "log_key", lambda tx: next(reads, recorded(tx)))
    with pytest.raises(StorageError) as refused:
        load_log_setup(tmp_path / "b", store)
    said = str(refused.value)
    assert f"signed with {winner.name}+{winner.public().id_hex}" in said
    assert "was made just now" in said and "removed again" in said
    assert not (tmp_path / "b" / "log" / "log.key").exists()
    monkeypatch.undo()
    (tmp_path / "b" / "log" / "log.key").write_bytes(keys.key_file_bytes(winner))
    assert load_log_setup(tmp_path / "b", store).key == winner  # the copied key is kept


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


def _unrecorded(store: MemoryStore) -> None:
    """As revision 0002 left a database: checkpoints and charters, no log key recorded."""
    with store.transaction() as tx:
        tx.data.log_vkey = None  # type: ignore[attr-defined]


def test_a_database_from_before_keys_were_recorded_takes_only_its_checkpoints_signer(
    tmp_path: Path,
) -> None:
    """No charter names a log: the key that signed its latest checkpoint claims it, another
    is refused, and a home with none makes none."""
    store = MemoryStore()
    signer = load_log_setup(tmp_path / "a", store)
    services = svc.Services(store, signer)
    charter = make_charter(nonce="log-setup-00001")
    services.submit(moves.convene(charter, key_for("QA"), "QA", services.now()))
    assert services.publish() is not None
    _unrecorded(store)
    load_log_setup(tmp_path / "b", MemoryStore())  # a key of its own
    with pytest.raises(StorageError, match="records no log key yet, and its latest checkpoint"):
        load_log_setup(tmp_path / "b", store)
    with pytest.raises(StorageError, match=f"signed with {signer.key.name}"):
        load_log_setup(tmp_path / "c", store)
    assert not (tmp_path / "c" / "log").exists()
    with store.transaction() as tx:
        assert tx.log_key() is None  # nothing claimed by the refused keys
    assert load_log_setup(tmp_path / "a", store).key == signer.key


def test_the_operator_records_the_log_key_over_a_checkpoint_a_stray_key_signed(
    tmp_path: Path,
) -> None:
    """Before keys were recorded, a command run with the wrong home signed a checkpoint with a
    key of its own, and bundles failed. The real key is refused until the operator records it
    (``parley log claim``); then its next checkpoint is its own, over the same tree."""
    store = MemoryStore()
    real = tmp_path / "server" / "log" / "log.key"
    real.parent.mkdir(parents=True)
    real.write_bytes(keys.key_file_bytes(LOG_KEY))
    stray = load_log_setup(tmp_path / "stray", store)
    services = svc.Services(store, stray)
    charter = make_charter(nonce="log-setup-00002", with_log=True)
    services.submit(moves.convene(charter, key_for("QA"), "QA", services.now()))
    services.publish()  # signed with the stray key
    _unrecorded(store)
    with pytest.raises(StorageError, match="record it with `parley log claim`"):
        load_log_setup(tmp_path / "server", store)
    assert claim(store, LOG_KEY.public().vkey()) == LOG_KEY.public().vkey()
    assert claim(store, stray.key.public().vkey()) == LOG_KEY.public().vkey()  # recorded once
    setup = load_log_setup(tmp_path / "server", store)
    republished = svc.Services(store, setup).publish()
    assert republished is not None and f"— {LOG_KEY.name} " in republished.note


def test_a_new_log_key_is_named_as_the_operator_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARLEY_LOG_ORIGIN", "parley.example.org/log")
    assert load_log_setup(tmp_path, MemoryStore()).key.name == "parley.example.org/log"


def test_a_log_key_named_otherwise_than_the_operator_says_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Started once without PARLEY_LOG_ORIGIN, the log took the machine's name; setting the
    variable afterwards cannot rename it, and the server says so instead of going on."""
    monkeypatch.delenv("PARLEY_LOG_ORIGIN", raising=False)
    store = MemoryStore()
    made = load_log_setup(tmp_path, store).key.name
    monkeypatch.setenv("PARLEY_LOG_ORIGIN", "parley.example.org/log")
    with pytest.raises(StorageError, match=f"is named '{made}': a log's name is fixed"):
        load_log_setup(tmp_path, store)
    monkeypatch.setenv("PARLEY_LOG_ORIGIN", made)
    assert load_log_setup(tmp_path, store).key.name == made
