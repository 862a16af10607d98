"""The attempts of the jobs a filter selects, as `bt.report` reads them: for `job trace`,
`job stats` and `job report`.

One query reads just the history events that start or end attempts (with the job's task
name), ordered by job and event; each job's events are folded into attempts exactly as
`job history` folds them (`bt.listing.attempts_from`), so every command agrees on what an
attempt was. Statistics are `bt.report.group_stats` of those records: type-7 quantiles, the
same as PostgreSQL's `percentile_cont`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bt import filters
from bt.listing import attempts_from
from bt.models import USAGE_COLUMNS, Job, JobEvent
from bt.report import AttemptRecord, GroupStats, group_stats
from bt.report.stats import GroupBy
from bt.status import Status
from bt.usage import from_stored
from bt.values import Attempt
from bt.values import JobEvent as JobEvent_

_EVENT_COLUMNS = (
    JobEvent.job_id, Job.name, JobEvent.at, JobEvent.old_status, JobEvent.new_status,
    JobEvent.attempt, JobEvent.runner_id, JobEvent.host, JobEvent.exit_code, JobEvent.reason,
    JobEvent.traceback.is_not(None).label("failed"),
    *(JobEvent.__table__.c[name] for name in USAGE_COLUMNS),
)  # fmt: skip
NOT_READ = "(not read)"  #: the traceback of a failed attempt, which the reports do not read
#: the events that start or end attempts (and the QUEUED times their waits start from)
_ATTEMPT_EVENTS = or_(
    JobEvent.new_status.in_([Status.QUEUED, Status.RUNNING]),
    JobEvent.old_status == Status.RUNNING,
)


def records(session: Session, terms: Sequence[str] = ()) -> list[AttemptRecord]:
    """Every attempt of the jobs matching all filter `terms` (`bt.filters`; all jobs without),
    by job id then attempt; `FilterError` for a bad term."""
    query = (
        select(*_EVENT_COLUMNS)
        .join(Job, Job.id == JobEvent.job_id)
        .where(filters.condition(terms), _ATTEMPT_EVENTS)
        .order_by(JobEvent.job_id, JobEvent.id)
    )
    rows = session.execute(query)
    return [
        record(job_id, name, attempt)
        for (job_id, name), events in groupby(rows, key=itemgetter(0, 1))
        for attempt in attempts_from(list(_events(events)))
    ]


def stats(session: Session, terms: Sequence[str] = (), by: GroupBy = "task") -> list[GroupStats]:
    """`job stats`: the statistics of the selected jobs' attempts per task, status or host."""
    return group_stats(records(session, terms), by)


def _events(rows: Any) -> Iterator[JobEvent_]:
    for row in rows:
        usage = from_stored(row, exit_code=row.exit_code, host=row.host)
        yield JobEvent_(
            row.at, row.old_status, row.new_status, row.attempt, row.runner_id, row.host,
            row.exit_code, row.reason, NOT_READ if row.failed else None, None, usage,
        )  # fmt: skip


def record(job_id: int, name: str, attempt: Attempt) -> AttemptRecord:
    """One `job history` attempt of job `job_id` (task `name`) as a report record."""
    return AttemptRecord(
        job_id=job_id,
        attempt=attempt.number,
        name=name,
        outcome=attempt.outcome,
        runner_id=attempt.runner_id,
        host=attempt.host,
        queued_at=attempt.queued,
        started_at=attempt.started,
        ended_at=attempt.ended,
        exit_code=attempt.exit_code,
        reason=attempt.reason,
        usage=attempt.usage,
    )
