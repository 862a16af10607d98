"""Named concurrency limits: `concurrency_limit` (capacity, units in use), `job_limit` (the
units a job holds while it runs) and `job.has_limits`, which leads the runnable index so the
claim of unlimited jobs reads only their part of it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

RUNNABLE = sa.text("status = 'QUEUED' AND pending_parents = 0 AND not_before IS NULL")


def _runnable_index(*columns: str) -> None:
    op.create_index(
        "ix_job_runnable",
        "job",
        [*columns, sa.text("priority DESC"), "id"],
        postgresql_where=RUNNABLE,
        sqlite_where=RUNNABLE,
    )


def upgrade() -> None:
    op.add_column(
        "job",
        sa.Column("has_limits", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.drop_index("ix_job_runnable", "job")
    _runnable_index("has_limits")
    op.create_table(
        "concurrency_limit",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("in_use", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint("capacity >= 0", name=op.f("ck_concurrency_limit_capacity")),
        sa.CheckConstraint("in_use >= 0", name=op.f("ck_concurrency_limit_in_use")),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_concurrency_limit")),
    )
    op.create_table(
        "job_limit",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.CheckConstraint("units >= 1", name=op.f("ck_job_limit_units")),
        sa.ForeignKeyConstraint(
            ["job_id"], ["job.id"], name=op.f("fk_job_limit_job_id_job"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", "name", name=op.f("pk_job_limit")),
    )
    op.create_index("ix_job_limit_name_job_id", "job_limit", ["name", "job_id"])


def downgrade() -> None:
    op.drop_table("job_limit")
    op.drop_table("concurrency_limit")
    op.drop_index("ix_job_runnable", "job")
    _runnable_index()
    op.drop_column("job", "has_limits")
