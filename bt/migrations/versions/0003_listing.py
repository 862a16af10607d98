"""Listing by task name and status: ix_job_name_id (name, id) becomes (name, status, id).

A page of `job list name=X status=S` is then one index range in id order, and `name=X` alone
a merge of its six status ranges; the job table keeps the same number of indexes, so a status
change writes no more index entries than before.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_job_name_status_id", "job", ["name", "status", "id"])
    op.drop_index("ix_job_name_id", "job")


def downgrade() -> None:
    op.create_index("ix_job_name_id", "job", ["name", "id"])
    op.drop_index("ix_job_name_status_id", "job")
