"""The only code that writes `job.status` and the two counters that derive from it.

Status changes come in three ways, each here: `apply` (one job by one action of
`bt.status.TRANSITIONS`), `claim_next` (the runner's claim statement) and `insert_jobs` (new
jobs, STASHED or QUEUED). After each, the change is propagated:

- to the superjob's subjob counters `sub_total/sub_done/sub_failed` (O(1) per event), then to
  the superjob's derived status, recursively up the chain;
- to the children's `pending_parents` when a job becomes DONE;
- to runners, with a NOTIFY when a job becomes runnable.

Dependencies change `pending_parents` too, so they are added and removed here as well
(`add_dependencies`, `remove_dependency`); `bt.links` and `bt.bulk` decide whether they may.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ClauseElement

from bt import errors, notify, queries
from bt.models import DEP, JOB
from bt.sqltypes import db_now
from bt.status import Action, Status, SubjobCounts, bucket_deltas, derivation, next_status
from bt.values import JobSpec

NOT_DERIVED = frozenset({Status.RUNNING, Status.DONE, Status.STASHED})


@dataclass(frozen=True)
class JobState:
    """What a transition needs to know of a job: read under lock, or known by the caller."""

    id: int
    status: Status
    super_id: int | None


@dataclass(frozen=True)
class NewRow:
    """A job to insert: its checked spec, its attempt budget, and whether it is queued at once."""

    spec: JobSpec
    max_attempts: int
    submit: bool = False


def read_state(session: Session, job_id: int, *, lock: bool = True) -> JobState:
    """The job's current state, locking its row (PostgreSQL) for the rest of the transaction."""
    query = select(JOB.c.id, JOB.c.status, JOB.c.super_id).where(JOB.c.id == job_id)
    row = session.execute(query.with_for_update() if lock else query).one_or_none()
    if row is None:
        raise errors.JobNotFound(job_id)
    return JobState(row.id, row.status, row.super_id)


def read_counts(session: Session, job_id: int) -> SubjobCounts:
    """A job's subjob counters."""
    row = session.execute(
        select(JOB.c.sub_total, JOB.c.sub_done, JOB.c.sub_failed).where(JOB.c.id == job_id)
    ).one()
    return SubjobCounts(row.sub_total, row.sub_done, row.sub_failed)


# -- one job, one action -------------------------------------------------------------------------


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
        stmt = queries.transition(action, token is not None, ()).values(values)
    else:
        stmt = queries.transition(action, token is not None, tuple(sorted(values)))
        params.update({f"b_{key}": value for key, value in values.items()})
    row = session.execute(stmt, params).one_or_none()
    if row is None:
        raise errors.TokenMismatch(f"Job {job.id} is no longer {job.status} under this claim.")
    _propagate(session, job, new, children=bool(row[0]))
    return new


def claim_next(
    session: Session, runner_id: int, tasks: Sequence[str], token: str, *, is_postgresql: bool
) -> Row[Any] | None:
    """Claim the best runnable job of `tasks` for `runner_id` under `token`; its
    `queries.CLAIMED_COLUMNS`, or None when nothing is runnable."""
    params = queries.claim_params(tasks, token, runner_id)
    row = session.execute(queries.claim_next(is_postgresql), params).one_or_none()
    if row is not None:
        _propagate(session, JobState(row.id, Status.QUEUED, row.super_id), Status.RUNNING)
    return row


def _propagate(session: Session, job: JobState, new: Status, *, children: bool = True) -> None:
    """Propagate a status change that was just written (`children`: whether it may have any)."""
    if new == job.status:
        return
    if job.super_id is not None:
        adjust_superjob(session, job.super_id, bucket_deltas(job.status, new))
    if new is Status.DONE and children:
        release_children(session, job.id)
    if new is Status.QUEUED:
        notify.notify_work(session)


# -- superjobs -----------------------------------------------------------------------------------


def adjust_superjob(session: Session, super_id: int, delta: SubjobCounts) -> None:
    """Add `delta` to a superjob's subjob counts, then re-derive its status (O(1) per event)."""
    if delta == SubjobCounts():
        return
    params = {"s": super_id, "t": delta.total, "d": delta.done, "f": delta.failed}
    row = session.execute(queries.ADJUST_SUPERJOB, params).one()
    rederive(
        session,
        JobState(super_id, row.status, row.super_id),
        SubjobCounts(row.sub_total, row.sub_done, row.sub_failed),
    )


def rederive(session: Session, job: JobState, counts: SubjobCounts) -> Status:
    """Apply the derivation of a superjob's status from its subjob counts, if it changes it."""
    action = derivation(counts)
    if action is None or job.status in NOT_DERIVED:
        return job.status
    if next_status(job.id, job.status, action) == job.status:
        return job.status
    return apply(session, job, action)


# -- dependencies --------------------------------------------------------------------------------


def release_children(session: Session, parent_id: int) -> None:
    """A parent became DONE: each child has one pending parent less (and may become runnable)."""
    rows = session.execute(queries.RELEASE_CHILDREN, {"p": parent_id}).all()
    _notify_if_runnable(session, rows)


