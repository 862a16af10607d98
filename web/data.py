"""What each page and API answer shows, read from the services: one function per view, bounded.

Pages (`web.pages`) and the JSON API (`web.api`) call the same functions, so they always agree.
Every read is bounded: a page of jobs, the first subjobs, the latest failures, the latest
`MAX_STATS_JOBS` jobs of a filter for its statistics; no page lists all jobs.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from bt import Brownthrower, errors, tagnames
from bt.dashboard import Failure, TaskCounts, Throughput
from bt.report import AttemptRecord, GroupStats
from bt.report.stats import GroupBy
from bt.status import Status
from bt.values import Attempt, JobDetails, JobInfo, LimitInfo, LiveRunner, Neighbourhood, TagInfo

T = TypeVar("T")
log = logging.getLogger("web.data")

PAGE_SIZE = 50  #: jobs per page of the job list
MAX_PAGE = 500  #: the largest page a request may ask for
JOB_COLUMNS = ("id", "super_id", "name", "status", "created", "queued", "started", "ended")
#: the columns a job list can be sorted by (`job list --sort`)
SORTS = ("id", "super_id", "name", "status", "priority", "attempts",
         "created", "queued", "started", "ended", "elapsed")  # fmt: skip
SHOWN_SUBJOBS = 100  #: subjobs listed on a job's page (the rest through the job list)
TAIL = 20_000  #: characters of a captured stream shown (its end)
MAX_TAG = 20_000  #: characters of any other tag shown (its start)
STREAMS = (tagnames.STDOUT, tagnames.STDERR, tagnames.LOG)
MAX_STATS_JOBS = 5_000  #: the latest jobs of a filter a statistics page reads (300 ms at 200k)
SLOW_EVERY = 30.0  #: seconds a figure that reads many rows is kept before it is read again
GROUP_BYS: tuple[GroupBy, ...] = ("task", "status", "host")


def terms_of(text: str | None) -> list[str]:
    """The filter terms typed in a filter box (`status=FAILED name=sim_*`)."""
    return (text or "").split()


class Every(Generic[T]):
    """A value read again at most every `seconds`, shared by every request, for figures that
    read many rows (the CPU-hours of every attempt). Only the first request waits for it: once
    it is older than `seconds`, a request gets the value it has while a thread reads the next."""

    def __init__(self, seconds: float, read: Callable[[], T]) -> None:
        self.seconds = seconds
        self.read = read
        self._lock = threading.Lock()
        self._value: T | None = None
        self._at = -float("inf")
        self._reading = False

    def get(self) -> T:
        with self._lock:
            value, stale = self._value, time.monotonic() - self._at >= self.seconds
            if value is not None and (not stale or self._reading):
                return value
            self._reading = value is not None
        if value is None:
            return self._refresh()
        threading.Thread(target=self._refresh_quietly, name="web-every", daemon=True).start()
        return value

    def _refresh_quietly(self) -> None:
        try:
            self._refresh()
        except Exception:  # the old value stays; the next request tries again
            log.exception("slow_figure_failed")

    def _refresh(self) -> T:
        try:
            value = self.read()
        finally:
            with self._lock:
                self._reading = False
        with self._lock:
            self._value, self._at = value, time.monotonic()
        return value


# -- overview --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    """The overview page: counts, throughput, CPU-hours, the latest failures."""

    counts: dict[str, int]
    by_task: list[TaskCounts]
    more_tasks: int
    throughput: Throughput
    cpu_hours: float
    failures: list[Failure]
    runners: int
    now: dt.datetime


def cpu_hours(app: Brownthrower) -> float:
    """User + system CPU-hours of every attempt measured so far."""
    return app.dashboard.cpu_seconds() / 3600


def overview(app: Brownthrower, cpu: Callable[[], float]) -> Overview:
    """The overview; `cpu` gives the CPU-hours (kept a while: they read every attempt)."""
    by_task, more = app.dashboard.counts_by_task()
    return Overview(
        counts=app.jobs.counts(),
        by_task=by_task,
        more_tasks=more,
        throughput=app.dashboard.throughput(),
        cpu_hours=cpu(),
        failures=app.dashboard.last_failures(limit=10),
        runners=len(app.runners.list()),
        now=dt.datetime.now(dt.UTC),
    )


# -- job list --------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobList:
    """One page of the job list with the request that chose it (or why it was refused)."""

    filter: str
    sort: str | None
    newest_first: bool
    after: int | None
    limit: int
    jobs: list[JobInfo] = field(default_factory=list)
    next_after: int | None = None
    error: str | None = None


def job_list(
    app: Brownthrower,
    filter_text: str = "",
    *,
    sort: str | None = None,
    newest_first: bool = False,
    after: int | None = None,
    limit: int = PAGE_SIZE,
) -> JobList:
    """A page of the jobs the filter selects; a bad filter or sort gives an `error`."""
    limit = max(1, min(limit, MAX_PAGE))
    request = JobList(filter_text.strip(), sort, newest_first, after, limit)
    if sort is not None and sort not in SORTS:
        return _refused(request, f"Cannot sort by {sort!r}; columns: {', '.join(SORTS)}.")
    try:
        page = app.jobs.list(
            terms_of(filter_text), limit=limit, after=after, newest_first=newest_first, sort=sort
        )
    except (errors.InvalidValue, errors.JobNotFound) as exc:
        return _refused(request, str(exc))
    return JobList(*_fields(request)[:5], jobs=page.jobs, next_after=page.next_after)


def _fields(request: JobList) -> tuple[str, str | None, bool, int | None, int]:
    return request.filter, request.sort, request.newest_first, request.after, request.limit


def _refused(request: JobList, error: str) -> JobList:
    return JobList(*_fields(request), error=error)


# -- one job ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobPage:
    """Everything the job page shows."""

    job: JobDetails
    attempts: list[Attempt]
    tags: list[TagInfo]  #: tags other than the captured streams and the traceback
    streams: dict[str, str]  #: the tail of each captured stream it has
    traceback: str | None
    near: Neighbourhood
    now: dt.datetime

    @property
    def live(self) -> bool:
        return self.job.status in (Status.QUEUED, Status.RUNNING)


def job_page(app: Brownthrower, job_id: int) -> JobPage:
    """A job's page; `JobNotFound`."""
    job = app.jobs.get(job_id)
    tags = app.tags.list(job_id)
    by_name = {t.name: t.value for t in tags}
    near = app.jobs.neighbourhood(job_id)
    return JobPage(
        job=job,
        attempts=app.jobs.history(job_id) if job.started or job.attempts else [],
        tags=[_cut(t) for t in tags if t.name not in (*STREAMS, tagnames.TRACEBACK)],
        streams={name: tail(by_name[name]) for name in STREAMS if name in by_name},
        traceback=by_name.get(tagnames.TRACEBACK),
        near=Neighbourhood(
            near.job,
            near.parents,
            near.children,
            near.superjob,
            near.subjobs[:SHOWN_SUBJOBS],
            near.more_subjobs + len(near.subjobs[SHOWN_SUBJOBS:]),
        ),
        now=dt.datetime.now(dt.UTC),
    )


