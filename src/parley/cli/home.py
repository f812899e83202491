"""Where the command line keeps things: PARLEY_HOME, its keys, its store and its log.

$PARLEY_HOME/                 default ~/.local/share/parley
  parley.db                   the SQLite store (unless PARLEY_DATABASE_URL names another)
  keys/<CODE>.key             participants' key files (mode 0600), used by --as CODE
  log/log.key                 the deployment's log key (signs checkpoints)
  log/witnesses/<NAME>.key    local log witnesses' cosignature keys
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

from parley.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from parley import services as svc
    from parley.core import keys

HOME_ENV = "PARLEY_HOME"
PASSPHRASE_ENV = "PARLEY_PASSPHRASE"


def default_home() -> Path:
    """PARLEY_HOME, or ~/.local/share/parley."""
    env = os.environ.get(HOME_ENV)
    return Path(env) if env else Path.home() / ".local" / "share" / "parley"


def write_secret(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600; never overwrite an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise InvalidInputError(f"{path} already exists; refusing to overwrite a key") from exc
    except OSError as exc:
        raise InvalidInputError(f"cannot create {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def passphrase(*, confirm: bool = False) -> str:
    """From PARLEY_PASSPHRASE, else asked at the terminal (twice for a new key)."""
    value = os.environ.get(PASSPHRASE_ENV)
    if value is None:
        value = click.prompt("Passphrase", hide_input=True, confirmation_prompt=confirm)
    if not value:
        raise InvalidInputError("the passphrase must not be empty")
    return value


def load_key(path: Path) -> keys.SigningKey:
    """Read a key file, asking for its passphrase only if it is encrypted."""
    from parley.core import keys

    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise NotFoundError(f"no key file {path}: create one with `parley key new`") from exc
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror}") from exc
    secret = passphrase() if keys.is_encrypted(data) else None
    return keys.read_key_file(data, passphrase=secret)


def new_key(path: Path, name: str, key_type: int, *, encrypt: bool = False) -> keys.SigningKey:
    """Make a fresh key, write its file (mode 0600) and return it."""
    from parley.core import keys

    key = keys.SigningKey.from_seed(name, os.urandom(32), key_type)
    secret = passphrase(confirm=True) if encrypt else None
    data = keys.key_file_bytes(key, passphrase=secret, salt=os.urandom(16), nonce=os.urandom(12))
    write_secret(path, data)
    return key


@dataclass
class Home:
    """One PARLEY_HOME and, optionally, a database URL."""

    path: Path = field(default_factory=default_home)
    database_url: str | None = None
    server_url: str | None = field(default_factory=lambda: os.environ.get("PARLEY_SERVER"))
    """When set (``--server URL`` or PARLEY_SERVER), commands go through that server's API."""
    _services: svc.Services | None = None

    @property
    def keys_dir(self) -> Path:
        """Where participants' key files live."""
        return self.path / "keys"

    def key_file(self, code: str) -> Path:
        """The key file used by ``--as CODE``."""
        return self.keys_dir / f"{code}.key"

    def participant_key(self, code: str, key_file: Path | None = None) -> keys.SigningKey:
        """The key to act as ``code``: ``--key FILE`` or keys/CODE.key, named ``code``."""
        key = load_key(key_file or self.key_file(code))
        if key.name != code:
            raise InvalidInputError(f"the key file is for {key.name!r}, not {code!r}")
        return key

    def add_witness(self, name: str) -> keys.SigningKey:
        """Create a local log witness with its own cosignature key."""
        from parley.core import keys

        path = self.path / "log" / "witnesses" / f"{name}.key"
        return new_key(path, name, keys.COSIGNATURE_V1)

    def services(self) -> svc.Services:
        """The services over this home's store (opened once), or a client of a Parley server."""
        if self._services is None and self.server_url:
            from parley.client import RemoteServices

            self._services = RemoteServices(self.server_url, home=self)  # type: ignore[assignment]
        if self._services is None:
            from parley import services as svc
            from parley.log_setup import load_log_setup
            from parley.storage import open_store

            self.path.mkdir(parents=True, exist_ok=True)
            store = open_store(self.database_url, home=self.path)
            try:
                setup = load_log_setup(self.path, store, load_key)
            except BaseException:
                store.close()
                raise
            self._services = svc.Services(store, setup)
        return self._services
