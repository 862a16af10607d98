"""`db check`: what should never be, looked for in the whole database.

The rules the transitions module keeps incrementally are recomputed here from the rows, so a
bug, a manual edit or a restored backup that broke them shows up with the ids involved:
dependency cycles, counters that disagree with the rows, RUNNING jobs without a live lease,
QUEUED jobs whose parents can never finish on their own (STASHED or FAILED parents),
concurrency limits whose units in use are not those their RUNNING jobs hold, and history rows
of runs (`job_attempt`, which has no foreign key) whose job is gone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy import ColumnElement, ScalarSelect, func, or_, select
from sqlalchemy.orm import Session, aliased

from bt.models import ConcurrencyLimit, Dependency, Job, JobAttempt, JobLimit, Runner
from bt.sqltypes import db_now
from bt.status import Status, blocks_children
from bt.values import Finding

MAX_IDS = 20  #: ids shown per finding


def check(session: Session) -> list[Finding]:
    """Every problem found, by kind; empty when the database is consistent."""
    return [
        *_cycles(session),
        *_pending_parents(session),
        *_blocking_parents(session),
        *_subjob_counts(session),
        *_running_without_lease(session),
        *_stuck_behind(session, Status.STASHED, "QUEUED behind a STASHED parent"),
        *_stuck_behind(session, Status.FAILED, "BLOCKED by a FAILED parent"),
        *_limits_in_use(session),
        *_orphaned_runs(session),
    ]


def _finding(kind: str, ids: list[int], what: str) -> Finding:
    shown = ", ".join(map(str, ids[:MAX_IDS])) + (" …" if len(ids) > MAX_IDS else "")
    return Finding(kind, tuple(ids), f"{len(ids)} job(s) {what}: {shown}")


def _cycles(session: Session) -> Iterator[Finding]:
    children: dict[int, list[int]] = defaultdict(list)
    for parent, child in session.execute(select(Dependency.parent_id, Dependency.child_id)):
        children[parent].append(child)
    on_cycles = sorted(_nodes_on_cycles(children))
    if on_cycles:
        yield _finding("cycle", on_cycles, "on a dependency cycle")


def _nodes_on_cycles(children: dict[int, list[int]]) -> set[int]:
    """Nodes left after peeling off, again and again, every node without parents and every node
    without children: those on a cycle (and any between two cycles)."""
    parents: dict[int, set[int]] = defaultdict(set)
    kids: dict[int, set[int]] = defaultdict(set)
    for parent, targets in children.items():
        for child in targets:
            kids[parent].add(child)
            parents[child].add(parent)
    left = set(parents) | set(kids)
    peel = [n for n in left if not parents[n] or not kids[n]]
    while peel:
        node = peel.pop()
        if node not in left:
            continue
        left.discard(node)
        for other in kids[node] | parents[node]:
            parents[other].discard(node)
            kids[other].discard(node)
            if other in left and (not parents[other] or not kids[other]):
                peel.append(other)
    return left


def _pending_parents(session: Session) -> Iterator[Finding]:
    parent = aliased(Job)
    counted = (
        select(func.count())
        .select_from(Dependency)
        .join(parent, parent.id == Dependency.parent_id)
        .where(Dependency.child_id == Job.id, parent.status != Status.DONE)
        .scalar_subquery()
    )
    ids = list(session.scalars(select(Job.id).where(Job.pending_parents != counted)))
    if ids:
        yield _finding("counter", ids, "with a wrong count of pending parents")


def _blocking_parents(session: Session) -> Iterator[Finding]:
    edges = session.execute(select(Dependency.parent_id, Dependency.child_id)).all()
    jobs = {r.id: r for r in session.execute(select(Job.id, Job.status, Job.blocking_parents))}
    counted: dict[int, int] = defaultdict(int)
    for parent, child in edges:
        counted[child] += blocks_children(jobs[parent].status, jobs[parent].blocking_parents)
    ids = sorted(j for j, row in jobs.items() if row.blocking_parents != counted[j])
    if ids:
        yield _finding("counter", ids, "with a wrong count of blocking parents")


def _subjob_counts(session: Session) -> Iterator[Finding]:
    sub = aliased(Job)

    def count(*conditions: ColumnElement[bool]) -> ScalarSelect[int]:
        query = select(func.count()).select_from(sub).where(sub.super_id == Job.id, *conditions)
        return query.scalar_subquery()

    wrong = or_(
        Job.sub_total != count(),
        Job.sub_done != count(sub.status == Status.DONE),
        Job.sub_failed != count(sub.status == Status.FAILED),
    )
    ids = list(session.scalars(select(Job.id).where(wrong).order_by(Job.id)))
    if ids:
        yield _finding("counter", ids, "with wrong subjob counts")


def _running_without_lease(session: Session) -> Iterator[Finding]:
    live = select(Runner.id).where(Runner.expires_at >= db_now())
    query = select(Job.id).where(
        Job.status == Status.RUNNING, or_(Job.runner_id.is_(None), Job.runner_id.not_in(live))
    )
    ids = list(session.scalars(query.order_by(Job.id)))
    if ids:
        yield _finding("lease", ids, "RUNNING without a live runner lease")


def _orphaned_runs(session: Session) -> Iterator[Finding]:
    gone = ~select(Job.id).where(Job.id == JobAttempt.job_id).exists()
    query = select(JobAttempt.job_id).where(gone).distinct().order_by(JobAttempt.job_id)
    ids = list(session.scalars(query))
    if ids:
        yield _finding("history", ids, "removed, whose runs are still in the history")


def _stuck_behind(session: Session, parent_status: Status, what: str) -> Iterator[Finding]:
    parent = aliased(Job)
    query = (
        select(Job.id)
        .distinct()
        .join(Dependency, Dependency.child_id == Job.id)
        .join(parent, parent.id == Dependency.parent_id)
        .where(Job.status == Status.QUEUED, parent.status == parent_status)
        .order_by(Job.id)
    )
    ids = list(session.scalars(query))
    if ids:
        yield _finding("stuck", ids, what)


def _limits_in_use(session: Session) -> Iterator[Finding]:
    held = (
        select(func.coalesce(func.sum(JobLimit.units), 0))
        .join(Job, Job.id == JobLimit.job_id)
        .where(JobLimit.name == ConcurrencyLimit.name, Job.status == Status.RUNNING)
        .scalar_subquery()
    )
    query = select(ConcurrencyLimit.name, ConcurrencyLimit.in_use, held.label("held")).where(
        ConcurrencyLimit.in_use != held
    )
    for name, in_use, units in session.execute(query.order_by(ConcurrencyLimit.name)):
        running = (
            select(Job.id)
            .join(JobLimit, JobLimit.job_id == Job.id)
            .where(JobLimit.name == name, Job.status == Status.RUNNING)
            .order_by(Job.id)
        )
        ids = list(session.scalars(running))
        shown = ", ".join(map(str, ids[:MAX_IDS])) or "none"
        detail = f"limit {name!r} counts {in_use} units in use; its RUNNING jobs ({shown}) hold"
        yield Finding("limit", tuple(ids), f"{detail} {units}")
