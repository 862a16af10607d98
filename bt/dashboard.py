"""What the web dashboard reads that no other service gives: bounded summaries of many jobs.

`DashboardService` (`app.dashboard`) answers the overview's and the runners page's questions in
a few grouped queries each, never a row per job: jobs per task and status, jobs ended per
minute, the latest failures with their reasons, and each runner's finished attempts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, bindparam, func, literal_column, select, text
from sqlalchemy.orm import Session

from bt import filters, listing, tagnames
from bt.db import Database
from bt.errors import JobNotFound
from bt.models import Dependency, Job, JobAttempt, Tag
from bt.sqltypes import UTCDateTime
from bt.status import QUEUED_PARTS, Status
from bt.values import JobInfo

MAX_TASKS = 200  #: tasks counted by `counts_by_task`, the largest first
MAX_FAILURES = 100  #: failures `last_failures` returns at most
MAX_NODES = 300  #: jobs a `nearby` graph holds at most
MAX_HOPS = 5  #: dependency hops a `nearby` graph follows at most
_ZEROS = {name: 0 for name in (*(s.value for s in Status), *QUEUED_PARTS)}


@dataclass(frozen=True)
class TaskCounts:
    """A task's jobs per status, with the parts of QUEUED (`bt.status.QUEUED_PARTS`)."""

    task: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.get(s.value, 0) for s in Status)


@dataclass(frozen=True)
class Failure:
    """A FAILED job with the reason of its last failure (`bt_reason`)."""

    job_id: int
    name: str
    ended: dt.datetime | None
    reason: str | None


@dataclass(frozen=True)
class RunnerTally:
    """What a runner finished: its runs that succeeded and failed, and its batch job id."""

    runner_id: int
    done: int = 0
    failed: int = 0
    batch_id: str | None = None


@dataclass(frozen=True)
class Throughput:
    """Jobs ended per minute over the last `minutes` minutes, oldest minute first."""

    since: dt.datetime
    per_minute: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.per_minute)


@dataclass(frozen=True)
class Nearby:
    """The jobs within some dependency hops of one job, the links between them, and how many
    parents and children each shown job has that are not shown (the "+N more" stubs)."""

    center: int
    jobs: list[JobInfo]
    edges: list[tuple[int, int]]  #: (parent, child), both shown
    hidden_parents: dict[int, int] = field(default_factory=dict)
    hidden_children: dict[int, int] = field(default_factory=dict)
    hops: dict[int, int] = field(default_factory=dict)  #: job id: hops from the center


@dataclass(frozen=True)
class SubjobGroups:
    """A superjob's subjobs aggregated: counts per task and status, and the links between
    subjobs summed per (parent task, child task)."""

    super_id: int
    counts: dict[str, dict[str, int]]  #: task: status: jobs
    links: list[tuple[str, str, int]]  #: (parent task, child task, links)

    @property
    def total(self) -> int:
        return sum(n for by_status in self.counts.values() for n in by_status.values())


