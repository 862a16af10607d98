"""A job's history: its status changes (`job history --events`) and its attempts (`job history`).

Two tables hold it: `job_event`, one row per status change that ends no run (creation,
submission, derived changes, resets, aborts of jobs not running...), and `job_attempt`, one row
per run written when it ends, which stands for the run's two changes (its claim, QUEUED →
RUNNING, and its end). `events` merges them back into one sequence: a run's changes go right
after the event that preceded its end (`job_attempt.after_event`), and the claim of a run under
way comes from the job row. Attempts are folded from that sequence by one rule
(`attempts_from`), so `job history` and `job history --events` always agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bt.errors import JobNotFound
from bt.models import ATTEMPT, JOB, JOB_EVENT, RUNNER
from bt.status import Status
from bt.usage import from_stored
from bt.values import GIVEN_BACK, Attempt, JobEvent

_CURRENT = (
    select(JOB.c.status, JOB.c.ts_started, JOB.c.attempts, JOB.c.runner_id, RUNNER.c.host)
    .outerjoin(RUNNER, RUNNER.c.id == JOB.c.runner_id)
)  # fmt: skip


def events(session: Session, job_id: int) -> list[JobEvent]:
    """Every status change of a job, oldest first (`job history --events`)."""
    job = session.execute(_CURRENT.where(JOB.c.id == job_id)).one_or_none()
    if job is None:
        raise JobNotFound(job_id)
    changes = session.execute(
        select(JOB_EVENT).where(JOB_EVENT.c.job_id == job_id).order_by(JOB_EVENT.c.id)
    )
    runs = session.execute(
        select(ATTEMPT).where(ATTEMPT.c.job_id == job_id).order_by(ATTEMPT.c.seq)
    )
    keyed = [((row.id, 0, 0), [_event(row)]) for row in changes]
    keyed += [((row.after_event or 0, 1, row.seq), list(run_events(row))) for row in runs]
    history = [event for _, pair in sorted(keyed, key=lambda item: item[0]) for event in pair]
    if job.status is Status.RUNNING:
        history.append(_claim(job.ts_started, job.attempts, job.runner_id, job.host))
    return history


def attempts(session: Session, job_id: int) -> list[Attempt]:
    """One row per run of the job's own code (`job history`)."""
    return attempts_from(events(session, job_id))


def _event(row: Any) -> JobEvent:
    return JobEvent(
        row.at, row.old_status, row.new_status, row.attempt, row.runner_id, row.host,
        row.exit_code, row.reason, row.traceback, row.stderr,
    )  # fmt: skip


def _claim(
    at: dt.datetime | None, attempt: int, runner_id: int | None, host: str | None
) -> JobEvent:
    # a run's start is never unknown; the epoch stands in should a row ever lack it
    start = at or dt.datetime.fromtimestamp(0, dt.UTC)
    return JobEvent(start, Status.QUEUED, Status.RUNNING, attempt, runner_id, host)


def run_events(row: Any) -> Iterator[JobEvent]:
    """The two status changes a `job_attempt` row stands for: the claim and the end."""
    yield _claim(row.started_at, row.attempt, row.runner_id, row.host)
    usage = from_stored(row, exit_code=row.exit_code, host=row.host)
    yield JobEvent(
        row.ended_at, Status.RUNNING, row.outcome, row.attempt, row.runner_id, row.host,
        row.exit_code, row.reason, row.traceback, row.stderr, usage,
    )  # fmt: skip


#: how an attempt ended, by the status change that ended it
ENDINGS = {Status.DONE: "DONE", Status.FAILED: "FAILED", Status.STAND_BY: "STAND-BY"}


def attempts_from(history: Sequence[JobEvent]) -> list[Attempt]:
    """Fold a job's events into its attempts: an attempt starts at a claim (QUEUED → RUNNING)
    and ends at the next change out of RUNNING; a superjob's epilog continues its attempt. A
    claim given back unstarted is no attempt: the attempts stay as they were before it."""
    found: dict[int, dict[str, Any]] = {}
    queued: dt.datetime | None = None
    running: int | None = None  #: the attempt of the run under way
    before: dict[str, Any] | None = None  #: its row as it was before its claim
    for event in history:
        given_back = event.reason == GIVEN_BACK and event.old_status is Status.RUNNING
        if event.new_status is Status.QUEUED and not given_back:
            queued = event.at
        if event.old_status is Status.QUEUED and event.new_status is Status.RUNNING:
            running = event.attempt
            before = dict(found[running]) if running in found else None
            row = found.setdefault(running, {"number": running, "queued": queued})
            row.setdefault("started", event.at)
            row.update(runner_id=event.runner_id, host=event.host, ended=None, outcome="")
        elif event.old_status is Status.RUNNING and running in found:
            if not given_back:
                found[running].update(_ending(event))
            elif before is None:
                del found[running]
            else:
                found[running] = before
            running = None
    return [Attempt(**row) for _, row in sorted(found.items())]


def _ending(event: JobEvent) -> dict[str, Any]:
    outcome = ENDINGS.get(event.new_status, "")
    if event.new_status is Status.QUEUED:  # a retry keeps its failure; a requeue has none
        outcome = "retried" if event.traceback else "requeued"
    return {
        "ended": event.at,
        "outcome": outcome,
        "exit_code": event.exit_code,
        "reason": event.reason,
        "traceback": event.traceback,
        "stderr": event.stderr,
        "usage": event.usage,
    }


__all__ = ["ENDINGS", "attempts", "attempts_from", "events", "run_events"]
