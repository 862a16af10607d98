"""Creating, cloning, editing, removing and reading single jobs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import CTE, delete, func, select, text
from sqlalchemy.orm import Session, undefer

from bt import errors, yamlio
from bt.bulk import create_graph
from bt.limits import job_limits
from bt.links import children_of, parents_of
from bt.models import LIMITED_SQL, Job, JobAttempt
from bt.registry import TaskRegistry
from bt.specs import validate_with_task
from bt.status import Action, Status, next_status
from bt.transitions import failed_subjobs, read_state
from bt.values import EDIT_FIELDS, EditField, JobDetails, JobSpec, NodeSpec


def create(
    session: Session, spec: JobSpec, registry: TaskRegistry | None, *, submit_now: bool = False
) -> int:
    """A new top-level STASHED job (QUEUED with `submit_now`); returns its id."""
    return create_graph(session, [NodeSpec(0, spec, submit_now)], registry=registry)[0]


def clone(session: Session, job_id: int, limits: Mapping[str, int] | None = None) -> int:
    """A new STASHED copy of a job: task, config, input, description, priority, failure
    handling (attempts, retries, time limit) and the limits it holds (or `limits` instead).

    A top-level job's clone keeps its parents; a subjob's clone is top-level with no links,
    since dependencies only join siblings.
    """
    original = _get(session, job_id, full=True)
    spec = JobSpec(
        original.name,
        original.config,
        original.input,
        original.description,
        original.priority,
        max_attempts=original.max_attempts,
        retries=original.retries,
        retry_delay=original.retry_delay,
        retry_backoff=original.retry_backoff,
        time_limit=original.time_limit,
        limits=job_limits(session, job_id) if limits is None else limits,
    )
    parents = parents_of(session, job_id) if original.super_id is None else []
    return create_graph(session, [NodeSpec(0, spec)], existing_parents=[(p, 0) for p in parents])[0]


def edit(
    session: Session,
    job_id: int,
    field: EditField,
    text: str | None,
    *,
    expected: str | Any | None = ...,
    registry: TaskRegistry | None = None,
) -> bool:
    """Replace a job's config, input (STASHED only) or description; True if it changed.

    `expected` is the value the user started editing from: if another client changed it
    meanwhile, `ChangedMeanwhile` is raised instead of silently overwriting their change.
    """
    if field not in EDIT_FIELDS:
        raise errors.InvalidValue(f"Can edit {', '.join(EDIT_FIELDS)}; not {field!r}.")
    job = _get(session, job_id, lock=True)
    current = getattr(job, field)
    if expected is not ... and current != expected:
        raise errors.ChangedMeanwhile(f"Job {job_id}'s {field} was changed by another client.")
    if field == "description":
        yamlio.check_size(text, yamlio.MAX_DESCRIPTION_BYTES, "description")
        new_value: str | None = text or ""
    else:
        next_status(job_id, job.status, Action.EDIT)
        new_value = yamlio.checked(text, what=field)
        if registry is not None and job.name in registry:
            other = "input" if field == "config" else "config"
            pair = {field: new_value, other: getattr(job, other)}
            validate_with_task(registry, job.name, pair["config"], pair["input"])
    if new_value == current:
        return False
    setattr(job, field, new_value)
    session.flush()
    return True


def set_priority(session: Session, job_id: int, priority: int) -> None:
    """Change the order in which runnable jobs are claimed (higher first)."""
    _get(session, job_id, lock=True).priority = priority
    session.flush()


def remove(session: Session, job_id: int) -> int:
    """Delete an unlinked top-level STASHED or FAILED job and its whole subtree; returns count."""
    job = read_state(session, job_id)
    if job.super_id is not None:
        raise errors.InvalidOperation(
            f"Job {job_id} is a subjob of job {job.super_id}; only top-level jobs can be removed."
        )
    next_status(job_id, job.status, Action.REMOVE)
    links = [(p, job_id) for p in parents_of(session, job_id)]
    links += [(job_id, c) for c in children_of(session, job_id)]
    if links:
        raise errors.DependencyError(
            f"Cannot remove linked job {job_id}: remove its links first ({_unlinks(links)})."
        )
    tree = _subtree(job_id)
    count = session.scalar(select(func.count()).select_from(tree)) or 0
    session.execute(delete(JobAttempt).where(JobAttempt.job_id.in_(select(tree.c.id))))
    session.execute(delete(Job).where(Job.id == job_id))
    return count


def _unlinks(links: list[tuple[int, int]], shown: int = 3) -> str:
    """The shell commands that remove these links: `job unlink 1 2; job unlink 1 3`."""
    commands = "; ".join(f"job unlink {parent} {child}" for parent, child in links[:shown])
    more = len(links) - shown
    return commands + (f"; and {more} more" if more > 0 else "")


def _subtree(job_id: int) -> CTE:
    """The ids of job `job_id` and of all its subjobs, at any depth."""
    tree = select(Job.id).where(Job.id == job_id).cte("tree", recursive=True)
    return tree.union_all(select(Job.id).join(tree, Job.super_id == tree.c.id))


def details(session: Session, job_id: int) -> JobDetails:
    """Everything about one job."""
    job = _get(session, job_id, full=True)
    return JobDetails(
        job.id,
        job.super_id,
        job.name,
        job.status,
        job.priority,
        job.attempts,
        job.ts_created,
        job.ts_queued,
        job.ts_started,
        job.ts_ended,
        description=job.description,
        config=job.config,
        input=job.input,
        output=job.output,
        max_attempts=job.max_attempts,
        runner_id=job.runner_id,
        subjobs=job.sub_total,
        subjobs_done=job.sub_done,
        subjobs_failed=job.sub_failed,
        pending_parents=job.pending_parents,
        parents=tuple(parents_of(session, job_id)),
        children=tuple(children_of(session, job_id)),
        blocked=job.status is Status.QUEUED and job.blocking_parents > 0,
        retries=job.retries,
        retried=job.retried,
        retry_delay=job.retry_delay,
        retry_backoff=job.retry_backoff,
        time_limit=job.time_limit,
        not_before=job.not_before,
        blocking_parents=job.blocking_parents,
        failed_subjobs=tuple(failed_subjobs(session, job_id)) if job.sub_failed else (),
        limits=job_limits(session, job_id) if job.has_limits else {},
        limited=_limited(session, job_id) if job.has_limits else False,
    )


def _limited(session: Session, job_id: int) -> bool:
    """Whether the job is LIMITED: runnable but for a limit without room for it."""
    query = select(Job.id).where(Job.id == job_id, text(LIMITED_SQL))
    return session.scalar(query) is not None


def editable(session: Session, job_id: int, field: EditField) -> JobDetails:
    """The job's details, refusing when `field` cannot be edited in its status."""
    job = details(session, job_id)
    if field != "description":
        next_status(job_id, job.status, Action.EDIT)
    return job


def _get(session: Session, job_id: int, *, lock: bool = False, full: bool = False) -> Job:
    query = select(Job).where(Job.id == job_id)
    if full:
        query = query.options(undefer("*"))
    if lock:
        query = query.with_for_update()
    job = session.scalars(query).one_or_none()
    if job is None:
        raise errors.JobNotFound(job_id)
    return job
