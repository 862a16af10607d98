"""One history row per run: `job_attempt` holds each run's outcome, runner, host, times, exit
code, reason and figures, written once when the run ends; the claim and end events of runs
(QUEUED → RUNNING, RUNNING → anything) move there from `job_event`, which keeps the other
status changes, and loses the figures' columns. `job.runs` counts a job's rows (their `seq`);
`runner.claimed` says whether a runner has claimed a job, which the dispatcher read from the
claim events.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

STATUSES = ("STASHED", "QUEUED", "RUNNING", "STAND-BY", "DONE", "FAILED")
FLOATS = ("realtime", "cpu_user", "cpu_sys")
COUNTS = (
    "peak_rss", "minflt", "majflt", "vol_ctxt", "inv_ctxt", "inblock", "oublock", "rchar",
    "wchar", "read_bytes", "write_bytes",
)  # fmt: skip
USAGE: list[tuple[str, sa.types.TypeEngine[Any]]] = [
    *((name, sa.Float()) for name in FLOATS),
    *((name, sa.BigInteger()) for name in COUNTS),
    ("batch_id", sa.String(64)),
    ("slots", sa.Integer()),
]
USAGE_NAMES = [name for name, _ in USAGE]
GIVEN_BACK = "claimed ahead; given back unstarted"
BATCH = 1000


def upgrade() -> None:
    op.add_column("job", sa.Column("runs", sa.Integer(), server_default="0", nullable=False))
    op.add_column(
        "runner",
        sa.Column("claimed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.create_table(
        "job_attempt",
        sa.Column("job_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("seq", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("after_event", sa.Integer(), nullable=True),
        sa.Column("outcome", _status("outcome"), nullable=False),
        sa.Column("runner_id", sa.Integer(), nullable=True),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("traceback", sa.Text(), nullable=True),
        sa.Column("stderr", sa.Text(), nullable=True),
        *(sa.Column(name, type_, nullable=True) for name, type_ in USAGE),
        sa.PrimaryKeyConstraint("job_id", "seq", name="pk_job_attempt"),
    )
    _move_runs()
    with op.batch_alter_table("job_event") as batch:
        for name in reversed(USAGE_NAMES):
            batch.drop_column(name)


def downgrade() -> None:
    with op.batch_alter_table("job_event") as batch:
        for name, type_ in USAGE:
            batch.add_column(sa.Column(name, type_, nullable=True))
    op.drop_table("job_attempt")  # the runs' events are not written back
    op.drop_column("job", "runs")
    op.drop_column("runner", "claimed")


def _status(name: str) -> sa.Enum:
    return sa.Enum(*STATUSES, name=name, native_enum=False, create_constraint=True, length=20)


# -- moving the history ------------------------------------------------------------------------

EVENTS = sa.text(
    "SELECT id, job_id, at, old_status, new_status, attempt, runner_id, host, exit_code, reason,"
    f" traceback, stderr, {', '.join(USAGE_NAMES)} FROM job_event"
    " ORDER BY job_id, id"
)


def _move_runs() -> None:
    """Fold each job's claim and end events into runs, as `job history` folded them."""
    bind = op.get_bind()
    rows: list[dict[str, Any]] = []
    moved: list[int] = []
    runs: dict[int, int] = {}
    for job_id, events in groupby(bind.execute(EVENTS).mappings(), key=lambda e: e["job_id"]):
        for row, event_ids in _runs(job_id, list(events)):
            rows.append(row)
            moved.extend(event_ids)
            runs[job_id] = row["seq"]
        if len(rows) >= BATCH:
            _write(bind, rows, moved, runs)
            rows, moved, runs = [], [], {}
    _write(bind, rows, moved, runs)
    # the claims of runs under way: the job row says who runs them
    bind.execute(
        sa.text(
            "DELETE FROM job_event WHERE new_status = 'RUNNING' AND job_id IN "
            "(SELECT id FROM job WHERE status = 'RUNNING')"
        )
    )


def _runs(job_id: int, events: Sequence[Any]) -> Iterator[tuple[dict[str, Any], list[int]]]:
    """(row, ids of the events it replaces) for each ended run of one job's events."""
    queued, claim, last_other, seq = None, None, None, 0
    for event in events:
        if event["old_status"] == "RUNNING" and claim is not None:
            seq += 1
            yield (
                _row(job_id, seq, claim, event, queued=queued, after=last_other),
                [claim["id"], event["id"]],
            )
            if event["new_status"] == "QUEUED" and event["reason"] != GIVEN_BACK:
                queued = event["at"]
            claim = None
        elif event["old_status"] == "QUEUED" and event["new_status"] == "RUNNING":
            claim = event
        else:
            last_other = event["id"]
            if event["new_status"] == "QUEUED":
                queued = event["at"]


def _row(
    job_id: int, seq: int, claim: Any, end: Any, *, queued: Any, after: int | None
) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "seq": seq,
        "attempt": claim["attempt"],
        "after_event": after,
        "outcome": end["new_status"],
        "runner_id": claim["runner_id"],
        "host": claim["host"],
        "queued_at": queued,
        "started_at": claim["at"],
        "ended_at": end["at"],
        "exit_code": end["exit_code"],
        "reason": end["reason"],
        "traceback": end["traceback"],
        "stderr": end["stderr"],
        **{name: end[name] for name in USAGE_NAMES},
    }


def _write(bind: Any, rows: list[dict[str, Any]], moved: list[int], runs: dict[int, int]) -> None:
    if not rows:
        return
    names = list(rows[0])
    insert = sa.text(
        f"INSERT INTO job_attempt ({', '.join(names)}) "
        f"VALUES ({', '.join(':' + name for name in names)})"
    )
    bind.execute(insert, rows)
    for start in range(0, len(moved), BATCH):
        chunk = moved[start : start + BATCH]
        bind.execute(
            sa.text("DELETE FROM job_event WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": chunk},
        )
    bind.execute(
        sa.text("UPDATE job SET runs = :runs WHERE id = :id"),
        [{"id": job_id, "runs": count} for job_id, count in runs.items()],
    )
