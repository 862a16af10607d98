"""Plain, immutable views of jobs and tags: what services return instead of ORM objects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bt.errors import JobNotFound
from bt.models import Job
from bt.status import Status

SUMMARY_COLUMNS = (
    Job.id,
    Job.super_id,
    Job.name,
    Job.status,
    Job.priority,
    Job.attempts,
    Job.ts_created,
    Job.ts_queued,
    Job.ts_started,
    Job.ts_ended,
)


@dataclass(frozen=True)
class JobInfo:
    """One row of `job list`: identity, status and timestamps (no YAML)."""

    id: int
    super_id: int | None
    name: str
    status: Status
    priority: int = 0
    attempts: int = 0
    created: dt.datetime | None = None
    queued: dt.datetime | None = None
    started: dt.datetime | None = None
    ended: dt.datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "super_id": self.super_id,
            "name": self.name,
            "status": self.status.value,
            "priority": self.priority,
            "attempts": self.attempts,
            "created": _iso(self.created),
            "queued": _iso(self.queued),
            "started": _iso(self.started),
            "ended": _iso(self.ended),
        }


@dataclass(frozen=True)
class JobDetails(JobInfo):
    """Everything about one job, for `job show` and the editor."""

    description: str = ""
    config: str | None = None
    input: str | None = None
    output: str | None = None
    max_attempts: int = 3
    runner_id: int | None = None
    subjobs: int = 0
    subjobs_done: int = 0
    subjobs_failed: int = 0
    pending_parents: int = 0
    parents: Sequence[int] = field(default_factory=tuple)
    children: Sequence[int] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {
            **super().as_dict(),
            "description": self.description,
            "config": self.config,
            "input": self.input,
            "output": self.output,
            "max_attempts": self.max_attempts,
            "runner_id": self.runner_id,
            "subjobs": self.subjobs,
            "subjobs_done": self.subjobs_done,
            "subjobs_failed": self.subjobs_failed,
            "pending_parents": self.pending_parents,
            "parents": list(self.parents),
            "children": list(self.children),
        }


@dataclass(frozen=True)
class TagInfo:
    job_id: int
    name: str
    value: str


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def info_from_row(row: Any) -> JobInfo:
    return JobInfo(
        row.id,
        row.super_id,
        row.name,
        row.status,
        row.priority,
        row.attempts,
        row.ts_created,
        row.ts_queued,
        row.ts_started,
        row.ts_ended,
    )


def job_info(session: Session, job_id: int) -> JobInfo:
    row = session.execute(select(*SUMMARY_COLUMNS).where(Job.id == job_id)).one_or_none()
    if row is None:
        raise JobNotFound(job_id)
    return info_from_row(row)


def job_infos(session: Session, ids: Sequence[int]) -> list[JobInfo]:
    rows = session.execute(select(*SUMMARY_COLUMNS).where(Job.id.in_(ids)).order_by(Job.id))
    return [info_from_row(row) for row in rows]
