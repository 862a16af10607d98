"""Parent → child dependencies between sibling jobs: link, unlink, and the cycle check."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from bt import errors
from bt.models import Dependency, Job
from bt.status import TRANSITIONS, Action, next_status
from bt.transitions import add_dependencies, lock_scope_of, remove_dependency


def _lock(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id, with_for_update=True)
    if job is None:
        raise errors.JobNotFound(job_id)
    return job


def _check_child(child: Job, verb: str) -> None:
    """A child's status and shape allow it to be linked or unlinked (`verb` says which)."""
    try:
        next_status(child.id, child.status, Action.LINK)
    except errors.InvalidTransition as exc:
        if verb == "linked as a child":
            raise
        allowed = tuple(status.value for status in TRANSITIONS[Action.LINK])
        raise errors.InvalidTransition(exc.job_id, exc.status, f"be {verb}", allowed) from None
    if child.sub_total:
        raise errors.DependencyError(f"Job {child.id} has subjobs and cannot be {verb}.")


def link(session: Session, parent_id: int, child_id: int) -> None:
    """Make `child` wait for `parent`: siblings only, child STASHED/QUEUED/FAILED, no cycles."""
    if parent_id == child_id:
        raise errors.DependencyError(f"Job {parent_id} cannot depend on itself.")
    lock_scope_of(session, parent_id)
    parent, child = _lock(session, parent_id), _lock(session, child_id)
    _check_child(child, "linked as a child")
    if parent.scope != child.scope:
        raise errors.DependencyError(
            f"Jobs {parent_id} and {child_id} are not siblings (superjobs "
            f"{parent.super_id or 'none'} and {child.super_id or 'none'}); only jobs with the "
            "same superjob, or two top-level jobs, can be linked."
        )
    if _linked(session, parent_id, child_id):
        raise errors.DependencyError(f"Job {child_id} already depends on job {parent_id}.")
    if reaches(session, child_id, parent_id):
        raise errors.DependencyError(
            f"Linking {parent_id} → {child_id} would make a cycle: {parent_id} already "
            f"depends on {child_id}."
        )
    add_dependencies(session, [(parent_id, child_id)], parent.scope)


def unlink(session: Session, parent_id: int, child_id: int) -> None:
    """Remove the dependency of `child` on `parent`."""
    lock_scope_of(session, parent_id)
    _lock(session, parent_id)
    _check_child(_lock(session, child_id), "unlinked")
    if not remove_dependency(session, parent_id, child_id):
        raise errors.DependencyError(f"Job {child_id} does not depend on job {parent_id}.")


def _linked(session: Session, parent_id: int, child_id: int) -> bool:
    query = select(Dependency.child_id).where(
        Dependency.parent_id == parent_id, Dependency.child_id == child_id
    )
    return session.scalar(query) is not None


def reaches(session: Session, start: int, target: int) -> bool:
    """Whether `target` is a descendant of `start` through dependencies (recursive CTE)."""
    down = select(Dependency.child_id.label("id")).where(Dependency.parent_id == start)
    down_cte = down.cte("down", recursive=True)
    step = select(Dependency.child_id).join(down_cte, Dependency.parent_id == down_cte.c.id)
    down_cte = down_cte.union(step)
    return bool(session.scalar(select(exists().where(down_cte.c.id == target))))


def descendants(session: Session, job_id: int) -> list[int]:
    """Every job that depends on `job_id`, transitively, in id order."""
    down = select(Dependency.child_id.label("id")).where(Dependency.parent_id == job_id)
    down_cte = down.cte("down", recursive=True)
    step = select(Dependency.child_id).join(down_cte, Dependency.parent_id == down_cte.c.id)
    down_cte = down_cte.union(step)
    return sorted(session.scalars(select(down_cte.c.id)))


def parents_of(session: Session, job_id: int) -> list[int]:
    query = select(Dependency.parent_id).where(Dependency.child_id == job_id)
    return sorted(session.scalars(query))


def children_of(session: Session, job_id: int) -> list[int]:
    query = select(Dependency.child_id).where(Dependency.parent_id == job_id)
    return sorted(session.scalars(query))
