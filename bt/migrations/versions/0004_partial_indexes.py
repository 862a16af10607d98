"""Fewer index entries per status change: super_id and runner_id indexed only where set.

Every status change is an UPDATE that PostgreSQL cannot make HOT (status is indexed), so it adds
an entry to every index of the job row. A top-level job has no super_id, and a job that is not
RUNNING has no runner_id: partial indexes skip those rows, and every lookup by either column
(`super_id = X`, `runner_id = X`, the foreign keys' cascades) still uses them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PARTIAL = ("super_id", "runner_id")


def upgrade() -> None:
    for column in PARTIAL:
        op.drop_index(f"ix_job_{column}", "job")
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            f"ix_job_{column}", "job", [column], postgresql_where=where, sqlite_where=where
        )


def downgrade() -> None:
    for column in PARTIAL:
        op.drop_index(f"ix_job_{column}", "job")
        op.create_index(f"ix_job_{column}", "job", [column])
