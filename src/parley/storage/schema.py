"""The tables, as SQLAlchemy Core ``Table`` objects: what ``sql.py`` queries.

The migrations (``migrations/versions/``) create exactly these tables, written out again there
so that a later change here cannot silently change what an old migration did; a test compares
the migrated database with this metadata.

* ``negotiations`` – one row per negotiation: its head (the optimistic lock is ``seq``)
* ``events``       – every signed event, as its wire JSON, and its log index (the log's
  entries: leaf index → event hash)
* ``versions``     – canonical text JSON of every version, by version hash
* ``log_hashes``   – the log's stored Merkle hashes (``merkle`` stored-hash numbering)
* ``log_head``     – one row, the log size (the row every append locks) and the vkey of the
  key that signs the log's checkpoints, recorded by the first process to keep it
* ``checkpoints``  – signed checkpoint notes, oldest first
* ``witness_state``– what each local log witness last cosigned, per origin
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeEngine

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names are fixed, so later migrations can refer to them on both databases."""

LOG_HEAD_ID = 1
"""The only row of ``log_head``."""


def hash_type() -> TypeEngine[str]:
    """64 lowercase hex digits; byte order (collation "C") on PostgreSQL so that prefix
    ranges and ``LIKE 'abc%'`` can use the index whatever the database's collation."""
    return String(64).with_variant(String(64, collation="C"), "postgresql")


def index_type() -> TypeEngine[int]:
    """A log index: BIGINT, but INTEGER on SQLite, where an INTEGER primary key is the rowid."""
    return BigInteger().with_variant(Integer(), "sqlite")


metadata = MetaData(naming_convention=NAMING)

negotiations = Table(
    "negotiations",
    metadata,
    Column("id", hash_type(), primary_key=True),
    Column("title", Text, nullable=False),
    Column("phase", String(32), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("head", hash_type(), nullable=False),
    Column("created", String(40), nullable=False),
    Column("updated", String(40), nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("negotiation", hash_type(), ForeignKey("negotiations.id"), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("hash", hash_type(), nullable=False, unique=True),
    Column("log_index", BigInteger, nullable=False, unique=True),
    Column("envelope", Text, nullable=False),
    Column("signature", Text, nullable=False),
    Column("body", Text, nullable=True),
)

versions = Table(
    "versions",
    metadata,
    Column("hash", hash_type(), primary_key=True),
    Column("negotiation", hash_type(), nullable=False, index=True),
    Column("text", Text, nullable=False),
)

log_hashes = Table(
    "log_hashes",
    metadata,
    Column("idx", index_type(), primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

log_head = Table(
    "log_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("vkey", Text, nullable=True),
    CheckConstraint(f"id = {LOG_HEAD_ID}", name="single_row"),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("size", BigInteger, nullable=False),
    Column("note", Text, nullable=False),
)

witness_state = Table(
    "witness_state",
    metadata,
    Column("witness", Text, primary_key=True),
    Column("origin", Text, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("note", LargeBinary, nullable=False),
)
