"""One attempt of one job as the reports read it: identity, outcome, times and figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bt.usage import Usage

RETRIED = "retried"  #: outcome of a failed attempt after which the job was queued again
REQUEUED = "requeued"  #: outcome of an attempt given back (pre-empted, fenced, runner lost)
RUNNING = ""  #: outcome of an attempt still running
FAILED_OUTCOMES = frozenset({"FAILED", RETRIED})
#: the status a job is in after an attempt with this outcome, if not the outcome itself
STATUS_AFTER = {RETRIED: "QUEUED", REQUEUED: "QUEUED", RUNNING: "RUNNING"}
NO_REASON = "(no reason given)"


@dataclass(frozen=True)
class AttemptRecord:
    """One run of a job's code (an attempt, or the epilog that finished it)."""

    job_id: int
    attempt: int
    name: str  #: the task
    outcome: str  #: the status it ended in, `RETRIED`, `REQUEUED`, or `RUNNING` ("")
    runner_id: int | None = None
    host: str | None = None
    slot: int | None = None  #: the runner's slot it ran in, when known
    queued_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    exit_code: int | None = None
    reason: str | None = None
    usage: Usage | None = None

    @property
    def wait(self) -> float | None:
        """Seconds from queued to started, when both are known."""
        return _seconds(self.queued_at, self.started_at)

    @property
    def run(self) -> float | None:
        """Seconds from started to ended, when both are known."""
        return _seconds(self.started_at, self.ended_at)

    @property
    def failed(self) -> bool:
        return self.outcome in FAILED_OUTCOMES

    @property
    def status_after(self) -> str:
        """The job's status right after this attempt (its final status, for its last one)."""
        return STATUS_AFTER.get(self.outcome, self.outcome)

    @property
    def reason_line(self) -> str:
        """The reason's first line, at most 200 characters: what failures are grouped by."""
        line = (self.reason or "").strip().split("\n", 1)[0].strip()
        return line[:200] if line else NO_REASON


def _seconds(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def latest_per_job(records: list[AttemptRecord]) -> dict[int, AttemptRecord]:
    """Each job's last attempt (highest attempt number, then latest start)."""
    latest: dict[int, AttemptRecord] = {}
    for record in records:
        seen = latest.get(record.job_id)
        if seen is None or _order(record) >= _order(seen):
            latest[record.job_id] = record
    return latest


_EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)


def _order(record: AttemptRecord) -> tuple[int, dt.datetime]:
    return record.attempt, utc(record.started_at) or _EPOCH


def utc(moment: dt.datetime | None) -> dt.datetime | None:
    """`moment` as an aware UTC time (a naive one is taken as UTC already)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
