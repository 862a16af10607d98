"""Applying status transitions: the only code that writes `job.status`.

`apply` asks `bt.status.next_status` whether the action is allowed, writes the new status with its
side effects (timestamps, token, output), and propagates the change: to the superjob's subjob
counters (O(1), then re-deriving its status, recursively up the chain) and, when a job becomes
DONE, to its children's count of pending parents.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from sqlalchemy import Exists, Table, Update, bindparam, delete, exists, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ClauseElement

from bt import errors, tagnames
from bt.models import Dependency, Job, Tag
from bt.sqltypes import db_now
from bt.status import Action, Status, SubjobCounts, bucket_deltas, derivation, next_status

WORK_CHANNEL = "bt_work"  #: NOTIFY channel: new runnable work may exist
ABORT_CHANNEL = "bt_abort"  #: NOTIFY channel: payload is the id of a job aborted while RUNNING

NOT_DERIVED = frozenset({Status.RUNNING, Status.DONE, Status.STASHED})
#: The job table itself: hot-path updates go through SQLAlchemy Core, not the ORM (3x cheaper).
JOB = cast(Table, Job.__table__)
DEP = cast(Table, Dependency.__table__)


@dataclass(frozen=True)
class JobState:
    """What a transition needs to know of a job: read under lock, or known by the caller."""

    id: int
    status: Status
    super_id: int | None


def read_state(session: Session, job_id: int, *, lock: bool = True) -> JobState:
    """The job's current state, locking its row (PostgreSQL) for the rest of the transaction."""
    query = select(Job.id, Job.status, Job.super_id).where(Job.id == job_id)
    row = session.execute(query.with_for_update() if lock else query).one_or_none()
    if row is None:
        raise errors.JobNotFound(job_id)
    return JobState(row.id, row.status, row.super_id)


def side_effects(action: Action) -> dict[str, Any]:
    """The columns a transition sets besides `status`."""
    cleared: dict[str, Any] = {"token": None, "runner_id": None}
    table: dict[Action, dict[str, Any]] = {
        Action.SUBMIT: {
            "ts_queued": db_now(),
            "ts_started": None,
            "ts_ended": None,
            "output": None,
            "attempts": 0,
        },
        Action.RESET: {"ts_queued": None, "ts_started": None, "ts_ended": None, **cleared},
        Action.ABORT: {"ts_ended": db_now(), **cleared},
        Action.CLAIM: {
            "ts_started": db_now(),
            "ts_ended": None,
            "output": None,
            "attempts": JOB.c.attempts + 1,
        },
        Action.FINISH: {"ts_ended": db_now(), **cleared},
        Action.FAIL: {"ts_ended": db_now(), **cleared},
        Action.SPAWN: dict(cleared),
        Action.REQUEUE: {"ts_started": None, **cleared},
        Action.SUBJOBS_ACTIVE: {"ts_ended": None},
        Action.SUBJOBS_DONE: {"ts_queued": db_now(), "ts_ended": None},
        Action.SUBJOBS_FAILED: {"ts_ended": db_now()},
    }
    return dict(table.get(action, {}))


def apply(
    session: Session,
    job: JobState,
    action: Action,
    *,
    token: str | None = None,
    values: dict[str, Any] | None = None,
) -> Status:
    """Move `job` by `action`, fenced by its status (and `token` when given); propagate.

    Raises `InvalidTransition` when the table forbids it, `TokenMismatch` when the row is no longer
    in the state the caller saw (aborted, recovered or removed meanwhile).
    """
    new = next_status(job.id, job.status, action)
    values = values or {}
    params = {"b_id": job.id, "b_old": job.status, "b_new": new, "b_token": token}
    if any(isinstance(value, ClauseElement) for value in values.values()):
        stmt = _transition(action, token is not None, ()).values(values)
    else:
        stmt = _transition(action, token is not None, tuple(sorted(values)))
        params.update({f"b_{key}": value for key, value in values.items()})
    row = session.execute(stmt, params).one_or_none()
    if row is None:
        raise errors.TokenMismatch(f"Job {job.id} is no longer {job.status} under this claim.")
    after_transition(session, job, new, children=bool(row[0]))
    return new


