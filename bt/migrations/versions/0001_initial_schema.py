"""Initial schema: job, dependency, tag (the original's tables) and runner (leases).

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bt.sqltypes import UTCDateTime, db_now

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

STATUSES = ("STASHED", "QUEUED", "RUNNING", "STAND-BY", "DONE", "FAILED")
RUNNABLE = sa.text("status = 'QUEUED' AND pending_parents = 0")


def _counter(name: str, default: str = "0") -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), server_default=sa.text(default), nullable=False)


def upgrade() -> None:
    op.create_table(
        "runner",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=32), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("tasks", sa.Text(), server_default="", nullable=False),
        sa.Column("started_at", UTCDateTime(), server_default=db_now(), nullable=False),
        sa.Column("heartbeat_at", UTCDateTime(), server_default=db_now(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("stop_requested", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runner")),
        sa.UniqueConstraint("uuid", name=op.f("uq_runner_uuid")),
    )
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("super_id", sa.Integer(), nullable=True),
        _counter("scope"),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*STATUSES, name="status", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("config", sa.Text(), nullable=True),
        sa.Column("input", sa.Text(), nullable=True),
        sa.Column("output", sa.Text(), nullable=True),
        sa.Column("ts_created", UTCDateTime(), server_default=db_now(), nullable=False),
        sa.Column("ts_queued", UTCDateTime(), nullable=True),
        sa.Column("ts_started", UTCDateTime(), nullable=True),
        sa.Column("ts_ended", UTCDateTime(), nullable=True),
        _counter("priority"),
        sa.Column("token", sa.String(length=32), nullable=True),
        sa.Column("runner_id", sa.Integer(), nullable=True),
        _counter("attempts"),
        _counter("max_attempts", "3"),
        _counter("sub_total"),
        _counter("sub_done"),
        _counter("sub_failed"),
        _counter("pending_parents"),
        sa.CheckConstraint(
            "(status = 'RUNNING') = (token IS NOT NULL)", name=op.f("ck_job_running_has_token")
        ),
        sa.CheckConstraint("pending_parents >= 0", name=op.f("ck_job_pending_parents")),
        sa.CheckConstraint("scope = coalesce(super_id, 0)", name=op.f("ck_job_scope_is_super")),
        sa.CheckConstraint(
            "sub_done >= 0 AND sub_failed >= 0 AND sub_done + sub_failed <= sub_total",
            name=op.f("ck_job_subjob_counts"),
        ),
        sa.ForeignKeyConstraint(
            ["runner_id"], ["runner.id"], name=op.f("fk_job_runner_id_runner"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["super_id"], ["job.id"], name=op.f("fk_job_super_id_job"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
        sa.UniqueConstraint("scope", "id", name=op.f("uq_job_scope_id")),
    )
    op.create_index("ix_job_name_id", "job", ["name", "id"])
    op.create_index("ix_job_runner_id", "job", ["runner_id"])
    op.create_index("ix_job_status_id", "job", ["status", "id"])
    op.create_index("ix_job_super_id", "job", ["super_id"])
    op.create_index(
        "ix_job_runnable",
        "job",
        [sa.text("priority DESC"), "id"],
        postgresql_where=RUNNABLE,
        sqlite_where=RUNNABLE,
    )
    op.create_table(
        "dependency",
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.Integer(), nullable=False),
        sa.CheckConstraint("parent_id <> child_id", name=op.f("ck_dependency_not_self")),
        sa.ForeignKeyConstraint(
            ["scope", "child_id"],
            ["job.scope", "job.id"],
            name=op.f("fk_dependency_scope_child_id_job"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scope", "parent_id"],
            ["job.scope", "job.id"],
            name=op.f("fk_dependency_scope_parent_id_job"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("parent_id", "child_id", name=op.f("pk_dependency")),
    )
    op.create_index("ix_dependency_child_id", "dependency", ["child_id"])
    op.create_table(
        "tag",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["job.id"], name=op.f("fk_tag_job_id_job"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", "name", name=op.f("pk_tag")),
    )


def downgrade() -> None:
    op.drop_table("tag")
    op.drop_table("dependency")
    op.drop_table("job")
    op.drop_table("runner")
