"""Cluster chores: lost-runner recovery done by one runner per interval, not by every runner.

Each chore is one row; a runner takes it when its due time has passed, with one UPDATE that
sets the next due time (`bt.chores`), so a farm of idle pilots runs it once per interval.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bt.sqltypes import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chore",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("runner_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_chore")),
    )


def downgrade() -> None:
    op.drop_table("chore")
