"""The runner's hot-path SQL, one named statement each; nothing else builds these queries.

The claim is one statement: an UPDATE of the best runnable row chosen by a sub-select that uses the
partial index `ix_job_runnable`, so its cost does not grow with finished or blocked jobs. On
PostgreSQL the sub-select takes the row with `FOR UPDATE SKIP LOCKED` so runners never wait on
each other; on SQLite writers are serialized by `BEGIN IMMEDIATE` and the same UPDATE is safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    Select,
    Update,
    bindparam,
    exists,
    literal_column,
    select,
    text,
    update,
)

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


TASKS: BindParameter[list[str]] = bindparam("tasks", expanding=True)  #: task names to claim


def runnable() -> Select[int]:
    """Ids of runnable jobs of the `tasks` parameter, best first."""
    return (
        select(JOB.c.id)
        .where(text(RUNNABLE_SQL), JOB.c.name.in_(TASKS))
        .order_by(JOB.c.priority.desc(), JOB.c.id)
    )


def runnable_sqlite() -> Select[Any]:
    """`runnable` forcing SQLite onto the partial index: without fresh statistics its planner
    prefers `ix_job_status_id` and sorts every QUEUED job, blocked ones included."""
    return (
        select(literal_column("id"))
        .select_from(text("job INDEXED BY ix_job_runnable"))
        .where(text(RUNNABLE_SQL), literal_column("name").in_(TASKS))
        .order_by(text("priority DESC, id"))
    )


@cache
def claim_next(is_postgresql: bool) -> Update:
    """Atomically move the best runnable job to RUNNING; parameters `tasks`, `token`, `runner`
    (see `claim_params`). Built once: building costs more than running it."""
    if is_postgresql:
        best = runnable().limit(1).with_for_update(skip_locked=True)
    else:
        best = runnable_sqlite().limit(1)
    return (
        update(JOB)
        .where(JOB.c.id == best.scalar_subquery(), JOB.c.status == Status.QUEUED)
        .values(
            status=TRANSITIONS[Action.CLAIM][Status.QUEUED],
            token=bindparam("token", type_=JOB.c.token.type),
            runner_id=bindparam("runner", type_=JOB.c.runner_id.type),
            **side_effects(Action.CLAIM),
        )
        .returning(*CLAIMED_COLUMNS)
    )


def claim_params(tasks: Sequence[str], token: str, runner_id: int) -> dict[str, Any]:
    return {"tasks": list(tasks), "token": token, "runner": runner_id}


def claimed_row(job_id: int) -> Select[Any]:
    return select(*CLAIMED_COLUMNS).where(JOB.c.id == job_id)


#: outputs of the parents of job `:child`, by id
PARENT_OUTPUTS = (
    select(JOB.c.id, JOB.c.name, JOB.c.output)
    .join(DEP, DEP.c.parent_id == JOB.c.id)
    .where(DEP.c.child_id == bindparam("child"))
    .order_by(JOB.c.id)
)

#: the claim token of job `:job`, locking its row
HELD_TOKEN = select(JOB.c.token).where(JOB.c.id == bindparam("job")).with_for_update()


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
