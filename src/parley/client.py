"""``RemoteServices``: the command line's client of a Parley server (``parley --server URL …``).

It offers the methods of ``parley.services.Services`` that the commands call, over the HTTP API,
so every command works the same against a server as against the embedded store. It trusts the
server with nothing it can check itself:

* moves are signed here, with the participant's own key; the server only relays and orders them;
* the state is the fold of the events it fetched (``protocol.fold``), so a server that altered,
  dropped or reordered an event is caught by the chain and the signatures;
* a version's text must hash to the version; a proof and a checkpoint must verify against the
  log key the server announced (and that the charter, signed by every participant, names).

Who is calling: the participant of ``--as CODE`` (and ``--key FILE``) of the running command,
else ``PARLEY_AS``, else the session used last with this server, else the only key in
``$PARLEY_HOME/keys``. It logs in by signing the server's challenge and keeps the session token,
until it expires, in ``$PARLEY_HOME/sessions/`` (mode 0600).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from parley import errors
from parley.api.login import login_payload
from parley.api.settings import normalize_origin
from parley.core import merkle, moves, protocol, tlogproof
from parley.core import text as text_model
from parley.core.charter import Charter, LogConfig
from parley.core.checkpoint import Checkpoint, open_checkpoint
from parley.core.event import EventType, SignedEvent, event_from_json, format_time
from parley.core.keys import PublicKey, SigningKey, key_file_vkey, parse_vkey
from parley.core.note import parse_note
from parley.core.prefix import complete_hash, negotiation_id
from parley.services import Clock, Receipt, retried, utc_now
from parley.store import NegotiationRow, StoredCheckpoint
from parley.tls import trusted

if TYPE_CHECKING:
    from parley.cli.home import Home

AS_ENV = "PARLEY_AS"
PAGE = 1000
EARLY = 60
"""Seconds before its expiry that a cached session is no longer used."""

ERRORS_BY_CODE: dict[str, type[errors.ParleyError]] = {
    "error": errors.ParleyError,
    "invalid_input": errors.InvalidInputError,
    "not_found": errors.NotFoundError,
    "conflict": errors.ConflictError,
    "permission_denied": errors.PermissionDeniedError,
    "limit_exceeded": errors.LimitExceededError,
    "protocol_error": errors.ProtocolError,
    "unauthorized_move": errors.UnauthorizedMoveError,
    "illegal_move": errors.IllegalMoveError,
    "precondition_failed": errors.PreconditionError,
    "verification_failed": errors.VerificationError,
    "bad_signature": errors.SignatureError,
    "bad_proof": errors.ProofError,
    "equivocation": errors.EquivocationError,
    "storage_unavailable": errors.StorageError,
    "malformed_body": errors.InvalidInputError,
    "invalid_request": errors.InvalidInputError,
    "unauthenticated": errors.PermissionDeniedError,
    "too_large": errors.LimitExceededError,
    "rate_limited": errors.LimitExceededError,
    "method_not_allowed": errors.InvalidInputError,
}
"""The API's error codes back to the errors the command line knows (the inverse of its table)."""


PROXY_UNREACHABLE = frozenset({502, 503, 504})
"""What a reverse proxy answers when the server behind it is down or too slow."""


@dataclass(frozen=True, slots=True)
class Verifier:
    """A log witness's public key, shaped like the keys ``LogSetup.witnesses`` holds."""

    key: PublicKey

    def public(self) -> PublicKey:
        """The key (what ``SigningKey.public`` gives for a local witness)."""
        return self.key


