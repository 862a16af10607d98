"""One history row per run: `job_attempt` holds each run's outcome, runner, host, times, exit
code, reason and figures, written once when the run ends; the claim and end events of runs
(QUEUED → RUNNING, RUNNING → anything) move there from `job_event`, which keeps the other
status changes, and loses the figures' columns. `runner.claimed` says whether a runner has claimed a job, which the dispatcher read from the
claim events.

On PostgreSQL, where each index entry the claim → finish path writes is a WAL record a job (a
change of status never updates a row in place), RUNNING jobs leave `ix_job_status_id` and
`ix_job_name_status_id` for `ix_job_runner_id` alone, DONE jobs leave `ix_job_status_id` (they
are found by task), and `job` gets a fill factor of 70, so a row's next version mostly fits in
its page (a smaller WAL record, and no lock record for the move). There `dependency` refers to
`job (id)` and a trigger checks that both jobs are in its scope, in place of foreign keys to
`job (scope, id)`, whose unique index took an entry at every status change.

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
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_indexes(PG_INDEXES_0008, fillfactor=70)
        _scopes_by_trigger()
    with op.batch_alter_table("job_event") as batch:
        for name in reversed(USAGE_NAMES):
            batch.drop_column(name)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _scopes_by_foreign_keys()
        _postgresql_indexes(PG_INDEXES_0007, fillfactor=100)
    with op.batch_alter_table("job_event") as batch:
        for name, type_ in USAGE:
            batch.add_column(sa.Column(name, type_, nullable=True))
    op.drop_table("job_attempt")  # the runs' events are not written back
    op.drop_column("runner", "claimed")


Indexes = dict[str, tuple[list[str], str | None]]
PG_INDEXES_0007: Indexes = {
    "ix_job_status_id": (["status", "id"], None),
    "ix_job_name_status_id": (["name", "status", "id"], None),
    "ix_job_runner_id": (["runner_id"], "runner_id IS NOT NULL"),
}
PG_INDEXES_0008: Indexes = {
    "ix_job_status_id": (["status", "id"], "status NOT IN ('RUNNING', 'DONE')"),
    "ix_job_runner_id": (["runner_id"], "status = 'RUNNING'"),
}


def _postgresql_indexes(indexes: Indexes, *, fillfactor: int) -> None:
    op.execute(f"ALTER TABLE job SET (fillfactor = {fillfactor})")
    for name, (columns, where) in indexes.items():
        op.drop_index(name, "job")
        predicate = sa.text(where) if where else None
        op.create_index(name, "job", columns, postgresql_where=predicate)


SIBLINGS_CHECK = """
CREATE FUNCTION bt_dependency_siblings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT count(*) FROM job WHERE id IN (NEW.parent_id, NEW.child_id)
      AND scope = NEW.scope) < 2 THEN
    RAISE EXCEPTION 'dependency % -> % is not between jobs of scope %',
      NEW.parent_id, NEW.child_id, NEW.scope USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NEW;
END $$
"""


def _scopes_by_trigger() -> None:
    """PostgreSQL: `dependency` refers to `job (id)`, and a trigger checks the scopes."""
    for end in ("parent_id", "child_id"):
        op.drop_constraint(f"fk_dependency_scope_{end}_job", "dependency", type_="foreignkey")
        op.create_foreign_key(
            f"fk_dependency_{end}_job", "dependency", "job", [end], ["id"], ondelete="CASCADE"
        )
    op.drop_constraint("uq_job_scope_id", "job", type_="unique")
    op.execute(SIBLINGS_CHECK)
    op.execute(
        "CREATE TRIGGER dependency_siblings BEFORE INSERT OR UPDATE ON dependency"
        " FOR EACH ROW EXECUTE FUNCTION bt_dependency_siblings()"
    )


def _scopes_by_foreign_keys() -> None:
    op.execute("DROP TRIGGER dependency_siblings ON dependency")
    op.execute("DROP FUNCTION bt_dependency_siblings()")
    op.create_unique_constraint("uq_job_scope_id", "job", ["scope", "id"])
    for end in ("parent_id", "child_id"):
        op.drop_constraint(f"fk_dependency_{end}_job", "dependency", type_="foreignkey")
        op.create_foreign_key(
            f"fk_dependency_scope_{end}_job", "dependency", "job", ["scope", end],
            ["scope", "id"], ondelete="CASCADE",
        )  # fmt: skip


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
    for job_id, events in groupby(bind.execute(EVENTS).mappings(), key=lambda e: e["job_id"]):
        for row, event_ids in _runs(job_id, list(events)):
            rows.append(row)
            moved.extend(event_ids)
        if len(rows) >= BATCH:
            _write(bind, rows, moved)
            rows, moved = [], []
    _write(bind, rows, moved)
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


def _write(bind: Any, rows: list[dict[str, Any]], moved: list[int]) -> None:
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
