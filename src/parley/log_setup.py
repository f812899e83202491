"""The deployment's log key and log witnesses, as a process finds them, bound to its database.

Every process keeping one database's log must sign its checkpoints with one key, or the bundles
of that log do not verify ("not signed by the log key the charter names"). So the database
records the vkey of the first key that keeps it (``Transaction.claim_log_key``), and a process
whose home holds another key refuses to start, as does one whose home holds none (it would
otherwise make a key of its own: a command run with the wrong ``PARLEY_HOME`` did). A database
that records no key (made before keys were recorded) is claimed only by the key its latest
checkpoint is signed with; where another key signed that checkpoint by mistake, the operator
records the right one with ``parley log claim`` (``claim``), and the log key signs the tree again.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from pathlib import Path

from parley.api.settings import create_once, read_key
from parley.core import keys
from parley.core.keys import SigningKey
from parley.errors import StorageError
from parley.remote_witnesses import RemoteWitnesses, read_remote_witnesses
from parley.services import LogSetup, Snapshots, signed_by, signer_of
from parley.store import Store

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
    if not path.exists():
        held_by = named(recorded) if recorded else signer_of(latest) if latest else None
        if held_by is not None:
            raise StorageError(
                f"this database's log is signed with {held_by}, and {path} does not exist: copy "
                f"log/log.key from a server of this database into {log_dir}/, or point "
                "PARLEY_HOME (--home) at that server's home"
            )
        fresh = SigningKey.from_seed(log_origin(), secrets.token_bytes(32))
        data = keys.key_file_bytes(fresh)
        made = create_once(path, data) == data
    else:
        made = False
    key = read(path)
    _check_name(key, path)
    mine = key.public().vkey()
    if recorded is None:
        if latest is not None and not signed_by(latest, key.public()):
            raise StorageError(
                "this database records no log key yet, and its latest checkpoint is signed "
                f"with {signer_of(latest)}, not with {path} ({named(mine)}): use the log key "
                "of the server that signed it; or, if this is the log key your charters name "
                "and another key signed that checkpoint by mistake, record it with "
                "`parley log claim`"
            )
        with store.transaction() as tx:
            recorded = tx.claim_log_key(mine)
    if recorded != mine:
        if made:  # another process recorded its key first: this one was never used
            path.unlink(missing_ok=True)
        held = "was made just now for" if made else "is"
        raise StorageError(
            f"this database's log is signed with {named(recorded)}, but {path} {held} "
            f"{named(mine)}: every process on one database needs the same log key (copy "
            "log/log.key from the server that first kept it)"
            + ("; the key made here was never used and is removed again" if made else "")
        )
    witnesses = [(p.stem, read(p)) for p in sorted((log_dir / "witnesses").glob("*.key"))]
    return LogSetup(key, witnesses, RemoteWitnesses(read_remote_witnesses(log_dir)))


def _check_name(key: SigningKey, path: Path) -> None:
    """Refuse a log key named otherwise than ``PARLEY_LOG_ORIGIN`` says: the name is fixed when
    the key is made, and a server started once without the variable would go on, unwarned,
    under its machine's name."""
    given = os.environ.get(ORIGIN_ENV, "").strip()
    if given and given != key.name:
        raise StorageError(
            f"{ORIGIN_ENV} names the log {given!r}, but its key {path} is named {key.name!r}: a "
            f"log's name is fixed when its key is made. Set {ORIGIN_ENV}={key.name} or unset "
            f"it; to rename a log that no charter names yet, stop every server, remove {path} "
            "and start again on an empty database"
        )


def log_origin() -> str:
    """The name a new log key takes: ``PARLEY_LOG_ORIGIN``, or this machine's name."""
    given = os.environ.get(ORIGIN_ENV, "").strip()
    return given or f"{socket.gethostname().lower() or 'localhost'}/parley-log".replace(" ", "-")


def named(vkey: str) -> str:
    """A vkey as people compare them: its name and key id (a name holds no "+")."""
    return "+".join(vkey.split("+")[:2])


def claim(store: Store, vkey: str) -> str:
    """Record ``vkey`` as the key of ``store``'s log, whoever signed its latest checkpoint (an
    operator's decision: ``parley log claim``); the key recorded, another only if the database
    had recorded one already."""
    with store.transaction() as tx:
        return tx.claim_log_key(vkey)
