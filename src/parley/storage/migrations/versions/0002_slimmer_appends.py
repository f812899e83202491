"""Appends write less: no ``log_entries`` table, no index on ``negotiations.updated``.

``log_entries`` (leaf index → event hash) repeated what ``events`` holds already: every event row
has its log index, under a unique index, and its hash. The index on ``negotiations.updated``
was changed by every append, and on PostgreSQL an indexed column changing rules out the cheap
in-page (HOT) update of the negotiation row; the list of negotiations it served is short and
read whole anyway. Nothing is lost: downgrading rebuilds both from the events.

Revision ID: 0002
Revises: 0001
Created: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Drop the log entries (the events hold them) and the index on the update time."""
    op.drop_table("log_entries")
    op.drop_index("ix_negotiations_updated", table_name="negotiations")


def downgrade() -> None:
    """Rebuild both from the events, as revision 0001 had them."""
    op.create_index("ix_negotiations_updated", "negotiations", ["updated"])
    hash_type = sa.String(64).with_variant(sa.String(64, collation="C"), "postgresql")
    op.create_table(
        "log_entries",
        sa.Column(
            "idx", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False,
            nullable=False,
        ),
        sa.Column("event", hash_type, nullable=False),
        sa.PrimaryKeyConstraint("idx", name="pk_log_entries"),
        sa.ForeignKeyConstraint(["event"], ["events.hash"], name="fk_log_entries_event_events"),
        sa.UniqueConstraint("event", name="uq_log_entries_event"),
    )  # fmt: skip
    op.execute("INSERT INTO log_entries (idx, event) SELECT log_index, hash FROM events")
