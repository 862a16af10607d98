"""The runner's hot-path SQL, one named statement each; nothing else builds these queries.

The claim is one statement: an UPDATE of the best runnable row chosen by a sub-select that uses the
partial index `ix_job_runnable`, so its cost does not grow with finished or blocked jobs. On
PostgreSQL the sub-select takes the row with `FOR UPDATE SKIP LOCKED` so runners never wait on
each other; on SQLite writers are serialized by `BEGIN IMMEDIATE` and the same UPDATE is safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, Update, exists, literal_column, select, text, update

from bt.lifecycle import DEP, JOB, side_effects
from bt.models import RUNNABLE_SQL
from bt.status import TRANSITIONS, Action, Status

CLAIMED_COLUMNS = (
    JOB.c.id,
    JOB.c.name,
    JOB.c.super_id,
    JOB.c.attempts,
    JOB.c.sub_total,
    JOB.c.config,
    JOB.c.input,
    exists().where(DEP.c.child_id == JOB.c.id).label("has_parents"),
)


def runnable(tasks: Sequence[str]) -> Select[int]:
    """Ids of runnable jobs of `tasks`, best first."""
    return (
        select(JOB.c.id)
        .where(text(RUNNABLE_SQL), JOB.c.name.in_(tasks))
        .order_by(JOB.c.priority.desc(), JOB.c.id)
    )


def runnable_sqlite(tasks: Sequence[str]) -> Select[Any]:
    """`runnable` forcing SQLite onto the partial index: without fresh statistics its planner
    prefers `ix_job_status_id` and sorts every QUEUED job, blocked ones included."""
    return (
        select(literal_column("id"))
        .select_from(text("job INDEXED BY ix_job_runnable"))
        .where(text(RUNNABLE_SQL), literal_column("name").in_(tasks))
        .order_by(text("priority DESC, id"))
    )


def claim_next(tasks: Sequence[str], token: str, runner_id: int, is_postgresql: bool) -> Update:
    """Atomically move the best runnable job to RUNNING under `token`."""
    if is_postgresql:
        best = runnable(tasks).limit(1).with_for_update(skip_locked=True)
    else:
        best = runnable_sqlite(tasks).limit(1)
    return (
        update(JOB)
        .where(JOB.c.id == best.scalar_subquery(), JOB.c.status == Status.QUEUED)
        .values(
            status=TRANSITIONS[Action.CLAIM][Status.QUEUED],
            token=token,
            runner_id=runner_id,
            **side_effects(Action.CLAIM),
        )
        .returning(*CLAIMED_COLUMNS)
    )


def claimed_row(job_id: int) -> Select[Any]:
    return select(*CLAIMED_COLUMNS).where(JOB.c.id == job_id)


def parent_outputs(job_id: int) -> Select[int, str, str | None]:
    return (
        select(JOB.c.id, JOB.c.name, JOB.c.output)
        .join(DEP, DEP.c.parent_id == JOB.c.id)
        .where(DEP.c.child_id == job_id)
        .order_by(JOB.c.id)
    )


def subjob_outputs(job_id: int) -> Select[int, str, str | None]:
    return (
        select(JOB.c.id, JOB.c.name, JOB.c.output)
        .where(JOB.c.super_id == job_id)
        .order_by(JOB.c.id)
    )


def held_tokens(job_ids: Sequence[int]) -> Select[int, str | None]:
    """The current claim token of each of `job_ids` (the runner's abort poll)."""
    return select(JOB.c.id, JOB.c.token).where(JOB.c.id.in_(job_ids))


def orphaned_jobs(
    lost_runners: Select[int],
) -> Select[int, int | None, str | None, int, int]:
    """RUNNING jobs whose runner's lease expired, or whose runner row is gone."""
    return (
        select(JOB.c.id, JOB.c.super_id, JOB.c.token, JOB.c.attempts, JOB.c.max_attempts)
        .where(JOB.c.status == Status.RUNNING)
        .where(JOB.c.runner_id.in_(lost_runners) | JOB.c.runner_id.is_(None))
        .with_for_update(skip_locked=True)
    )
