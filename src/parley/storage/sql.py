"""``SqlStore``: the ``Store`` protocol over SQLAlchemy Core, one code for SQLite and PostgreSQL.

Rows and domain values are mapped by hand in this file. An event is kept as its wire JSON
(``SignedEvent.to_json``) and rebuilt with ``event_from_json``, which recomputes its hash: a row
that does not hash to its key is reported as a broken store, never served.

Locking, so that several processes can share one database:

* SQLite: every transaction starts with ``BEGIN IMMEDIATE`` (the driver's own implicit BEGIN is
  switched off), so writers take the database's write lock up front. Writers of this store first
  take an exclusive ``flock`` on a file beside the database, so they queue and are woken the moment
  the lock is free instead of sleeping in SQLite's busy handler; the busy timeout still covers any
  other writer. ``snapshot`` (reads only) starts with a plain ``BEGIN``: in WAL mode it reads a
  consistent snapshot beside the writer and never takes the write lock.
* PostgreSQL: ``append`` and ``put_checkpoint`` first lock the single ``log_head`` row
  (``SELECT … FOR UPDATE``), then the negotiation row unless this transaction read it already
  (a stale read is refused by the conditional UPDATE below), so log appends are strictly
  sequential and the log is gapless; READ COMMITTED means every statement after the lock sees
  the latest committed state.

Within one transaction the log size (once locked), the negotiation rows read or written and the
stored hashes written are remembered, so a batch of appends does not read them again; stored hashes
once committed are kept by the store (``CommittedHashes``). An append's negotiation row, event
(which is also the log entry: its log index is unique) and stored hashes are written together
with the next read of those tables or before the commit, never later: on SQLite one executemany
per table, then one move of the log head; on PostgreSQL all of it in one statement
(``_SERVER_FLUSH``), one round trip under the log lock.

The optimistic lock is ``check_append`` (shared with ``MemoryStore``), then an
``UPDATE … WHERE id = :id AND seq = :expected``, or an INSERT for a charter; zero rows or a
unique violation is a ``ConflictError``. Database failures become ``StorageError``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from itertools import islice
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: writers queue on the busy timeout alone
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import (
    BigInteger,
    CompoundSelect,
    Connection,
    CursorResult,
    Engine,
    Executable,
    Row,
    Table,
    bindparam,
    create_engine,
    event,
    exc,
    insert,
    select,
    text,
    union,
    update,
)
from sqlalchemy.engine import URL, make_url

from parley.core import merkle
from parley.core.event import SignedEvent, event_from_json
from parley.core.witness import Cosigned
from parley.errors import ConflictError, InvalidInputError, NotFoundError, StorageError
from parley.storage.schema import (
    LOG_HEAD_ID,
    checkpoints,
    events,
    log_hashes,
    log_head,
    negotiations,
    versions,
    witness_state,
)
from parley.store import NegotiationRow, StoredCheckpoint, StoredEvent, Transaction, check_append

BUSY_TIMEOUT_SECONDS = 30
"""How long a SQLite writer waits for another's write lock before giving up."""

MMAP_BYTES = 256 * 2**20
"""Address space (not memory) a SQLite connection may map of the database file."""

SQLITE_PRAGMAS = (
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
    f"PRAGMA mmap_size = {MMAP_BYTES}",
)
"""Set on every new SQLite connection, busy timeout first (switching to WAL may have to wait).

WAL lets readers proceed while one writer appends. ``synchronous = FULL`` syncs the WAL at every
commit; ``NORMAL`` would already keep every committed event through a crash of the process, FULL
also keeps it through a crash of the machine, at the price of one fsync per event. Pages are read
through a memory map (``mmap_size``): a connection drops its page cache whenever another
connection has written, which under load is before nearly every transaction, and reading the
pages again from the map costs no system call and no copy. Writes still go through the WAL."""

POOL_SIZE = 20
POOL_OVERFLOW = 20
"""Connections kept, and opened beyond that under load: up to anyio's 40 worker threads each hold
one, so a request never queues for a connection (SQLAlchemy's default is 5 + 10)."""

_PREFIX_RE = re.compile(r"[0-9a-f]{4,64}")

READ_ONLY = "parley_read_only"
"""Execution option of a snapshot's connection: begin with a plain (deferred) BEGIN on SQLite."""

