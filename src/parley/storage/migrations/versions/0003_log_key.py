"""The database records the key that keeps its log: ``log_head.vkey``.

Every process serving one database must sign checkpoints with the same log key, or the bundles
of that log do not verify. The first process to keep the log records its key's vkey here; a
process with another key, or with none, then refuses to start (``parley.log_setup``) instead of
signing checkpoints with a key of its own. Empty until then: a database migrated from 0002 is
claimed by the next process to open it, after that process checks the stored checkpoint.

Revision ID: 0003
Revises: 0002
Created: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the column, empty."""
    op.add_column("log_head", sa.Column("vkey", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop it (the key files stay the record)."""
    with op.batch_alter_table("log_head") as batch:
        batch.drop_column("vkey")
