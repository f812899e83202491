"""The server's configuration, read once from the environment into a frozen dataclass.

Everything a server process needs that is not in the database lives under ``PARLEY_HOME``: the
session secret (``session.secret``, created on first start), the log key and local log witnesses
(``log/``, the same layout as the command line's home), and, when this server also acts as a log
witness for other logs, its cosignature keys and the logs it trusts (``witness/``). Several API
processes sharing one database must share these files (or the same environment), so that a
session made by one is accepted by the others and every checkpoint is signed by the same key
(the database records that key, and a process with another refuses to start).

=============================  ==========================================================
variable                       meaning (default)
=============================  ==========================================================
PARLEY_HOME                    data folder (``~/.local/share/parley``)
PARLEY_DATABASE_URL            ``postgresql+psycopg://…`` or ``sqlite:///…`` (SQLite in home)
PARLEY_SERVER_ORIGIN           the URL clients reach, signed at login (``http://127.0.0.1:8000``)
PARLEY_SESSION_SECRET          HMAC key for sessions (``$PARLEY_HOME/session.secret``)
PARLEY_LOG_ORIGIN              the log's name, taken when its key is made on a first start
                               (``<hostname>/parley-log``; ``parley.log_setup``)
PARLEY_SESSION_SECONDS         session lifetime (1800)
PARLEY_MAX_BODY_BYTES          request body limit (4 MiB)
PARLEY_MAX_JSON_DEPTH          JSON nesting limit (64)
PARLEY_RATE_PER_SECOND         sustained requests per second per key or address (50)
PARLEY_RATE_BURST              requests allowed at once per key or address (200)
PARLEY_LOGINS_PER_MINUTE       sessions one address may open a minute, and at once (30)
PARLEY_WITNESS_KEYS            cosignature key files, ``:``-separated (``witness/*.key``)
PARLEY_WITNESS_POLICY          tlog-policy file whose ``log`` lines are the trusted logs
                               (``witness/logs.policy``)
PARLEY_PASSPHRASE              opens encrypted key files (a server cannot ask for it)
PARLEY_DEMO_KEYS               demo mode: the demo delegations' key folder, offered to
                               browsers on loopback only (set by ``parley demo --serve``)
PARLEY_PUBLISH_SECONDS         publish a checkpoint this often if the log grew, for the log
                               witnesses to see (10; 0: only when one is asked for)
=============================  ==========================================================
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from parley.core import keys
from parley.core.keys import PublicKey, SigningKey
from parley.core.tlogpolicy import parse_policy
from parley.errors import InvalidInputError

DEFAULT_ORIGIN = "http://127.0.0.1:8000"
SECRET_FILE = "session.secret"
MIB = 2**20
PUBLISH_SECONDS = 10
"""How often a served process publishes a checkpoint when the log has grown."""


def normalize_origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-case, default ports left out; what login signs."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise InvalidInputError(f"not a server URL: {url!r}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(f"a server URL looks like https://host[:port], found {url!r}")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[scheme]
    return f"{scheme}://{host}" + ("" if port in (None, default) else f":{port}")


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request, and one caller, may send."""

    max_body_bytes: int = 4 * MIB
    max_json_depth: int = 64
    rate_per_second: float = 50.0
    """Tokens added to each caller's bucket per second (a caller: a session key or an address)."""
    rate_burst: int = 200
    """Bucket size: how many requests a caller may make at once."""
    logins_per_minute: int = 30
    """Sessions one address may open a minute (and at once): any key may log in, and each
    session key has a bucket of its own, so without this bound fresh keys would multiply it."""


@dataclass(frozen=True, slots=True)
class Live:
    """Server-sent events: how often a stream looks at the store, and for how long."""

    poll_seconds: float = 0.5
    heartbeat_seconds: float = 15.0
    max_seconds: float = 600.0
    """A stream ends after this long; the browser's EventSource reconnects by itself."""


