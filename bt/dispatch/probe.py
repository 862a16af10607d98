"""What the database says about a dispatcher's work and pilots: index lookups only.

- `soon_runnable`: QUEUED jobs whose only unfinished parents are RUNNING, found from the RUNNING
  jobs (a farm's slots bound them) through the dependency's primary key, never by scanning the
  QUEUED jobs.
- `RunnerProbe`: the runner each pilot became (by the pid and host its banner printed), whether
  that runner holds a job (the partial index on `job.runner_id`), and whether it claimed any
  (a flag in its runner row).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from bt.dispatch.watch import Tracked, banner
from bt.models import IS_RUNNING_SQL, Job, JobAttempt, Runner

if TYPE_CHECKING:
    from bt.client import Brownthrower

#: {join} is CROSS JOIN on SQLite (which keeps that join order: RUNNING jobs first), else JOIN.
_SOON = """
SELECT count(*) FROM (
  SELECT d.child_id
  FROM job AS p {join} dependency AS d ON d.parent_id = p.id
       {join} job AS c ON c.id = d.child_id
  WHERE p.status = 'RUNNING' AND c.status = 'QUEUED' AND c.blocking_parents = 0
    AND c.not_before IS NULL {tasks}
  GROUP BY d.child_id, c.pending_parents
  HAVING count(*) = c.pending_parents
) AS soon
"""


def soon_runnable_sql(*, sqlite: bool, tasks: bool) -> str:
    """The statement `soon_runnable` sends (`:tasks` an expanding list when `tasks`)."""
    return _SOON.format(
        join="CROSS JOIN" if sqlite else "JOIN", tasks="AND c.name IN :tasks" if tasks else ""
    )


def soon_runnable(session: Session, tasks: Sequence[str] | None) -> int:
    """How many QUEUED jobs (of `tasks`, when given) wait only for parents now RUNNING."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    statement = text(soon_runnable_sql(sqlite=sqlite, tasks=tasks is not None))
    if tasks is None:
        return int(session.scalar(statement) or 0)
    if not tasks:
        return 0
    statement = statement.bindparams(bindparam("tasks", expanding=True))
    return int(session.scalar(statement, {"tasks": list(tasks)}) or 0)


def runners_at(session: Session, places: Collection[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """The ids of the registered runners at these (host, pid) places."""
    pids = {pid for _, pid in places}
    rows = session.execute(select(Runner.id, Runner.host, Runner.pid).where(Runner.pid.in_(pids)))
    return {(host, pid): rid for rid, host, pid in rows if (host, pid) in places}


def busy_runners(session: Session, ids: Collection[int]) -> set[int]:
    """Those of `ids` that hold a RUNNING job now."""
    query = select(Job.runner_id).where(text(IS_RUNNING_SQL), Job.runner_id.in_(ids))
    query = query.distinct()
    return {rid for rid in session.scalars(query) if rid is not None}


def claimers(session: Session, ids: Collection[int]) -> set[int]:
    """Those of `ids` that have claimed a job since they registered."""
    query = select(Runner.id).where(Runner.id.in_(ids), Runner.claimed)
    return set(session.scalars(query))


def ran_jobs(session: Session, ids: Collection[int]) -> set[int]:
    """Those of `ids` that ended a run: a scan of the runs (no index by runner), done once per
    runner that went away before the probe saw it claim."""
    query = select(JobAttempt.runner_id).where(JobAttempt.runner_id.in_(ids)).distinct()
    return {rid for rid in session.scalars(query) if rid is not None}


def first_line(path: Path | None) -> str:
    """The first line of a pilot's log ("" while it has none)."""
    if path is None:
        return ""
    try:
        with path.open(errors="replace") as handle:
            return handle.readline()
    except OSError:
        return ""


class RunnerProbe:
    """Fills in the runner facts of a dispatcher's pilot records from the database."""

    def __init__(self, app: Brownthrower, log_of: Callable[[str], Path | None]) -> None:
        self.app = app
        self.log_of = log_of
        self._looked: set[int] = set()  #: gone runners whose runs were looked for

    def update(self, records: Sequence[Tracked]) -> None:
        """Runner ids, busy and claimed for `records` (`BrownthrowerError` if the database
        fails; the records then keep what they had)."""
        for tracked in records:
            if tracked.where is None:
                tracked.where = banner(first_line(self.log_of(tracked.batch_id)))
        with self.app.db.read() as session:
            self._update(session, records)

    def _update(self, session: Session, records: Sequence[Tracked]) -> None:
        places = {t.where for t in records if t.where is not None}
        found = runners_at(session, places) if places else {}
        for tracked in records:
            rid = found.get(tracked.where) if tracked.where else None
            tracked.registered = rid is not None
            if rid is not None:
                tracked.runners.add(rid)
        ids = {rid for t in records for rid in t.runners}
        busy = busy_runners(session, ids) if ids else set()
        for tracked in records:
            tracked.busy = tracked.registered and bool(tracked.runners & busy)
            tracked.claimed = tracked.claimed or tracked.busy
        self._claims(session, records)

    def _claims(self, session: Session, records: Sequence[Tracked]) -> None:
        """Claims of runners not known to have claimed: the flag in their runner rows; for a
        runner gone since the last pass (its row with it), the runs it ended, looked for once."""
        unproven = {rid for t in records if not t.claimed for rid in t.runners}
        found = claimers(session, unproven) if unproven else set()
        gone = {rid for t in records if not t.registered for rid in t.runners} - self._looked
        gone &= unproven
        if gone:
            found |= ran_jobs(session, gone)
            self._looked |= gone
        for tracked in records:
            tracked.claimed = tracked.claimed or bool(tracked.runners & found)