@dataclass(frozen=True)
class RemoteLogSetup:
    """The server's log as it announces it: what ``negotiation open`` puts into a charter."""

    origin: str
    vkey: str
    policy: str
    witnesses: list[tuple[str, Verifier]] = field(default_factory=list)

    def witness_policy(self) -> str:
        """The log-witness policy (c2sp.org/tlog-policy)."""
        return self.policy

    def charter_log(self) -> LogConfig:
        """What a charter says about this log."""
        return LogConfig(self.vkey, self.policy)


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the client acts as: a participant code and where its key file is."""

    code: str
    key_file: Path | None = None


class RemoteServices:
    """The services of a Parley server, over HTTP (see the module docstring)."""

    def __init__(
        self,
        url: str,
        *,
        home: Home | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Clock = utc_now,
        identity: Identity | None = None,
        key: SigningKey | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.origin = normalize_origin(url)
        self.home = home
        self.clock = clock
        self.identity = identity
        self._http = httpx.Client(
            base_url=self.url, timeout=60.0, transport=transport, verify=trusted()
        )
        weakref.finalize(self, self._http.close)
        self._keys: dict[str, SigningKey] = {}
        self._tokens: dict[str, tuple[str, int]] = {}
        self._acting: SigningKey | None = key
        """The key the client logs in with; set by each move it signs."""
        self._events: dict[str, list[SignedEvent]] = {}
        self._states: dict[str, protocol.State] = {}
        self._setup: RemoteLogSetup | None = None
        self._setup_fetched = False

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    # --- reads -----------------------------------------------------------------------------------

    def negotiations(self) -> list[NegotiationRow]:
        """The caller's negotiations, most recently active first."""
        rows = self._json("GET", "/api/negotiations")["negotiations"]
        return [
            NegotiationRow(r["id"], r["title"], r["phase"], r["seq"], r["head"], r["created"],
                           r["updated"])
            for r in rows
        ]  # fmt: skip

    def resolve(self, negotiation: str) -> str:
        """The full id of one of the caller's negotiations, from the id or a unique prefix."""
        return negotiation_id((r.id for r in self.negotiations()), negotiation)

    def state(self, negotiation: str) -> protocol.State:
        """The state, folded here from the events fetched from the server."""
        return self._sync(negotiation)

    def events(
        self, negotiation: str, *, viewer: str | None = None, since: int = 0
    ) -> list[SignedEvent]:
        """Events from ``since`` on, as the caller may read them (the server redacts the rest)."""
        self._sync(negotiation)
        return self._events[negotiation][since:]

    def version(self, negotiation: str, version: str) -> text_model.Text:
        """A version's text, checked against its hash."""
        obj = self._json("GET", f"/api/negotiations/{negotiation}/versions/{version}")
        text = text_model.from_json(obj["text"])
        full = str(obj["version"])
        if text_model.version_hash(text) != full or not full.startswith(version.rstrip("…")):
            raise errors.VerificationError(
                f"the server sent a text that is not version {version}: it hashes to "
                f"{text_model.version_hash(text)[:12]}…"
            )
        return text

    def complete(self, prefix: str, what: str = "event or version") -> str:
        """The full hash of an event or version, among the negotiations fetched so far."""
        self._fetch_some()
        candidates: set[str] = set()
        for nid, state in self._states.items():
            candidates.update(state.versions)
            candidates.update(e.hash for e in self._events[nid])
        return complete_hash(candidates, prefix, what)

    def _fetch_some(self) -> None:
        """Fetch every negotiation of the caller's, unless a command has fetched one already."""
        if not self._states:
            for row in self.negotiations():
                self._sync(row.id)

    # --- writes ----------------------------------------------------------------------------------

    def open_negotiation(self, charter: Charter, key: SigningKey, author: str) -> Receipt:
        """Convene a negotiation with a charter event signed here."""
        self._acting = key
        return self.submit(moves.convene(charter, key, author, self.now()))

    def act(
        self,
        negotiation: str,
        author: str,
        key: SigningKey,
        move: EventType,
        body: dict[str, Any],
        audience: tuple[str, ...] | None = None,
    ) -> Receipt:
        """Sign a move on the state as fetched; fetch again and retry if someone moved first."""
        self._acting = key
        sealed = moves.salted(body, audience, secrets.token_hex(16))
        return retried(
            lambda: self.submit(
                moves.make(self._sync(negotiation), key, author, move, sealed, self.now(), audience)
            )
        )

    def submit(self, event: SignedEvent) -> Receipt:
        """Send a signed event; the receipt's state is the local fold with the event applied."""
        env = event.envelope
        charter = env.type is EventType.CHARTER
        path = "/api/negotiations" if charter else f"/api/negotiations/{env.negotiation}/events"
        answer = self._json("POST", path, body=event.to_json())
        if charter:
            state = protocol.start(event)
            self._events[env.negotiation] = [event]
            self._states[env.negotiation] = state
        else:
            state = self._sync(env.negotiation)
        shown = self._events[env.negotiation]
        if len(shown) <= env.seq or shown[env.seq].hash != event.hash:
            raise errors.VerificationError(
                f"the server acknowledged event {env.seq} ({event.hash[:12]}…) but does not show it"
            )
        return Receipt(event, int(answer["log_index"]), state)

    def now(self) -> str:
        """The clock, as an event time."""
        return format_time(self.clock())

    # --- the log ---------------------------------------------------------------------------------

    @property
    def log_setup(self) -> RemoteLogSetup | None:
        """The server's log (vkey, origin, log-witness policy), fetched once."""
        if not self._setup_fetched:
            response = self._send("GET", "/api/log/setup", auth=False)
            if response.status_code != 404:
                obj = self._decode(response)
                witnesses = [(w["name"], Verifier(parse_vkey(w["vkey"]))) for w in obj["witnesses"]]
                self._setup = RemoteLogSetup(
                    obj["origin"], obj["vkey"], obj["witness_policy"], witnesses
                )
            self._setup_fetched = True
        return self._setup

    def publish(self) -> StoredCheckpoint | None:
        """The latest checkpoint (the server signs a new one if the log has grown), verified."""
        setup = self.log_setup
        if setup is None:
            return None
        note = self._text("GET", "/log/checkpoint", auth=False)
        open_checkpoint(parse_note(note), [parse_vkey(setup.vkey)])
        return StoredCheckpoint(Checkpoint.from_text(parse_note(note).text).size, note)

    def checkpoint(self) -> StoredCheckpoint | None:
        """The latest checkpoint."""
        return self.publish()

    def proof(self, event_hash: str) -> str:
        """A tlog-proof for one of the caller's events, verified against the log key."""
        self._fetch_some()
        where = {e.hash: nid for nid, events in self._events.items() for e in events}
        full = complete_hash(where, event_hash, "event")
        negotiation = where[full]
        text = self._text("GET", f"/api/negotiations/{negotiation}/events/{full}/proof")
        setup = self.log_setup
        if setup is not None:
            leaf = merkle.leaf_hash(bytes.fromhex(full))
            tlogproof.verify_proof(text, leaf, parse_vkey(setup.vkey))
        return text

    def bundle(self, negotiation: str) -> bytes:
        """The agreement bundle, as the server builds it (``parley verify`` checks it)."""
        return self._send("GET", f"/api/negotiations/{negotiation}/bundle", check=True).content

    # --- folding ---------------------------------------------------------------------------------

    def _sync(self, negotiation: str) -> protocol.State:
        """Fetch the events after those already folded and apply them."""
        known = self._events.setdefault(negotiation, [])
        while True:
            path = f"/api/negotiations/{negotiation}/events"
            page = self._json("GET", path, params={"since": len(known), "limit": PAGE})["events"]
            fresh = [event_from_json(e) for e in page]
            state = self._states.get(negotiation)
            for event in fresh:
                state = protocol.start(event) if state is None else protocol.apply(state, event)
                known.append(event)
            if state is not None:
                self._states[negotiation] = state
            if len(page) < PAGE:
                break
        if state is None:
            raise errors.NotFoundError(f"no negotiation {negotiation}")
        return state

    # --- HTTP ------------------------------------------------------------------------------------

    def _json(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        params: dict[str, Any] | None = None,
        auth: bool = True,
    ) -> dict[str, Any]:
        found = self._decode(self._send(method, path, body=body, params=params, auth=auth))
        if not isinstance(found, dict):
            raise errors.InvalidInputError(f"{method} {path}: the server sent no JSON object")
        return found

    def _text(self, method: str, path: str, *, auth: bool = True) -> str:
        return self._send(method, path, auth=auth, check=True).text

    def _decode(self, response: httpx.Response) -> Any:
        self._raise_for(response)
        try:
            return response.json()
        except ValueError as exc:
            raise errors.InvalidInputError(f"the server sent malformed JSON: {exc}") from exc

    def _send(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        params: dict[str, Any] | None = None,
        auth: bool = True,
        check: bool = False,
    ) -> httpx.Response:
        """One request; with ``auth``, logged in (once more if the session has expired)."""
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self._token(fresh=attempt == 2)}"} if auth else {}
            try:
                response = self._http.request(
                    method, path, json=body, params=params, headers=headers
                )
            except httpx.HTTPError as exc:
                message = f"cannot reach the Parley server at {self.url}: {exc}"
                raise errors.StorageError(message) from exc
            if not (auth and response.status_code == 401 and attempt == 1):
                break
        if check:
            self._raise_for(response)
        return response

    def _raise_for(self, response: httpx.Response) -> None:
        if response.is_success:
            return
        try:
            info = response.json()["error"]
            code, message = str(info["code"]), str(info["message"])
        except (ValueError, KeyError, TypeError):
            code, message = "error", ""
        if not message or message == "Not Found":  # no answer of Parley's
            raise self._foreign(response)
        raise ERRORS_BY_CODE.get(code, errors.ParleyError)(message)

    def _foreign(self, response: httpx.Response) -> errors.ParleyError:
        """The error for an answer not of Parley's making: a reverse proxy's, or another
        server's (a route Parley lacks)."""
        status, path = response.status_code, response.request.url.path
        answered = f"{self.url} answered {status} {response.reason_phrase} to {path}"
        if status in PROXY_UNREACHABLE:
            if path.endswith("/events") or path == "/api/negotiations":  # a move cut off
                return errors.StorageError(
                    f"{answered}: the Parley server behind it did not answer in time, and what "
                    "was sent may or may not be recorded: check the history before sending again"
                )
            return errors.StorageError(
                f"{answered}: the Parley server behind it is not answering (stopped, restarting "
                "or overloaded); try again shortly"
            )
        if status == 413:
            return errors.LimitExceededError(
                f"{answered}: the request is larger than it accepts (a reverse proxy's limit, "
                "nginx's client_max_body_size, may be below the server's PARLEY_MAX_BODY_BYTES)"
            )
        return errors.ParleyError(
            f"{answered}, not as a Parley server does: is it the address of one (its origin, "
            "without /api)?"
        )

    # --- sessions --------------------------------------------------------------------------------

    def _token(self, *, fresh: bool = False) -> str:
        """A session token for the acting participant: cached, or from a new login."""
        key = self._acting
        vkey = key.public().vkey() if key is not None else self._identity_vkey()
        if not fresh:
            cached = self._tokens.get(vkey) or self._cached(vkey)
            if cached is not None and cached[1] - EARLY > time.time():
                return cached[0]
        if key is None:
            key = self._identity_key()
        token, expires = self._login(key)
        self._tokens[vkey] = (token, expires)
        self._keep(vkey, token, expires)
        return token

    def _login(self, key: SigningKey) -> tuple[str, int]:
        challenge = self._json("POST", "/api/login/challenge", auth=False)
        if challenge.get("server") != self.origin:
            raise errors.PermissionDeniedError(
                f"the server at {self.url} says it is {challenge.get('server')!r}: sign in with "
                f"its own URL, or set PARLEY_SERVER_ORIGIN={self.origin} on the server"
            )
        vkey = key.public().vkey()
        signature = key.sign(login_payload(self.origin, str(challenge["challenge"]), vkey))
        body = {"vkey": vkey, "challenge": challenge["challenge"],
                "signature": base64.b64encode(signature).decode()}  # fmt: skip
        session = self._json("POST", "/api/login", body=body, auth=False)
        return str(session["token"]), int(session["expires"])

    def _who(self) -> Identity:
        """The participant this command acts as (see the module docstring)."""
        found = self.identity or _from_command() or _from_env()
        if found is None and self.home is not None:
            last = self._last_vkey()
            if last is not None:
                return Identity(last.split("+", 1)[0])
            key_files = sorted(self.home.keys_dir.glob("*.key"))
            if len(key_files) == 1:
                return Identity(key_files[0].stem)
        if found is None:
            raise errors.InvalidInputError(
                "the server needs to know who you are: add --as CODE (or set PARLEY_AS=CODE)"
            )
        return found

    def _identity_vkey(self) -> str:
        who = self._who()
        if who.code in self._keys:
            return self._keys[who.code].public().vkey()
        if self.home is None:
            raise errors.InvalidInputError("no key to log in with")
        path = who.key_file or self.home.key_file(who.code)
        try:
            return key_file_vkey(path.read_bytes()).vkey()
        except OSError as exc:
            raise errors.NotFoundError(f"no key file {path} to log in as {who.code}") from exc

    def _identity_key(self) -> SigningKey:
        who = self._who()
        if who.code not in self._keys:
            if self.home is None:
                raise errors.InvalidInputError("no key to log in with")
            self._keys[who.code] = self.home.participant_key(who.code, who.key_file)
        return self._keys[who.code]

    # --- the token cache on disk ---

    def _cache_file(self) -> Path | None:
        if self.home is None:
            return None
        name = hashlib.sha256(self.origin.encode()).hexdigest()[:16]
        return self.home.path / "sessions" / f"{name}.json"

    def _read_cache(self) -> dict[str, Any]:
        path = self._cache_file()
        if path is None or not path.exists():
            return {}
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return found if isinstance(found, dict) else {}

    def _cached(self, vkey: str) -> tuple[str, int] | None:
        entry = self._read_cache().get("sessions", {}).get(vkey)
        if not isinstance(entry, dict):
            return None
        return str(entry.get("token", "")), int(entry.get("expires", 0))

    def _last_vkey(self) -> str | None:
        last = self._read_cache().get("last")
        return last if isinstance(last, str) else None

    def _keep(self, vkey: str, token: str, expires: int) -> None:
        path = self._cache_file()
        if path is None:
            return
        doc = self._read_cache()
        sessions = doc.get("sessions") if isinstance(doc.get("sessions"), dict) else {}
        assert isinstance(sessions, dict)
        sessions[vkey] = {"token": token, "expires": expires}
        doc = {"server": self.origin, "last": vkey, "sessions": sessions}
        _write_private(path, json.dumps(doc, indent=1).encode())


def _from_command() -> Identity | None:
    """``--as CODE`` / ``--key FILE`` (or ``history --as``) of the running command, if any."""
    import click

    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        code = ctx.params.get("code") or ctx.params.get("viewer")
        if isinstance(code, str) and code:
            key_file = ctx.params.get("key_file")
            return Identity(code, key_file if isinstance(key_file, Path) else None)
        ctx = ctx.parent
    return None


def _from_env() -> Identity | None:
    code = os.environ.get(AS_ENV)
    return Identity(code) if code else None


def _write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(aside, path)
