"""The first schema: negotiations, events, versions, the Merkle log, checkpoints, witness state.

Revision ID: 0001
Revises:
Created: 2026-03-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _hash() -> sa.types.TypeEngine[str]:
    """Hex hashes compare bytewise on PostgreSQL (collation "C"): prefix lookups use the index."""
    return sa.String(64).with_variant(sa.String(64, collation="C"), "postgresql")


def _index() -> sa.types.TypeEngine[int]:
    """BIGINT; INTEGER on SQLite so that the primary key is the rowid."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create every table, then the log head row at size 0."""
    op.create_table(
        "negotiations",
        sa.Column("id", _hash(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("phase", sa.String(32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("head", _hash(), nullable=False),
        sa.Column("created", sa.String(40), nullable=False),
        sa.Column("updated", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_negotiations"),
    )
    op.create_index("ix_negotiations_updated", "negotiations", ["updated"])
    op.create_table(
        "events",
        sa.Column("negotiation", _hash(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", _hash(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("negotiation", "seq", name="pk_events"),
        sa.ForeignKeyConstraint(
            ["negotiation"], ["negotiations.id"], name="fk_events_negotiation_negotiations"
        ),
        sa.UniqueConstraint("hash", name="uq_events_hash"),
        sa.UniqueConstraint("log_index", name="uq_events_log_index"),
    )
    op.create_table(
        "versions",
        sa.Column("hash", _hash(), nullable=False),
        sa.Column("negotiation", _hash(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("hash", name="pk_versions"),
    )
    op.create_index("ix_versions_negotiation", "versions", ["negotiation"])
    op.create_table(
        "log_entries",
        sa.Column("idx", _index(), autoincrement=False, nullable=False),
        sa.Column("event", _hash(), nullable=False),
        sa.PrimaryKeyConstraint("idx", name="pk_log_entries"),
        sa.ForeignKeyConstraint(["event"], ["events.hash"], name="fk_log_entries_event_events"),
        sa.UniqueConstraint("event", name="uq_log_entries_event"),
    )
    op.create_table(
        "log_hashes",
        sa.Column("idx", _index(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("idx", name="pk_log_hashes"),
    )
    log_head = op.create_table(
        "log_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_log_head"),
        sa.CheckConstraint("id = 1", name="ck_log_head_single_row"),
    )
    op.create_table(
        "checkpoints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_checkpoints"),
    )
    op.create_table(
        "witness_state",
        sa.Column("witness", sa.Text(), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("witness", "origin", name="pk_witness_state"),
    )
    op.bulk_insert(log_head, [{"id": 1, "size": 0}])


def downgrade() -> None:
    """Drop every table, dependents first."""
    for table in (
        "witness_state", "checkpoints", "log_head", "log_hashes", "log_entries", "versions",
        "events", "negotiations",
    ):  # fmt: skip
        op.drop_table(table)
