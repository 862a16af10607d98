"""The attempts of the jobs a filter selects, as `bt.report` reads them: for `job trace`,
`job stats` and `job report`.

One query reads the selected jobs' `job_attempt` rows (one per run, with the job's task name)
and another their runs under way (the job rows); runs become attempts by the rules of
`bt.history.attempts_from`: a run given back unstarted is none, and a superjob's epilog
continues the attempt its prolog began. Statistics are `bt.report.group_stats` of those
records: type-7 quantiles, the same as PostgreSQL's `percentile_cont`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import groupby
from operator import attrgetter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bt import attempt_stats, filters
from bt.history import ENDINGS
from bt.models import ATTEMPT, JOB, RUNNER, USAGE_COLUMNS
from bt.report import AttemptRecord, GroupStats
from bt.report.stats import GroupBy
from bt.status import Status
from bt.usage import from_stored
from bt.values import GIVEN_BACK

_RUN_COLUMNS = (
    ATTEMPT.c.job_id, JOB.c.name, ATTEMPT.c.attempt, ATTEMPT.c.outcome, ATTEMPT.c.runner_id,
    ATTEMPT.c.host, ATTEMPT.c.queued_at, ATTEMPT.c.started_at, ATTEMPT.c.ended_at,
    ATTEMPT.c.exit_code, ATTEMPT.c.reason, ATTEMPT.c.traceback.is_not(None).label("failed"),
    *(ATTEMPT.c[name] for name in USAGE_COLUMNS),
)  # fmt: skip
_RUNNING_COLUMNS = (
    JOB.c.id, JOB.c.name, JOB.c.attempts, JOB.c.runner_id, RUNNER.c.host, JOB.c.ts_queued,
    JOB.c.ts_started,
)  # fmt: skip


def records(session: Session, terms: Sequence[str] = ()) -> list[AttemptRecord]:
    """Every attempt of the jobs matching all filter `terms` (`bt.filters`; all jobs without),
    by job id then attempt; `FilterError` for a bad term."""
    where = filters.condition(terms)
    runs = session.execute(
        select(*_RUN_COLUMNS)
        .join(JOB, JOB.c.id == ATTEMPT.c.job_id)
        .where(where)
        .order_by(ATTEMPT.c.job_id, ATTEMPT.c.seq)
    )
    ended = {
        job_id: list(_attempts(list(rows)))
        for job_id, rows in groupby(runs, key=attrgetter("job_id"))
    }
    for row in session.execute(_running().where(where, JOB.c.status == Status.RUNNING)):
        ended.setdefault(row.id, []).append(_running_record(row, ended.get(row.id, [])))
    return [record for _, found in sorted(ended.items()) for record in found]


def stats(session: Session, terms: Sequence[str] = (), by: GroupBy = "task") -> list[GroupStats]:
    """`job stats`: the statistics of the selected jobs' attempts per task, status or host
    (`bt.report.group_stats` of their `records`, computed in the database)."""
    return attempt_stats.group_stats(session, terms, by)


def _running() -> Any:
    return select(*_RUNNING_COLUMNS).outerjoin(RUNNER, RUNNER.c.id == JOB.c.runner_id)


def _attempts(runs: Sequence[Any]) -> Iterator[AttemptRecord]:
    """One job's runs as its attempts (see the module's docstring)."""
    prolog: Any = None
    for run in runs:
        if run.outcome is Status.QUEUED and run.reason == GIVEN_BACK:
            continue
        if run.outcome is Status.STAND_BY:
            prolog = run
            continue
        first = prolog if prolog is not None and prolog.attempt == run.attempt else run
        prolog = None
        yield _record(run, first)
    if prolog is not None:
        yield _record(prolog, prolog)


def _record(run: Any, first: Any) -> AttemptRecord:
    outcome = ENDINGS.get(run.outcome, "")
    if run.outcome is Status.QUEUED:
        outcome = "retried" if run.failed else "requeued"
    return AttemptRecord(
        job_id=run.job_id,
        attempt=run.attempt,
        name=run.name,
        outcome=outcome,
        runner_id=run.runner_id,
        host=run.host,
        queued_at=first.queued_at,
        started_at=first.started_at,
        ended_at=run.ended_at,
        exit_code=run.exit_code,
        reason=run.reason,
        usage=from_stored(run, exit_code=run.exit_code, host=run.host),
    )


def _running_record(row: Any, before: Sequence[AttemptRecord]) -> AttemptRecord:
    put_back = before and before[-1].outcome in ("retried", "requeued")
    queued = before[-1].ended_at if put_back else row.ts_queued
    return AttemptRecord(
        job_id=row.id,
        attempt=row.attempts,
        name=row.name,
        outcome="",
        runner_id=row.runner_id,
        host=row.host,
        queued_at=queued,
        started_at=row.ts_started,
        ended_at=None,
        exit_code=None,
        reason=None,
        usage=None,
    )
