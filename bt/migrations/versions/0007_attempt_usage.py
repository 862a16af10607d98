"""What each run cost: the `bt.usage.Usage` figures of an attempt on the `job_event` that ended
it (DONE, FAILED, STAND-BY, retried, requeued, aborted), all nullable: other events and
attempts ended before this revision have none.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

FLOATS = ("realtime", "cpu_user", "cpu_sys")
COUNTS = (
    "peak_rss minflt majflt vol_ctxt inv_ctxt inblock oublock rchar wchar read_bytes write_bytes"
)
COLUMNS: list[tuple[str, sa.types.TypeEngine[Any]]] = [
    *((name, sa.Float()) for name in FLOATS),
    *((name, sa.BigInteger()) for name in COUNTS.split()),
    ("batch_id", sa.String(64)),
    ("slots", sa.Integer()),
]


def upgrade() -> None:
    for name, type_ in COLUMNS:
        op.add_column("job_event", sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    for name, _ in reversed(COLUMNS):
        op.drop_column("job_event", name)