def streams(app: Brownthrower, job_id: int) -> tuple[JobInfo, dict[str, str]]:
    """A job's status and the tails of its captured streams (the live part of its page)."""
    info = app.jobs.info(job_id)
    tags = {t.name: t.value for t in app.tags.list(job_id) if t.name in STREAMS}
    return info, {name: tail(tags[name]) for name in STREAMS if name in tags}


def tail(text: str, size: int = TAIL) -> str:
    """The end of a long text, marked as cut."""
    return (
        text if len(text) <= size else f"[... {len(text) - size:,} characters ...]\n" + text[-size:]
    )


def _cut(tag: TagInfo) -> TagInfo:
    if len(tag.value) <= MAX_TAG:
        return tag
    cut = len(tag.value) - MAX_TAG
    return TagInfo(tag.job_id, tag.name, tag.value[:MAX_TAG] + f"\n[... {cut:,} characters ...]")


# -- runners and limits ----------------------------------------------------------------------


@dataclass(frozen=True)
class RunnerRow:
    """A runner as the runners page shows it."""

    runner: LiveRunner
    heartbeat_age: float
    stale: bool  #: its lease expired: it is lost unless it comes back
    done: int
    failed: int
    batch_id: str | None


def runners(app: Brownthrower) -> list[RunnerRow]:
    """Every registered runner, with its finished attempts and whether its lease expired."""
    now = dt.datetime.now(dt.UTC)
    found = app.runners.list()
    tallies = app.dashboard.runner_tallies([r.id for r in found])
    rows = []
    for r in found:
        tally = tallies[r.id]
        rows.append(RunnerRow(r, max(0.0, (now - r.heartbeat_at).total_seconds()),
                              r.expires_at < now, tally.done, tally.failed,
                              tally.batch_id))  # fmt: skip
    return rows


def limits(app: Brownthrower) -> list[LimitInfo]:
    """Every concurrency limit."""
    return app.limits.list()


# -- statistics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    """The statistics page: per-group figures and the attempts for the plots, of the latest
    `MAX_STATS_JOBS` selected jobs."""

    filter: str
    by: GroupBy
    groups: list[GroupStats] = field(default_factory=list)
    records: list[AttemptRecord] = field(default_factory=list)
    sampled: bool = False  #: only the latest `MAX_STATS_JOBS` jobs were read
    error: str | None = None


def stats(app: Brownthrower, filter_text: str = "", by: GroupBy = "task", *,
          plots: bool = True) -> Stats:  # fmt: skip
    """The statistics of the jobs the filter selects (the plots' records only with `plots`)."""
    terms = terms_of(filter_text)
    try:
        latest, sampled = _latest(app, terms)
        groups = app.jobs.stats(latest, by)
        records = app.jobs.attempt_records(latest) if plots else []
    except errors.InvalidValue as exc:
        return Stats(filter_text.strip(), by, error=str(exc))
    return Stats(filter_text.strip(), by, groups, records, sampled)


def _latest(app: Brownthrower, terms: Sequence[str]) -> tuple[list[str], bool]:
    """The terms of the latest `MAX_STATS_JOBS` jobs the filter selects (a page never reads
    more), and whether there are more."""
    page = app.jobs.list(terms, limit=MAX_STATS_JOBS, newest_first=True)
    if page.next_after is None or not page.jobs:
        return list(terms), False
    return [*terms, f"id>={min(job.id for job in page.jobs)}"], True
