"""Failure handling: retries, time limits, blocked work, job history; ids never reused.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bt.sqltypes import UTCDateTime, db_now

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

STATUSES = ("STASHED", "QUEUED", "RUNNING", "STAND-BY", "DONE", "FAILED")
OLD_RUNNABLE = sa.text("status = 'QUEUED' AND pending_parents = 0")
RUNNABLE = sa.text("status = 'QUEUED' AND pending_parents = 0 AND not_before IS NULL")
BLOCKED = sa.text("status = 'QUEUED' AND blocking_parents > 0")
DELAYED = sa.text("not_before IS NOT NULL")


def _status(name: str, *, nullable: bool) -> sa.Column[str]:
    kind = sa.Enum(*STATUSES, name=name, native_enum=False, create_constraint=True, length=20)
    return sa.Column(name, kind, nullable=nullable)


def upgrade() -> None:
    counters = ("blocking_parents", "retries", "retried")
    for name in counters:
        op.add_column(
            "job", sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    for name, default in (("retry_delay", "10"), ("retry_backoff", "2")):
        op.add_column(
            "job", sa.Column(name, sa.Float(), server_default=sa.text(default), nullable=False)
        )
    op.add_column("job", sa.Column("time_limit", sa.Float(), nullable=True))
    op.add_column("job", sa.Column("not_before", UTCDateTime(), nullable=True))
    _blocking_parents_of_existing_jobs()
    op.drop_index("ix_job_runnable", "job")
    _runnable_index(RUNNABLE)
    op.create_index("ix_job_blocked", "job", ["id"], postgresql_where=BLOCKED, sqlite_where=BLOCKED)
    op.create_index(
        "ix_job_not_before", "job", ["not_before"], postgresql_where=DELAYED, sqlite_where=DELAYED
    )
    _job_event()
    op.create_table(
        "id_counter",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_id_counter")),
    )
    op.execute("INSERT INTO id_counter (name, value) SELECT 'job', coalesce(max(id), 0) FROM job")


def _runnable_index(where: sa.TextClause) -> None:
    op.create_index(
        "ix_job_runnable",
        "job",
        [sa.text("priority DESC"), "id"],
        postgresql_where=where,
        sqlite_where=where,
    )


def _blocking_parents_of_existing_jobs() -> None:
    """Count, for every job, its FAILED parents and its QUEUED parents with a FAILED parent
    (deeper chains settle on the next status change of the jobs involved)."""
    op.execute(
        "UPDATE job SET blocking_parents = (SELECT count(*) FROM dependency d "
        "JOIN job p ON p.id = d.parent_id WHERE d.child_id = job.id AND p.status = 'FAILED')"
    )


def _job_event() -> None:
    op.create_table(
        "job_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), server_default=db_now(), nullable=False),
        _status("old_status", nullable=True),
        _status("new_status", nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("runner_id", sa.Integer(), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("traceback", sa.Text(), nullable=True),
        sa.Column("stderr", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["job.id"], name=op.f("fk_job_event_job_id_job"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_event")),
    )
    op.create_index("ix_job_event_job_id_id", "job_event", ["job_id", "id"])


def downgrade() -> None:
    op.drop_table("id_counter")
    op.drop_table("job_event")
    op.drop_index("ix_job_not_before", "job")
    op.drop_index("ix_job_blocked", "job")
    op.drop_index("ix_job_runnable", "job")
    _runnable_index(OLD_RUNNABLE)
    for name in (
        "not_before",
        "time_limit",
        "retry_backoff",
        "retry_delay",
        "retried",
        "retries",
        "blocking_parents",
    ):
        op.drop_column("job", name)