@dataclass(frozen=True)
class Settings:
    """One server process's configuration."""

    home: Path
    database_url: str | None = None
    origin: str = DEFAULT_ORIGIN
    secret: bytes = b""
    """HMAC key for challenges and sessions; every process of a deployment must share it."""
    session_seconds: int = 1800
    challenge_seconds: int = 120
    limits: Limits = field(default_factory=Limits)
    live: Live = field(default_factory=Live)
    witness_keys: tuple[SigningKey, ...] = ()
    """Cosignature keys for acting as a log witness (none: this server is not a witness)."""
    witness_logs: tuple[PublicKey, ...] = ()
    """The logs this server cosigns for as a witness."""
    demo_keys_dir: Path | None = None
    """Demo mode (``parley demo --serve``): the demo delegations' key files, offered on loopback."""
    publish_seconds: float | None = None
    """How often to publish a checkpoint when the log has grown (None: only when one is asked
    for); ``from_env`` sets it for a served process."""

    def __post_init__(self) -> None:
        if len(self.secret) < 32:
            raise InvalidInputError("the session secret must be at least 32 bytes")
        if self.session_seconds <= 0 or self.challenge_seconds <= 0:
            raise InvalidInputError("session and challenge lifetimes must be positive")

    @property
    def secure_cookies(self) -> bool:
        """Cookies are marked Secure when clients reach the server over https."""
        return self.origin.startswith("https://")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the environment (see the module docstring); creates the secret file if needed."""
        env = os.environ if environ is None else environ
        home = Path(env.get("PARLEY_HOME") or Path.home() / ".local" / "share" / "parley")
        home = home.expanduser()
        limits = Limits(
            max_body_bytes=_int(env, "PARLEY_MAX_BODY_BYTES", 4 * MIB),
            max_json_depth=_int(env, "PARLEY_MAX_JSON_DEPTH", 64),
            rate_per_second=float(_int(env, "PARLEY_RATE_PER_SECOND", 50)),
            rate_burst=_int(env, "PARLEY_RATE_BURST", 200),
            logins_per_minute=_int(env, "PARLEY_LOGINS_PER_MINUTE", 30),
        )
        witness = home / "witness"
        return cls(
            home=home,
            database_url=env.get("PARLEY_DATABASE_URL") or None,
            origin=normalize_origin(env.get("PARLEY_SERVER_ORIGIN") or DEFAULT_ORIGIN),
            secret=_secret(env.get("PARLEY_SESSION_SECRET"), home),
            session_seconds=_int(env, "PARLEY_SESSION_SECONDS", 1800),
            limits=limits,
            witness_keys=_witness_keys(env.get("PARLEY_WITNESS_KEYS"), witness),
            witness_logs=_witness_logs(env.get("PARLEY_WITNESS_POLICY"), witness),
            demo_keys_dir=Path(env["PARLEY_DEMO_KEYS"]) if env.get("PARLEY_DEMO_KEYS") else None,
            publish_seconds=_int(env, "PARLEY_PUBLISH_SECONDS", PUBLISH_SECONDS, zero=True) or None,
        )


def _int(env: Mapping[str, str], name: str, default: int, *, zero: bool = False) -> int:
    """A whole number from the environment: positive, or zero too where ``zero`` allows it."""
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise InvalidInputError(f"{name} must be a whole number, found {raw!r}") from exc
    if value < 0 or (value == 0 and not zero):
        wanted = "0 or more" if zero else "positive"
        raise InvalidInputError(f"{name} must be {wanted}, found {value}")
    return value


def _secret(given: str | None, home: Path) -> bytes:
    """The configured secret, else the one kept in home (made once, shared by every process)."""
    if given:
        return given.encode()
    return create_once(home / SECRET_FILE, secrets.token_hex(32).encode() + b"\n").strip()


def create_once(path: Path, data: bytes) -> bytes:
    """The content of ``path``, creating it (mode 0600) with ``data`` if absent.

    Several processes starting at once agree: the file appears whole (written aside, then linked
    into place, which fails if another process linked first) and everyone reads the winner's.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(aside, path)
        except FileExistsError:
            pass
        finally:
            aside.unlink()
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror}") from exc


def read_key(path: Path) -> SigningKey:
    """A key file; an encrypted one needs PARLEY_PASSPHRASE (a server cannot ask)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read key file {path}: {exc.strerror}") from exc
    phrase = os.environ.get("PARLEY_PASSPHRASE") if keys.is_encrypted(data) else None
    try:
        return keys.read_key_file(data, passphrase=phrase)
    except InvalidInputError as exc:
        raise exc.with_source(str(path)) from exc


def _witness_keys(given: str | None, folder: Path) -> tuple[SigningKey, ...]:
    paths = [Path(p) for p in given.split(os.pathsep) if p] if given else []
    if not given:
        paths = sorted(folder.glob("*.key"))
    found = tuple(read_key(p) for p in paths)
    wrong = [k.name for k in found if k.type != keys.COSIGNATURE_V1]
    if wrong:
        raise InvalidInputError(f"log witness keys must be cosignature keys: {', '.join(wrong)}")
    return found


def _witness_logs(given: str | None, folder: Path) -> tuple[PublicKey, ...]:
    path = Path(given) if given else folder / "logs.policy"
    if not given and not path.exists():
        return ()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return parse_policy(data).log_keys
    except InvalidInputError as exc:
        raise exc.with_source(str(path)) from exc
