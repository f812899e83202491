"""Log witnesses run by other organisations: where they are, and asking them to cosign.

The operator lists them in ``$PARLEY_HOME/log/remote-witnesses.policy``, one c2sp.org/tlog-policy
witness line each, with the witness's submission URL::

    witness un-witness un.example/witness+1a2b3c4d+BASE64 https://witness.un.example

The log's witness policy (which charters carry) then requires them beside the local log witnesses.
Each checkpoint the server publishes is sent to each of them with a consistency proof from the
size that witness last cosigned (c2sp.org/tlog-witness ``POST <url>/add-checkpoint``), as this
process saw it or the latest stored checkpoint shows it; a witness that answers 409 says which
size that is, and is asked once more. A cosignature is added only if
it verifies under the key listed. A witness that is down or refuses is reported and left out: the
checkpoint is stored without it, falls short of the policy's quorum (``parley verify`` says so),
and is offered again at the next publish.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from parley.core.checkpoint import Checkpoint, parse_decimal
from parley.core.cosignature import CosignatureVerifier
from parley.core.note import Note, Signature
from parley.core.tlogpolicy import PolicyWitness, parse_policy
from parley.errors import InvalidInputError
from parley.tls import trusted

if TYPE_CHECKING:  # loaded on first use: a store without remote witnesses never needs it
    import httpx

FILE_NAME = "remote-witnesses.policy"
"""The file, in the log folder of PARLEY_HOME, that lists the remote witnesses."""
TIMEOUT_SECONDS = 10.0
RETRY_AFTER_SECONDS = 60.0
"""A witness that failed is not asked again for this long (publishing must not wait on it)."""
SIZE_CONTENT_TYPE = "text/x.tlog.size"
log = logging.getLogger(__name__)

Request = Callable[[int], bytes]
"""The add-checkpoint body taking a witness from the given old size to the checkpoint."""


def read_remote_witnesses(log_dir: Path) -> tuple[PolicyWitness, ...]:
    """The remote witnesses listed in ``log_dir``; none when there is no file."""
    path = log_dir / FILE_NAME
    return _parsed(path, _file_text(path)) if path.exists() else ()


def _file_text(path: Path) -> str:
    """The file's text ("" if there is none); unreadable or not UTF-8 is bad input."""
    try:
        return path.read_text(encoding="utf-8") if path.exists() else ""
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path}: not UTF-8 (byte {exc.start})") from exc


def _parsed(path: Path, text: str) -> tuple[PolicyWitness, ...]:
    try:
        return parse_remote_witnesses(text)
    except InvalidInputError as exc:
        raise exc.with_source(str(path)) from exc


def parse_remote_witnesses(text: str) -> tuple[PolicyWitness, ...]:
    """Witness lines only (and comments), each with its URL: the quorum is not the file's to set."""
    for number, line in enumerate(text.splitlines(), start=1):
        word = line.split(maxsplit=1)[0] if line.strip() else "#"
        if not word.startswith("#") and word != "witness":
            raise InvalidInputError(
                f"only 'witness <name> <vkey> <url>' lines belong here, found {word!r}",
                line=number,
            )
    witnesses = parse_policy(text + "\nquorum none\n").witnesses
    for w in witnesses:
        if not w.url or not w.url.startswith(("https://", "http://")):
            raise InvalidInputError(f"witness {w.name}: expected its submission URL (https://…)")
    return witnesses


def add_remote_witness(log_dir: Path, line: str, local: Collection[str]) -> PolicyWitness:
    """Append a witness line to the file in ``log_dir``, once the whole file reads well with it
    and its name is not one of the ``local`` witnesses'; the witness added."""
    path = log_dir / FILE_NAME
    try:  # the witness given first, so that its fault is not blamed on a line of the file
        parse_remote_witnesses(line)
    except InvalidInputError as exc:
        raise InvalidInputError(f"the witness to add: {exc.reason}") from exc
    before = _file_text(path)
    after = before + ("" if before.endswith("\n") or not before else "\n") + line + "\n"
    witness = _parsed(path, after)[-1]
    if witness.name in local:
        raise InvalidInputError(f"{witness.name} is a local log witness: choose another name")
    log_dir.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(after, encoding="utf-8")
    temporary.replace(path)
    return witness