WRITER_LOCK_SUFFIX = "-writer.lock"
"""The file beside a SQLite database whose ``flock`` queues this store's writers."""


# --- engines -------------------------------------------------------------------------------------


def connect(url: str | URL) -> Engine:
    """An engine for a SQLite file or a PostgreSQL database, set up for this store's locking."""
    parsed = _parse_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise InvalidInputError("SQLite needs a file (sqlite:///path/parley.db), not memory")
        engine = create_engine(
            parsed,
            connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if backend == "postgresql":
        return create_engine(
            parsed, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW
        )
    raise InvalidInputError(
        f"unsupported database {backend!r}: use sqlite:///PATH or postgresql+psycopg://…"
    )


def _parse_url(url: str | URL) -> URL:
    """Parse a URL; plain ``postgresql://`` and ``postgres://`` mean the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError as error:
        raise InvalidInputError(f"not a database URL: {error}") from error
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """Switch off the driver's implicit BEGIN (we emit our own) and set the pragmas."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """Take the write lock at BEGIN, not at the first write: no deadlock, no lost update.

    A snapshot (reads only) begins deferred: it never writes, so it never needs the lock.
    """
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class WriterQueue:
    """An exclusive ``flock`` on a file beside a SQLite database, held around a write transaction.

    SQLite's busy handler retries a held write lock by sleeping (up to 100 ms a time), which makes
    writers in several processes wait long and unevenly; a blocking ``flock`` hands the lock over
    the moment it is released. Re-entrant per thread, so a nested transaction cannot wait on itself.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._held = threading.local()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the queue's lock for the block (at once if this thread holds it already)."""
        if getattr(self._held, "depth", 0) or fcntl is None:
            yield
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._held.depth = 1
            try:
                yield
            finally:
                self._held.depth = 0
        finally:
            os.close(fd)  # closing releases the flock


def held(writers: WriterQueue | None) -> AbstractContextManager[None]:
    """The writer queue's lock, held around a block; nothing to hold without a queue."""
    return nullcontext() if writers is None else writers.hold()


def writer_queue(engine: Engine) -> WriterQueue | None:
    """The writer queue of a SQLite file engine; None for PostgreSQL (it queues on row locks)."""
    if engine.url.get_backend_name() != "sqlite" or not engine.url.database:
        return None
    return WriterQueue(engine.url.database + WRITER_LOCK_SUFFIX)


# --- errors --------------------------------------------------------------------------------------


@contextmanager
def translated(action: str) -> Iterator[None]:
    """Turn SQLAlchemy errors into Parley errors: a constraint → Conflict, the rest → Storage."""
    try:
        yield
    except exc.IntegrityError as error:
        raise ConflictError(f"{action}: the database refused the row ({_reason(error)})") from error
    except exc.SQLAlchemyError as error:
        raise StorageError(f"{action} failed: {_reason(error)}") from error


def _reason(error: exc.SQLAlchemyError) -> str:
    """The driver's message, first line only (SQLAlchemy appends the statement and a link)."""
    origin = getattr(error, "orig", None) or error
    text = str(origin).strip().splitlines()
    return text[0] if text else type(origin).__name__


# --- statements ----------------------------------------------------------------------------------
# The statements of the hot paths (a state read, an append) are built once: building a statement
# costs more than running the cached compiled form. Where-parameters are named ``p_*`` so they
# never clash with the columns an UPDATE sets from its parameters.

_NEGOTIATION = select(negotiations).where(negotiations.c.id == bindparam("p_id"))
_NEGOTIATIONS_IN = select(negotiations).where(
    negotiations.c.id.in_(bindparam("p_ids", expanding=True))
)
_EVENTS_SINCE = (
    select(events)
    .where(events.c.negotiation == bindparam("p_id"), events.c.seq >= bindparam("p_since"))
    .order_by(events.c.seq)
)
_EVENTS_PAGE = _EVENTS_SINCE.limit(bindparam("p_limit"))
_HASHES_IN = select(log_hashes.c.idx, log_hashes.c.hash).where(
    log_hashes.c.idx.in_(bindparam("p_idx", expanding=True))
)
_LOCK_LOG = select(log_head.c.size).where(log_head.c.id == LOG_HEAD_ID).with_for_update()
_INSERT_NEGOTIATION = insert(negotiations)
_SQLITE_MOVE = (
    "UPDATE negotiations SET phase = :phase, seq = :seq, head = :head, updated = :updated "
    "WHERE id = :id AND seq = :read_at"
)
"""A move on SQLite (executemany, named parameters): it sets what moves, never the key (setting
``id``, even to itself, has SQLite check the events that refer to the negotiation)."""


def _names(table: Table) -> str:
    return ", ".join(c.name for c in table.columns)


def _sqlite_insert(table: Table) -> str:
    """``INSERT`` of every column of ``table``, with named parameters, for executemany."""
    values = ", ".join(f":{c.name}" for c in table.columns)
    return f"INSERT INTO {table.name} ({_names(table)}) VALUES ({values})"


_MOVE_LOG_HEAD = update(log_head).where(
    log_head.c.id == LOG_HEAD_ID, log_head.c.size == bindparam("p_size")
)
_APPENDED = (events, log_hashes)
"""The tables appended to."""
_SQLITE_APPENDS = tuple(_sqlite_insert(table) for table in _APPENDED)


def _recordset(table: Table) -> str:
    """The columns of ``table`` as ``json_to_recordset`` declares them (integers or text)."""
    return ", ".join(
        f"{c.name} {'bigint' if isinstance(c.type, BigInteger) else 'text'}" for c in table.columns
    )


_SERVER_FLUSH = text(
    f"""
WITH moved AS (
    UPDATE negotiations AS n
    SET phase = v.phase, seq = v.seq, head = v.head, updated = v.updated
    FROM json_to_recordset(CAST(:moves AS json))
        AS v (id text, read_at bigint, phase text, seq bigint, head text, updated text)
    WHERE n.id = v.id AND n.seq = v.read_at
    RETURNING 1
), appended AS (
    INSERT INTO events ({_names(events)}) SELECT {_names(events)}
    FROM json_to_recordset(CAST(:events AS json)) AS e ({_recordset(events)})
), hashed AS (
    INSERT INTO log_hashes (idx, hash)
    SELECT idx, decode(hash, 'hex')
    FROM json_to_recordset(CAST(:hashes AS json)) AS h (idx bigint, hash text)
), headed AS (
    UPDATE log_head SET size = :size WHERE id = {LOG_HEAD_ID} AND size = :read_size
    RETURNING 1
)
SELECT (SELECT count(*) FROM moved) AS moved, (SELECT count(*) FROM headed) AS headed
"""
)
"""What a batch of appends writes on a database server, in one statement and one round trip while
the log lock is held: the conditional negotiation moves, the events, the stored hashes and the
log head. The rows of each table travel as one JSON array of objects (``_rows_json``), so the
statement has one shape whatever the batch size and the driver keeps it prepared; the database
parses them (in C) faster than the driver turns lists into arrays (in Python: a quarter of the
worker thread's time per event was spent there, 73 of 289 µs; now 23). The moves and the head
report how many rows they changed.
"""

_MOVE_COLUMNS = ("id", "read_at", "phase", "seq", "head", "updated")
"""A move: the negotiation, the sequence number it was read at, and what moves (``_moved``)."""


def _rows_json(rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows as one JSON array of objects, for ``json_to_recordset`` (``_SERVER_FLUSH``)."""
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


# --- the store -----------------------------------------------------------------------------------


class SqlStore:
    """A Store in a SQL database (see the module docstring for the locking rules)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writers = writer_queue(engine)
        self._committed = CommittedHashes()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Begin (on SQLite: BEGIN IMMEDIATE); commit if the block ends normally, else roll back."""
        with held(self._writers), translated("the database transaction"):
            with self.engine.begin() as conn:
                tx = SqlTransaction(conn, self._committed)
                yield tx
                tx.flush()
            self._committed.add(tx.written_hashes())

    @contextmanager
    def snapshot(self) -> Iterator[Transaction]:
        """A transaction for reads only: on SQLite it runs beside the writer, holding no lock."""
        with translated("the database transaction"), self.engine.connect() as connection:
            connection.execution_options(**{READ_ONLY: True})
            with connection.begin():
                yield SqlTransaction(connection, self._committed)

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


class CommittedHashes:
    """Recently committed stored Merkle hashes, kept by the process: an append needs the hashes
    along the right edge of the tree, and a stored hash never changes once committed (the log only
    grows), so these need not be read again. Only committed values are added; the oldest go first.
    """

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self._hashes: dict[int, bytes] = {}
        self._lock = threading.Lock()

    def get(self, index: int) -> bytes | None:
        return self._hashes.get(index)

    def add(self, hashes: Mapping[int, bytes]) -> None:
        with self._lock:
            self._hashes.update(hashes)
            excess = len(self._hashes) - self.limit
            for index in list(islice(self._hashes, max(0, excess))):
                del self._hashes[index]


class SqlTransaction:
    """One database transaction; each method is one or a few statements."""

    def __init__(self, connection: Connection, committed: CommittedHashes) -> None:
        self._connection = connection
        self._committed = committed
        self._size: int | None = None
        """The log size while this transaction holds the log lock."""
        self._rows: dict[str, NegotiationRow | None] = {}
        """Negotiation rows as this transaction read or wrote them."""
        self._hashes: dict[int, bytes] = {}
        """Stored hashes this transaction wrote."""
        self._head: int | None = None
        """The log size stored in the log head row, once locked."""
        self._pending: tuple[list[dict[str, Any]], ...] = ([], [])
        """Rows of events and stored hashes appended but not yet written."""
        self._inserts: dict[str, NegotiationRow] = {}
        """New negotiation rows not yet written."""
        self._moves: dict[str, tuple[int, NegotiationRow]] = {}
        """Negotiation rows to move, from the sequence number they were read at, not yet written."""

    def written_hashes(self) -> Mapping[int, bytes]:
        """The stored hashes this transaction wrote (the store keeps them once committed)."""
        return self._hashes

    def flush(self) -> None:
        """Write the appended rows and move the log head (before a read of them, and at commit).

        New negotiation rows are inserted first; every other row moves only if it is still at
        the sequence number it was read at (``UPDATE … WHERE id = :id AND seq = :read``), and the
        rows moved must be as many as the moves, or another writer got there first.
        """
        if self._inserts:
            self._run(_INSERT_NEGOTIATION, [_negotiation_values(r) for r in self._inserts.values()])
            self._inserts.clear()
        if self._size is None or self._head is None or self._size == self._head:
            return  # nothing appended since the last flush
        moves = [
            dict(zip(_MOVE_COLUMNS, (nid, read_at, *_moved(row)), strict=True))
            for nid, (read_at, row) in self._moves.items()
        ]
        if self._in_process:
            moved, headed = self._flush_in_process(moves)
        else:
            moved, headed = self._flush_on_server(moves)
        if moved != len(moves):
            raise self._moved_on()
        if headed != 1:
            raise StorageError(f"the log head moved from size {self._head} while it was locked")
        self._moves.clear()
        for rows in self._pending:
            rows.clear()
        self._head = self._size

    def _flush_in_process(self, moves: list[dict[str, Any]]) -> tuple[int, int]:
        """SQLite runs in this process: one executemany per table, a loop in C with no round
        trips, its rows handed to the driver as they are (SQLAlchemy's processing of each row's
        parameters cost more than SQLite's work on it). The rows moved and the log head rows
        moved."""
        moved = int(self._run_driver(_SQLITE_MOVE, moves).rowcount) if moves else 0
        for sql, rows in zip(_SQLITE_APPENDS, self._pending, strict=True):
            if rows:
                self._run_driver(sql, rows)
        headed = self._run(_MOVE_LOG_HEAD, {"p_size": self._head, "size": self._size}).rowcount
        return moved, int(headed)

    def _run_driver(self, sql: str, rows: list[dict[str, Any]]) -> CursorResult[Any]:
        with translated("a database statement"):
            return self._connection.exec_driver_sql(sql, rows)

    def _flush_on_server(self, moves: list[dict[str, Any]]) -> tuple[int, int]:
        """A database server: everything in one statement (``_SERVER_FLUSH``), one round trip.
        The rows moved and the log head rows moved."""
        appended, hashes = self._pending
        params = {
            "moves": _rows_json(moves),
            "events": _rows_json(appended),
            "hashes": _rows_json([{"idx": h["idx"], "hash": h["hash"].hex()} for h in hashes]),
            "size": self._size,
            "read_size": self._head,
        }
        try:
            row = self._run(_SERVER_FLUSH, params).one()
        except ConflictError as exc:
            if not self._moves:
                raise
            raise self._moved_on() from exc  # an event's place is taken: its negotiation moved on
        return int(row.moved), int(row.headed)

    def _moved_on(self) -> ConflictError:
        stale = ", ".join(f"{nid[:8]}…" for nid in self._moves)
        return ConflictError(f"negotiation {stale} moved on: fetch it and try again")

    @property
    def _in_process(self) -> bool:
        return self._connection.dialect.name == "sqlite"

    def _run(
        self,
        statement: Executable,
        params: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
    ) -> CursorResult[Any]:
        with translated("a database statement"):
            return self._connection.execute(statement, params)

    # --- negotiations and events ---

    def negotiations(self) -> list[NegotiationRow]:
        self.flush()
        query = select(negotiations).order_by(negotiations.c.updated.desc(), negotiations.c.id)
        return [_negotiation_row(r) for r in self._run(query)]

    def negotiation(self, negotiation_id: str) -> NegotiationRow | None:
        if negotiation_id not in self._rows:
            self._rows[negotiation_id] = self._negotiation(negotiation_id, lock=False)
        return self._rows[negotiation_id]

    def prefetch(self, negotiation_ids: Collection[str]) -> None:
        wanted = [nid for nid in negotiation_ids if nid not in self._rows]
        if not wanted:
            return
        found = self._run(_NEGOTIATIONS_IN, {"p_ids": wanted})
        rows = {r.id: _negotiation_row(r) for r in found}
        for nid in wanted:
            self._rows[nid] = rows.get(nid)

    def _negotiation(self, negotiation_id: str, *, lock: bool) -> NegotiationRow | None:
        query = _NEGOTIATION.with_for_update() if lock else _NEGOTIATION
        found = self._run(query, {"p_id": negotiation_id}).first()
        return None if found is None else _negotiation_row(found)

    def events(
        self, negotiation_id: str, since: int = 0, limit: int | None = None
    ) -> list[StoredEvent]:
        self.flush()
        page = {"p_id": negotiation_id, "p_since": since}
        found = self._run(_EVENTS_SINCE, page) if limit is None else (
            self._run(_EVENTS_PAGE, {**page, "p_limit": limit}))  # fmt: skip
        return [_stored_event(r) for r in found]

    def event(self, event_hash: str) -> StoredEvent | None:
        self.flush()
        found = self._run(select(events).where(events.c.hash == event_hash)).first()
        return None if found is None else _stored_event(found)

    def charter_event(self, negotiation_id: str) -> StoredEvent | None:
        self.flush()
        first = (events.c.negotiation == negotiation_id) & (events.c.seq == 0)
        found = self._run(select(events).where(first)).first()
        return None if found is None else _stored_event(found)

    def append(self, event: SignedEvent, row: NegotiationRow) -> int:
        size = self._lock_log()
        stored = self._current_row(event.envelope.negotiation)
        # A stored event can never pass again: its (negotiation, seq) is taken, so check_append
        # refuses it; the unique index on the hash is the safety net.
        check_append(stored, event, row)
        leaf = merkle.leaf_hash(bytes.fromhex(event.hash))
        hashes = merkle.stored_hashes_for_append(size, leaf, self)
        self._write_row(stored, row)
        new_events, new_hashes = self._pending
        new_events.append(_event_values(event, size))
        first = merkle.stored_hash_count(size)
        new_hashes.extend({"idx": first + i, "hash": value} for i, value in enumerate(hashes))
        self._size = size + 1
        self._hashes.update(zip(range(first, first + len(hashes)), hashes, strict=True))
        return size

    def _current_row(self, negotiation_id: str) -> NegotiationRow | None:
        """The row to append on: as read in this transaction, else read under lock.

        A row read earlier may be stale on PostgreSQL; then the conditional UPDATE (or the INSERT's
        unique key) in ``_write_row`` refuses the append, so nothing is written on a stale row.
        """
        if negotiation_id in self._rows:
            return self._rows[negotiation_id]
        return self._negotiation(negotiation_id, lock=True)

    def _lock_log(self) -> int:
        """Lock the log head row (PostgreSQL; SQLite holds the write lock already); its size.

        The tree's frontier is read at once (one query, for what this process has not seen):
        every stored hash the appends of this transaction will need is in it or written by them.
        """
        if self._size is not None:
            return self._size
        size = self._run(_LOCK_LOG).scalar_one_or_none()
        if size is None:
            raise StorageError("the log head row is missing: run `parley db upgrade`")
        self._size = self._head = int(size)
        self.read_hashes(merkle.frontier(self._size))
        return self._size

    def _write_row(self, stored: NegotiationRow | None, row: NegotiationRow) -> None:
        """Queue the row's insert or move (see ``_flush_negotiations``); later appends see it."""
        if stored is None or row.id in self._inserts:
            self._inserts[row.id] = row
        else:
            read_at = self._moves[row.id][0] if row.id in self._moves else stored.seq
            self._moves[row.id] = (read_at, row)
        self._rows[row.id] = row

    # --- versions and short hashes ---

    def put_version(self, negotiation_id: str, version: str, text: dict[str, Any]) -> None:
        if self._run(select(versions.c.hash).where(versions.c.hash == version)).first():
            return
        values = {"hash": version, "negotiation": negotiation_id, "text": _dump(text)}
        self._insert_if_absent(insert(versions).values(values))

    def version(self, version: str) -> dict[str, Any] | None:
        found = self._run(select(versions.c.text).where(versions.c.hash == version)).scalar()
        return None if found is None else _load_object(found, f"version {version[:8]}…")

    def complete(self, prefix: str) -> list[str]:
        if not _PREFIX_RE.fullmatch(prefix):
            raise InvalidInputError(
                f"a short hash needs 4 to 64 lowercase hex digits, found {prefix!r}"
            )
        self.flush()
        return sorted(str(value) for value in self._run(completion_query(prefix)).scalars())

    # --- the log ---

    def log_size(self) -> int:
        self.flush()
        size = self._run(select(log_head.c.size).where(log_head.c.id == LOG_HEAD_ID)).scalar()
        if size is None:
            raise StorageError("the log head row is missing: run `parley db upgrade`")
        return int(size)

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        if not indexes:
            return []
        found = {i: h for i in indexes if (h := self._hashes.get(i) or self._committed.get(i))}
        missing = sorted(set(indexes) - found.keys())
        if missing:  # not written by this transaction, so committed before it: no flush needed
            read = {int(r.idx): bytes(r.hash) for r in self._run(_HASHES_IN, {"p_idx": missing})}
            found.update(read)
            self._committed.add(read)
        for index in indexes:
            if index not in found:
                raise InvalidInputError(f"no stored hash at index {index}")
        return [found[index] for index in indexes]

    def log_entry(self, index: int) -> str:
        self.flush()
        found = self._run(select(events.c.hash).where(events.c.log_index == index)).scalar()
        if found is None:
            raise NotFoundError(f"no log entry {index}")
        return str(found)

    def put_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        self._lock_log()
        self.flush()
        latest = self.checkpoint()
        if latest is not None and checkpoint.size < latest.size:
            raise ConflictError(f"a checkpoint at size {latest.size} is already stored")
        self._run(insert(checkpoints).values(size=checkpoint.size, note=checkpoint.note))

    def checkpoint(self) -> StoredCheckpoint | None:
        query = select(checkpoints.c.size, checkpoints.c.note).order_by(checkpoints.c.id.desc())
        found = self._run(query.limit(1)).first()
        return None if found is None else StoredCheckpoint(int(found.size), str(found.note))

    def log_key(self) -> str | None:
        found = self._run(select(log_head.c.vkey).where(log_head.c.id == LOG_HEAD_ID)).first()
        if found is None:
            raise StorageError("the log head row is missing: run `parley db upgrade`")
        return None if found.vkey is None else str(found.vkey)

    def claim_log_key(self, vkey: str) -> str:
        # a process claiming at the same moment waits for the row and then finds it claimed
        unclaimed = (log_head.c.id == LOG_HEAD_ID) & log_head.c.vkey.is_(None)
        self._run(update(log_head).where(unclaimed).values(vkey=vkey))
        return self.log_key() or vkey  # set now, by this statement or another process's

    # --- local log witnesses ---

    def witness_latest(self, witness: str, origin: str) -> Cosigned | None:
        query = select(witness_state).where(
            witness_state.c.witness == witness, witness_state.c.origin == origin
        )
        found = self._run(query).first()
        if found is None:
            return None
        return Cosigned(int(found.size), bytes(found.root), bytes(found.note))

    def witness_compare_and_set(
        self, witness: str, origin: str, expected_old: int | None, new: Cosigned
    ) -> bool:
        values = {"size": new.size, "root": new.root_hash, "note": new.note}
        if expected_old is None:
            row = {"witness": witness, "origin": origin, **values}
            return self._insert_if_absent(insert(witness_state).values(row))
        moved = self._run(
            update(witness_state)
            .where(
                witness_state.c.witness == witness,
                witness_state.c.origin == origin,
                witness_state.c.size == expected_old,
            )
            .values(values)
        )
        return moved.rowcount == 1

    def _insert_if_absent(self, statement: Executable) -> bool:
        """Insert inside a savepoint: a duplicate key (a concurrent writer won) is False, and the
        transaction stays usable (PostgreSQL would otherwise abort it)."""
        try:
            with translated("a database savepoint"), self._connection.begin_nested():
                self._connection.execute(statement)
        except ConflictError:
            return False
        return True


def completion_query(prefix: str) -> CompoundSelect[Any]:
    """Event and version hashes starting with ``prefix``, as an index range [prefix, next).

    A range rather than LIKE: SQLite's LIKE ignores case and so cannot use a plain index; the
    hash columns compare bytewise on both databases, so the range is exactly the prefix.
    """
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return union(
        select(events.c.hash).where(events.c.hash >= prefix, events.c.hash < end),
        select(versions.c.hash).where(versions.c.hash >= prefix, versions.c.hash < end),
    )


# --- rows ↔ values -------------------------------------------------------------------------------


def _negotiation_row(r: Row[Any]) -> NegotiationRow:
    return NegotiationRow(
        id=r.id, title=r.title, phase=r.phase, seq=int(r.seq), head=r.head,
        created=r.created, updated=r.updated,
    )  # fmt: skip


def _moved(row: NegotiationRow) -> tuple[str, int, str, str]:
    """What a move changes in a negotiation's row: phase, seq, head, updated."""
    return row.phase, row.seq, row.head, row.updated


def _negotiation_values(row: NegotiationRow) -> dict[str, Any]:
    return {
        "id": row.id, "title": row.title, "phase": row.phase, "seq": row.seq, "head": row.head,
        "created": row.created, "updated": row.updated,
    }  # fmt: skip


def _event_values(event: SignedEvent, log_index: int) -> dict[str, Any]:
    env = event.envelope
    return {
        "negotiation": env.negotiation,
        "seq": env.seq,
        "hash": event.hash,
        "log_index": log_index,
        "envelope": env.canonical().decode(),
        "signature": base64.b64encode(event.signature).decode(),
        "body": None if (body := event.canonical_body()) is None else body.decode(),
    }


def _stored_event(r: Row[Any]) -> StoredEvent:
    """Rebuild and re-hash the event; a row that does not hash to its key is a broken store."""
    where = f"event {r.seq} of negotiation {r.negotiation[:8]}…"
    wire: dict[str, Any] = {
        "envelope": _load_object(r.envelope, where),
        "signature": r.signature,
    }
    if r.body is not None:
        wire["body"] = _load_object(r.body, where)
    try:
        event = event_from_json(wire)
    except InvalidInputError as error:
        raise StorageError(f"{where} is damaged in the database: {error}") from error
    if event.hash != r.hash:
        raise StorageError(f"{where} is damaged in the database: it hashes to {event.hash[:8]}…")
    return StoredEvent(event, int(r.log_index))


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _load_object(text: str, where: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as error:
        raise StorageError(f"{where} is damaged in the database: {error}") from error
    if not isinstance(value, dict):
        raise StorageError(f"{where} is damaged in the database: not a JSON object")
    return value