class DashboardService:
    """Bounded summaries for dashboards: each method is a few grouped queries."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def counts_by_task(self, *, limit: int = MAX_TASKS) -> tuple[list[TaskCounts], int]:
        """Jobs per status of each task (RUNNABLE, BLOCKED, WAITING and LIMITED included), the
        `limit` tasks with the most jobs first; and how many tasks were left out."""
        with self._db.read() as s:
            totals: dict[str, dict[str, int]] = {}
            rows = s.execute(
                select(Job.name, Job.status, func.count()).group_by(Job.name, Job.status)
            )
            for name, status, n in rows:
                totals.setdefault(name, dict(_ZEROS))[status.value] = n
            ranked = sorted(totals, key=lambda t: (-sum(totals[t].values()), t))
            shown = ranked[:limit]
            for part, sql in filters.PSEUDO_STATUSES.items():
                for name, n in _pseudo_counts(s, sql, shown):
                    totals[name][part] = n
            return [TaskCounts(t, totals[t]) for t in shown], len(ranked) - len(shown)

    def throughput(self, *, minutes: int = 60, now: dt.datetime | None = None) -> Throughput:
        """Jobs that ended DONE or FAILED in each of the last `minutes` minutes (by their end
        time), the oldest minute first."""
        now = now or dt.datetime.now(dt.UTC)
        since = now - dt.timedelta(minutes=minutes)
        bucket = self._minute_bucket(since)
        query = (
            select(bucket.label("minute"), func.count())
            .where(Job.ts_ended >= since, Job.status.in_([Status.DONE, Status.FAILED]))
            .group_by(literal_column("minute"))
        )
        per_minute = [0] * minutes
        with self._db.read() as s:
            for minute, n in s.execute(query):
                if minute is not None and 0 <= int(minute) < minutes:
                    per_minute[int(minute)] += n
        return Throughput(since, per_minute)

    def _minute_bucket(self, since: dt.datetime) -> ColumnElement[Any]:
        start = bindparam("since", since, type_=UTCDateTime())
        if self._db.is_postgresql:
            return func.floor(func.extract("epoch", Job.ts_ended - start) / 60)
        return func.cast((func.julianday(Job.ts_ended) - func.julianday(start)) * 1440, Integer)

    def last_failures(self, *, limit: int = 10) -> list[Failure]:
        """The FAILED jobs that ended last (at most `MAX_FAILURES`), with their reasons."""
        query = (
            select(Job.id, Job.name, Job.ts_ended, Tag.value)
            .outerjoin(Tag, and_(Tag.job_id == Job.id, Tag.name == tagnames.REASON))
            .where(Job.status == Status.FAILED)
            .order_by(Job.ts_ended.desc().nulls_last(), Job.id.desc())
            .limit(min(limit, MAX_FAILURES))
        )
        with self._db.read() as s:
            return [Failure(*row) for row in s.execute(query)]

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of every run measured so far: one sum over the runs."""
        query = select(func.coalesce(func.sum(JobAttempt.cpu_user + JobAttempt.cpu_sys), 0.0))
        with self._db.read() as s:
            return float(s.scalar(query) or 0.0)

    def runner_tallies(self, runner_ids: Sequence[int]) -> dict[int, RunnerTally]:
        """For each of these runners, its runs that succeeded (DONE, or a prolog that left its
        job STAND-BY) and failed, and the batch job id its runs recorded (None when none)."""
        if not runner_ids:
            return {}
        query = (
            select(
                JobAttempt.runner_id,
                JobAttempt.outcome,
                func.count(),
                func.max(JobAttempt.batch_id),
            )
            .where(
                JobAttempt.runner_id.in_(list(runner_ids)),
                JobAttempt.outcome.in_([Status.DONE, Status.STAND_BY, Status.FAILED]),
            )
            .group_by(JobAttempt.runner_id, JobAttempt.outcome)
        )
        tallies: dict[int, dict[str, Any]] = {i: {} for i in runner_ids}
        with self._db.read() as s:
            for runner_id, outcome, n, batch_id in s.execute(query):
                tally = tallies[runner_id or 0]
                kind = "failed" if outcome is Status.FAILED else "done"
                tally[kind] = tally.get(kind, 0) + n
                tally["batch_id"] = tally.get("batch_id") or batch_id
        return {i: RunnerTally(i, **t) for i, t in tallies.items()}

    def nearby(self, job_id: int, *, hops: int = 2, max_nodes: int = MAX_NODES) -> Nearby:
        """The jobs at most `hops` dependency links from `job_id` (up or down, at most
        `MAX_HOPS`), nearest first, at most `max_nodes` of them; `JobNotFound`."""
        hops, max_nodes = max(0, min(hops, MAX_HOPS)), max(1, min(max_nodes, MAX_NODES))
        with self._db.read() as s:
            seen = _walk(s, job_id, hops, max_nodes)
            ids = list(seen)
            jobs = listing.job_infos(s, ids)
            if not jobs:
                raise JobNotFound(job_id)
            inside = and_(Dependency.parent_id.in_(ids), Dependency.child_id.in_(ids))
            edges = sorted(
                s.execute(select(Dependency.parent_id, Dependency.child_id).where(inside))
            )
            parents = _degrees(s, Dependency.child_id, Dependency.parent_id, ids)
            children = _degrees(s, Dependency.parent_id, Dependency.child_id, ids)
        shown_parents = {i: 0 for i in ids}
        shown_children = {i: 0 for i in ids}
        for parent, child in edges:
            shown_children[parent] += 1
            shown_parents[child] += 1
        return Nearby(
            job_id,
            jobs,
            [(p, c) for p, c in edges],
            {i: n - shown_parents[i] for i, n in parents.items() if n > shown_parents[i]},
            {i: n - shown_children[i] for i, n in children.items() if n > shown_children[i]},
            seen,
        )

    def subjob_groups(self, job_id: int) -> SubjobGroups:
        """A superjob's direct subjobs per task and status, and their links per pair of
        tasks: a few grouped queries, however many subjobs; `JobNotFound`."""
        with self._db.read() as s:
            if s.scalar(select(Job.id).where(Job.id == job_id)) is None:
                raise JobNotFound(job_id)
            counts: dict[str, dict[str, int]] = {}
            query = (
                select(Job.name, Job.status, func.count())
                .where(Job.super_id == job_id)
                .group_by(Job.name, Job.status)
            )
            for name, status, n in s.execute(query):
                counts.setdefault(name, {})[status.value] = n
            parent, child = Job.__table__.alias("p"), Job.__table__.alias("c")
            links = (
                select(parent.c.name, child.c.name, func.count())
                .select_from(Dependency)
                .join(parent, parent.c.id == Dependency.parent_id)
                .join(child, child.c.id == Dependency.child_id)
                .where(Dependency.scope == job_id)
                .group_by(parent.c.name, child.c.name)
            )
            edges = [(p, c, n) for p, c, n in s.execute(links)]
        return SubjobGroups(job_id, dict(sorted(counts.items())), sorted(edges))


def _walk(session: Session, start: int, hops: int, max_nodes: int) -> dict[int, int]:
    """Breadth-first over dependencies both ways: job id to its distance, nearest first."""
    seen = {start: 0}
    frontier = [start]
    for hop in range(1, hops + 1):
        room = max_nodes - len(seen)
        if not frontier or room <= 0:
            break
        found: list[int] = []
        for near, far in (
            (Dependency.child_id, Dependency.parent_id),
            (Dependency.parent_id, Dependency.child_id),
        ):
            query = select(far).where(near.in_(frontier)).order_by(far).limit(room + len(seen))
            found += [i for i in session.scalars(query) if i not in seen]
        frontier = list(dict.fromkeys(found))[:room]
        seen.update((i, hop) for i in frontier)
    return seen


def _degrees(session: Session, key: Any, other: Any, ids: list[int]) -> dict[int, int]:
    query = select(key, func.count(other)).where(key.in_(ids)).group_by(key)
    return {i: n for i, n in session.execute(query)}


def _pseudo_counts(session: Session, sql: str, tasks: list[str]) -> list[Any]:
    if not tasks:
        return []
    query = select(Job.name, func.count()).where(text(sql), Job.name.in_(tasks)).group_by(Job.name)
    return list(session.execute(query))