@dataclass
class RemoteWitnesses:
    """The remote witnesses of a log, and the size each was last seen to have cosigned."""

    witnesses: tuple[PolicyWitness, ...]
    transport: httpx.BaseTransport | None = None
    """How requests are sent (tests pass a mock transport); the network when None."""
    clock: Callable[[], float] = time.monotonic
    _sizes: dict[str, int] = field(default_factory=dict)
    _failed: dict[str, float] = field(default_factory=dict)
    """When each witness last failed (``clock`` time)."""
    _http: httpx.Client | None = None
    _making: threading.Lock = field(default_factory=threading.Lock)

    def due(self, note: Note) -> bool:
        """True when a witness that is not resting after a failure has not cosigned ``note``."""
        return bool(self._missing(note))

    def learn(self, stored: Note) -> None:
        """Take the sizes a stored checkpoint shows cosigned (its cosignatures were checked
        before it was stored) as where those witnesses are, so that a process that has just
        started asks each from there rather than from 0 and a 409."""
        signed = {(s.name, s.key_id) for s in stored.signatures}
        size = _size(stored)
        for witness in self.witnesses:
            if (witness.key.name, witness.key.id) in signed:
                self._sizes[witness.name] = max(self._sizes.get(witness.name, 0), size)

    def cosign(
        self, note: Note, request: Request, log_size: Callable[[], int] | None = None
    ) -> Note:
        """``note`` with the cosignature of every due witness that gave a valid one; the
        witnesses are asked together, so a slow one costs its own time only.

        ``log_size`` reads the log's size now: a witness that claims to have cosigned a larger
        checkpoint than that saw another history signed with this log's key (or this log was
        restored from an old backup), which is reported as an error.
        """
        missing = self._missing(note)
        if not missing:
            return note
        with ThreadPoolExecutor(max_workers=len(missing)) as pool:
            answers = list(pool.map(lambda w: self._answer(w, note, request, log_size), missing))
        return note.with_signatures([a for a in answers if a is not None])

    def _answer(
        self,
        witness: PolicyWitness,
        note: Note,
        request: Request,
        log_size: Callable[[], int] | None,
    ) -> Signature | None:
        """One witness's valid cosignature, or None (the reason logged)."""
        import httpx

        try:
            signature = self._ask(self._client(), witness, note, request)
        except _Newer as exc:
            size = None if log_size is None else log_size()
            if size is None or exc.size <= size:  # another process published it: no failure
                log.info("log witness %s: %s", witness.name, exc)
                return None
            self._failed[witness.name] = self.clock()
            log.error(
                "log witness %s says it cosigned size %d of this log, which has %d entries: "
                "another history is signed with this log's key, or the log was restored from an "
                "old backup",
                witness.name, exc.size, size,
            )  # fmt: skip
            return None
        except (httpx.HTTPError, InvalidInputError) as exc:
            self._failed[witness.name] = self.clock()
            log.warning("log witness %s did not cosign: %s", witness.name, exc)
            return None
        self._failed.pop(witness.name, None)
        return signature

    def _client(self) -> httpx.Client:
        """One client for every request, so connections to the witnesses are kept alive (the
        spec asks clients to), made on first use."""
        import httpx

        with self._making:
            if self._http is None:
                self._http = httpx.Client(
                    timeout=TIMEOUT_SECONDS, transport=self.transport, verify=trusted()
                )
            return self._http

    def _missing(self, note: Note) -> list[PolicyWitness]:
        signed = {(s.name, s.key_id) for s in note.signatures}
        now = self.clock()
        return [
            w for w in self.witnesses
            if (w.key.name, w.key.id) not in signed
            and now - self._failed.get(w.name, -RETRY_AFTER_SECONDS) >= RETRY_AFTER_SECONDS
        ]  # fmt: skip

    def _ask(
        self, http: httpx.Client, witness: PolicyWitness, note: Note, request: Request
    ) -> Signature:
        url = f"{(witness.url or '').rstrip('/')}/add-checkpoint"
        answer = http.post(url, content=request(self._sizes.get(witness.name, 0)))
        kind = answer.headers.get("content-type", "")
        if answer.status_code == 409 and kind.startswith(SIZE_CONTENT_TYPE):  # a charset may follow
            seen = self._sizes[witness.name] = parse_decimal(answer.text.strip(), "its size")
            if seen > _size(note):
                raise _Newer(seen)
            answer = http.post(url, content=request(seen))
        if answer.status_code != 200:
            raise InvalidInputError(f"{url} answered {answer.status_code}: {answer.text.strip()}")
        signature = _cosignature(witness, note, answer.text)
        self._sizes[witness.name] = _size(note)
        return signature


class _Newer(Exception):
    """The witness cosigned a larger checkpoint already: no failure if another process published
    it, nothing to add."""

    def __init__(self, size: int) -> None:
        super().__init__(f"cosigned size {size} already, a later checkpoint than this one")
        self.size = size


def _cosignature(witness: PolicyWitness, note: Note, body: str) -> Signature:
    """The line of the answer that is ``witness``'s valid cosignature of ``note``."""
    verifier = CosignatureVerifier.of(witness.key)
    for line in body.splitlines():
        try:
            signature = Signature.from_line(line)
        except InvalidInputError:
            continue  # the spec: ignore lines of unknown keys, however they look
        if (signature.name, signature.key_id) == (verifier.name, verifier.key_id) and (
            verifier.verify(note.text.encode(), signature.blob)
        ):
            return signature
    raise InvalidInputError(f"no valid cosignature by {witness.key.vkey()} in the answer")


def _size(note: Note) -> int:
    return Checkpoint.from_text(note.text).size