def add_dependencies(session: Session, edges: Sequence[tuple[int, int]], scope: int) -> None:
    """Insert parent → child `edges` between jobs of `scope`; every parent not yet DONE is one
    more pending parent of its child. The caller has checked the edges may exist."""
    if not edges:
        return
    session.execute(insert(DEP), [_edge(p, c, scope) for p, c in edges])
    statuses = _statuses(session, {parent for parent, _ in edges})
    pending = Counter(child for parent, child in edges if statuses[parent] is not Status.DONE)
    by_count: dict[int, list[int]] = {}
    for child, count in pending.items():
        by_count.setdefault(count, []).append(child)
    for count, children in by_count.items():
        session.execute(queries.ADD_PENDING_PARENTS, {"ids": children, "n": count})


def remove_dependency(session: Session, parent_id: int, child_id: int) -> bool:
    """Delete the edge parent → child; False if there was none. The child may become runnable."""
    edge = DEP.delete().where(DEP.c.parent_id == parent_id, DEP.c.child_id == child_id)
    if not session.execute(edge.returning(DEP.c.child_id)).all():
        return False
    if _statuses(session, {parent_id})[parent_id] is not Status.DONE:
        rows = session.execute(queries.ADD_PENDING_PARENTS, {"ids": [child_id], "n": -1}).all()
        _notify_if_runnable(session, rows)
    return True


def _statuses(session: Session, job_ids: set[int]) -> dict[int, Status]:
    rows = session.execute(select(JOB.c.id, JOB.c.status).where(JOB.c.id.in_(job_ids)))
    return {row.id: row.status for row in rows}


def _notify_if_runnable(session: Session, rows: Sequence[Row[Any]]) -> None:
    if any(r.status is Status.QUEUED and r.pending_parents == 0 for r in rows):
        notify.notify_work(session)


# -- new jobs ------------------------------------------------------------------------------------


def insert_jobs(
    session: Session,
    rows: Sequence[NewRow],
    *,
    super_id: int | None = None,
    links: Sequence[tuple[int, int]] = (),
    existing_parents: Sequence[tuple[int, int]] = (),
) -> list[int]:
    """Insert `rows` (subjobs of `super_id`, or top-level) with `links` between them (pairs of
    indexes into `rows`) and `existing_parents` (pairs of an existing job id and an index);
    their ids, in order. The caller has checked the specs and that the links make no cycle;
    parents must exist and be siblings of the new jobs (`JobNotFound`, `DependencyError`)."""
    scope = super_id or 0
    parents = _existing_parents(session, {parent for parent, _ in existing_parents}, scope)
    pending = Counter(child for _, child in links)
    pending.update(c for p, c in existing_parents if parents[p] is not Status.DONE)
    ids = _insert_rows(session, rows, super_id, pending)
    edges = [(ids[p], ids[c]) for p, c in links] + [(p, ids[c]) for p, c in existing_parents]
    if edges:
        session.execute(insert(DEP), [_edge(p, c, scope) for p, c in edges])
    if super_id is not None:
        adjust_superjob(session, super_id, SubjobCounts(total=len(rows)))
    if any(row.submit and not pending[i] for i, row in enumerate(rows)):
        notify.notify_work(session)
    return ids


def _existing_parents(session: Session, parent_ids: set[int], scope: int) -> dict[int, Status]:
    """The statuses of existing parents of new jobs: they must exist and be siblings."""
    if not parent_ids:
        return {}
    query = select(JOB.c.id, JOB.c.scope, JOB.c.status).where(JOB.c.id.in_(parent_ids))
    found = {row.id: row for row in session.execute(query)}
    for parent in sorted(parent_ids):
        if parent not in found:
            raise errors.JobNotFound(parent)
        if found[parent].scope != scope:
            raise errors.DependencyError(f"Job {parent} is not a sibling of the new jobs.")
    return {parent: row.status for parent, row in found.items()}


def _insert_rows(
    session: Session, rows: Sequence[NewRow], super_id: int | None, pending: Counter[int]
) -> list[int]:
    ids: list[int] = [0] * len(rows)
    for submitted in (True, False):
        batch = [i for i, row in enumerate(rows) if row.submit is submitted]
        if not batch:
            continue
        stmt = insert(JOB).returning(JOB.c.id, sort_by_parameter_order=True)
        if submitted:
            stmt = stmt.values(ts_queued=db_now())
        values = [_row_values(rows[i], super_id, pending[i]) for i in batch]
        for index, job_id in zip(batch, session.scalars(stmt, values).all(), strict=True):
            ids[index] = job_id
    return ids


def _row_values(row: NewRow, super_id: int | None, pending_parents: int) -> dict[str, Any]:
    spec = row.spec
    return {
        "name": spec.task,
        "config": spec.config,
        "input": spec.input,
        "description": spec.description,
        "priority": spec.priority,
        "status": Status.QUEUED if row.submit else Status.STASHED,
        "super_id": super_id,
        "scope": super_id or 0,
        "pending_parents": pending_parents,
        "max_attempts": row.max_attempts,
    }


def _edge(parent_id: int, child_id: int, scope: int) -> dict[str, int]:
    return {"parent_id": parent_id, "child_id": child_id, "scope": scope}