@cache
def _transition(action: Action, fenced: bool, keys: tuple[str, ...]) -> Update:
    """The UPDATE of one transition, built once with bound parameters (building a statement
    costs several times more than running it on the runner's hot path)."""
    stmt = update(JOB).where(JOB.c.id == bindparam("b_id"), JOB.c.status == bindparam("b_old"))
    if fenced:
        stmt = stmt.where(JOB.c.token == bindparam("b_token"))
    bound = {key: bindparam(f"b_{key}", type_=JOB.c[key].type) for key in keys}
    new = bindparam("b_new", type_=JOB.c.status.type)
    return stmt.values(status=new, **side_effects(action), **bound).returning(
        has_children(JOB.c.id)
    )


def has_children(job_id: Any) -> Exists:
    """Whether the job `job_id` (a column or a value) has dependent children."""
    return exists().where(DEP.c.parent_id == job_id)


def after_transition(
    session: Session, job: JobState, new: Status, *, children: bool = True
) -> None:
    """Propagate a status change that was just written (`children`: whether it may have any)."""
    if new == job.status:
        return
    if job.super_id is not None:
        adjust_superjob(session, job.super_id, bucket_deltas(job.status, new))
    if new is Status.DONE and children:
        release_children(session, job.id)
    if new is Status.QUEUED:
        notify_later(session, WORK_CHANNEL, "")


def adjust_superjob(session: Session, super_id: int, delta: SubjobCounts) -> None:
    """Add `delta` to a superjob's subjob counts, then re-derive its status (O(1) per event)."""
    if delta == SubjobCounts():
        return
    params = {"s": super_id, "t": delta.total, "d": delta.done, "f": delta.failed}
    row = session.execute(_ADJUST_SUPERJOB, params).one()
    rederive(
        session,
        JobState(super_id, row.status, row.super_id),
        SubjobCounts(row.sub_total, row.sub_done, row.sub_failed),
    )


_ADJUST_SUPERJOB = (
    update(JOB)
    .where(JOB.c.id == bindparam("s"))
    .values(
        sub_total=JOB.c.sub_total + bindparam("t"),
        sub_done=JOB.c.sub_done + bindparam("d"),
        sub_failed=JOB.c.sub_failed + bindparam("f"),
    )
    .returning(JOB.c.status, JOB.c.super_id, JOB.c.sub_total, JOB.c.sub_done, JOB.c.sub_failed)
)


def rederive(session: Session, job: JobState, counts: SubjobCounts) -> Status:
    """Apply the derivation of a superjob's status from its subjob counts, if it changes it."""
    action = derivation(counts)
    if action is None or job.status in NOT_DERIVED:
        return job.status
    if next_status(job.id, job.status, action) == job.status:
        return job.status
    return apply(session, job, action)


def read_counts(session: Session, job_id: int) -> SubjobCounts:
    row = session.execute(
        select(Job.sub_total, Job.sub_done, Job.sub_failed).where(Job.id == job_id)
    ).one()
    return SubjobCounts(row.sub_total, row.sub_done, row.sub_failed)


_RELEASE_CHILDREN = (
    update(JOB)
    .where(JOB.c.id.in_(select(DEP.c.child_id).where(DEP.c.parent_id == bindparam("p"))))
    .values(pending_parents=JOB.c.pending_parents - 1)
    .returning(JOB.c.status, JOB.c.pending_parents)
)


def release_children(session: Session, parent_id: int) -> None:
    """A parent became DONE: each child has one pending parent less (and may become runnable)."""
    rows = session.execute(_RELEASE_CHILDREN, {"p": parent_id}).all()
    if any(r.status is Status.QUEUED and r.pending_parents == 0 for r in rows):
        notify_later(session, WORK_CHANNEL, "")


def clear_run_tags(session: Session, job_id: int) -> None:
    """Forget the tags of a previous run (traceback, captured output, reason, ...)."""
    session.execute(delete(Tag).where(Tag.job_id == job_id, Tag.name.in_(tagnames.RUN_TAGS)))


def notify_later(session: Session, channel: str, payload: str) -> None:
    """Ask for a NOTIFY at commit; duplicates in one transaction are sent once."""
    session.info.setdefault("bt_notify", set()).add((channel, payload))
