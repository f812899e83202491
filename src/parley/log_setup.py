"""The deployment's log key and log witnesses, as a process finds them, bound to its database.

Every process keeping one database's log must sign its checkpoints with one key, or the bundles
of that log do not verify ("not signed by the log key the charter names"). So the database
records the vkey of the first key that keeps it (``Transaction.claim_log_key``), and a process
whose home holds another key refuses to start, as does one whose home holds none (it would
otherwise make a key of its own: a command run with the wrong ``PARLEY_HOME`` did). A database
that records no key (made before keys were recorded) is claimed only by the log key its newest
charter names, or where no charter names one, by the key its latest checkpoint is signed with.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from pathlib import Path

from parley.api.settings import create_once, read_key
from parley.core import charter as charters
from parley.core import keys
from parley.core.keys import PublicKey, SigningKey
from parley.core.note import open_note, parse_note
from parley.errors import SignatureError, StorageError
from parley.remote_witnesses import RemoteWitnesses, read_remote_witnesses
from parley.services import LogSetup, Snapshots
from parley.store import Store, StoredCheckpoint, Transaction

KeyReader = Callable[[Path], SigningKey]

ORIGIN_ENV = "PARLEY_LOG_ORIGIN"
"""The log's name (its checkpoints' origin line), taken when its key is made."""


def load_log_setup(home: Path, store: Store, read: KeyReader = read_key) -> LogSetup:
    """The log key of ``home`` (made on the first start of a database's first process), checked
    against the one ``store`` records, and the home's local and remote log witnesses; ``read``
    opens a key file (a server takes an encrypted one's passphrase from the environment, the
    command line may ask for it)."""
    log_dir = home / "log"
    path = log_dir / "log.key"
    reading = store.snapshot() if isinstance(store, Snapshots) else store.transaction()
    with reading as tx:  # a read beside the writers (every command opens the store this way)
        recorded, latest = tx.log_key(), tx.checkpoint()
        expected = recorded or _charters_log_key(tx)
    if not path.exists():
        if expected is not None or latest is not None:
            signer = _named(expected) if expected else _signer(latest)
            raise StorageError(
                f"this database's log is signed with {signer}, and {path} does not exist: copy "
                f"log/log.key from a server of this database into {log_dir}/, or set "
                "PARLEY_HOME to that server's home"
            )
        fresh = SigningKey.from_seed(log_origin(), secrets.token_bytes(32))
        create_once(path, keys.key_file_bytes(fresh))
    key = read(path)
    mine = key.public().vkey()
    if expected is None and latest is not None:  # no charter names a log: the checkpoint does
        _check_signs(key.public(), latest.note, path)
    if recorded is None and expected in (None, mine):
        with store.transaction() as tx:
            expected = tx.claim_log_key(mine)
    if expected != mine:
        raise StorageError(
            f"this database's log is signed with {_named(expected or '')}, but {path} is "
            f"{_named(mine)}: every process on one database needs the same log key (copy "
            "log/log.key from the server that first kept it)"
        )
    witnesses = [(p.stem, read(p)) for p in sorted((log_dir / "witnesses").glob("*.key"))]
    return LogSetup(key, witnesses, RemoteWitnesses(read_remote_witnesses(log_dir)))


def log_origin() -> str:
    """The name a new log key takes: ``PARLEY_LOG_ORIGIN``, or this machine's name."""
    given = os.environ.get(ORIGIN_ENV, "").strip()
    return given or f"{socket.gethostname().lower() or 'localhost'}/parley-log".replace(" ", "-")


def _check_signs(key: PublicKey, note: str, path: Path) -> None:
    try:
        open_note(note, [key])
    except SignatureError:
        raise StorageError(
            f"this database's latest checkpoint is not signed by {path} ({key.name}+"
            f"{key.id_hex}): every process on one database needs the same log key (copy "
            "log/log.key from the server that signed it)"
        ) from None


def _charters_log_key(tx: Transaction) -> str | None:
    """The log key the newest charter names (a database from before keys were recorded): the
    participants signed it, so it outranks whatever key signed the latest checkpoint."""
    for row in tx.negotiations():
        first = tx.events(row.id)[:1]
        body = first[0].event.body if first else None
        config = charters.from_json(body).log if body is not None else None
        if config is not None:
            return config.vkey
    return None


def _signer(checkpoint: StoredCheckpoint | None) -> str:
    """Who signed a checkpoint, as its first signature names the key."""
    assert checkpoint is not None
    first = parse_note(checkpoint.note).signatures[:1]
    return f"{first[0].name}+{first[0].key_id_hex}" if first else "an unknown key"


def _named(vkey: str) -> str:
    """A vkey as people compare them: its name and key id (a name holds no "+")."""
    return "+".join(vkey.split("+")[:2])
