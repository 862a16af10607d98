"""Statistics of attempts, per task (or status, or host): the reference `job stats` computes.

Quantiles are exact, by linear interpolation between the closest ranks (Hyndman and Fan's type
7): the q-quantile of n sorted values x[0..n-1] is x[i] + f * (x[i+1] - x[i]) with i + f = q *
(n - 1). It is PostgreSQL's `percentile_cont` and numpy's default, so the database can compute the
same figures.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from bt.report.records import AttemptRecord, latest_per_job, utc

TOP = 5  #: failure reasons, slowest and largest jobs listed per group
GroupBy = Literal["task", "status", "host"]


def quantile(ordered: Sequence[float], q: float) -> float | None:
    """The `q`-quantile (0 ≤ q ≤ 1) of values sorted ascending; None when there are none."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"a quantile is between 0 and 1, not {q}")
    if not ordered:
        return None
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Spread:
    """How values spread: count, total, min, quartiles, p90, max (None when there are none)."""

    count: int
    total: float
    min: float | None
    p25: float | None
    p50: float | None
    p75: float | None
    p90: float | None
    max: float | None

    @classmethod
    def of(cls, values: Iterable[float | None]) -> Spread:
        ordered = sorted(v for v in values if v is not None)
        p25, p50, p75, p90 = (quantile(ordered, q) for q in (0.25, 0.5, 0.75, 0.9))
        low, high = (ordered[0], ordered[-1]) if ordered else (None, None)
        return cls(len(ordered), math.fsum(ordered), low, p25, p50, p75, p90, high)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Metric:
    """A per-attempt figure that statistics and box plots show."""

    name: str
    title: str
    unit: Literal["s", "B", "ratio"]
    get: Callable[[AttemptRecord], float | None]


def _usage(field: str) -> Callable[[AttemptRecord], float | None]:
    return lambda r: None if r.usage is None else getattr(r.usage, field)


METRICS = (
    Metric("wait", "Wait (queued to started)", "s", lambda r: r.wait),
    Metric("run", "Run time (started to ended)", "s", lambda r: r.run),
    Metric("cpu_efficiency", "CPU efficiency ((user + sys) / wall)", "ratio",
           lambda r: None if r.usage is None else r.usage.cpu_efficiency),
    Metric("peak_rss", "Peak RSS (largest process)", "B", _usage("peak_rss")),
    Metric("rchar", "Read (rchar)", "B", _usage("rchar")),
    Metric("wchar", "Written (wchar)", "B", _usage("wchar")),
)  # fmt: skip
METRIC = {metric.name: metric for metric in METRICS}


@dataclass(frozen=True)
class GroupStats:
    """The statistics of one task's (status's, host's) attempts."""

    key: str
    jobs: int
    attempts: int
    measured: int  #: attempts with resource figures
    by_status: dict[str, int]  #: jobs by the status their last attempt here left them in
    retries: int  #: failed attempts after which the job was queued again
    wait: Spread
    run: Spread
    cpu_efficiency: Spread
    peak_rss: Spread
    cpu_seconds: float  #: user + system
    rchar: int
    wchar: int
    read_bytes: int
    write_bytes: int
    failures: list[tuple[str, int]]  #: the top reasons (first line) with their counts
    slowest: list[int]  #: ids of the jobs with the longest runs
    largest: list[int]  #: ids of the jobs with the largest peak RSS

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["failures"] = [{"reason": r, "count": n} for r, n in self.failures]
        return data


def group_key(record: AttemptRecord, by: GroupBy) -> str:
    if by == "task":
        return record.name
    if by == "status":
        return record.status_after
    return record.host or "(unknown host)"


def group_stats(records: Iterable[AttemptRecord], by: GroupBy = "task") -> list[GroupStats]:
    """Statistics per group of attempts, by key."""
    groups: dict[str, list[AttemptRecord]] = {}
    for record in records:
        groups.setdefault(group_key(record, by), []).append(record)
    return [stats_of(key, groups[key]) for key in sorted(groups)]


def stats_of(key: str, records: list[AttemptRecord]) -> GroupStats:
    latest = latest_per_job(records).values()
    measured = [r.usage for r in records if r.usage is not None]
    return GroupStats(
        key=key,
        jobs=len(latest),
        attempts=len(records),
        measured=len(measured),
        by_status=dict(sorted(Counter(r.status_after for r in latest).items())),
        retries=sum(r.outcome == "retried" for r in records),
        wait=_spread(records, "wait"),
        run=_spread(records, "run"),
        cpu_efficiency=_spread(records, "cpu_efficiency"),
        peak_rss=_spread(records, "peak_rss"),
        cpu_seconds=math.fsum(u.cpu for u in measured),
        rchar=sum(u.rchar or 0 for u in measured),
        wchar=sum(u.wchar or 0 for u in measured),
        read_bytes=sum(u.read_bytes or 0 for u in measured),
        write_bytes=sum(u.write_bytes or 0 for u in measured),
        failures=top_reasons(records, TOP),
        slowest=top_jobs(records, METRIC["run"].get),
        largest=top_jobs(records, METRIC["peak_rss"].get),
    )


def _spread(records: list[AttemptRecord], metric: str) -> Spread:
    return Spread.of(METRIC[metric].get(record) for record in records)


def top_reasons(records: Iterable[AttemptRecord], limit: int | None) -> list[tuple[str, int]]:
    """The reasons of failed attempts (first line) with their counts, most frequent first,
    ties by reason."""
    counts = Counter(r.reason_line for r in records if r.failed)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


def top_jobs(
    records: Iterable[AttemptRecord],
    value: Callable[[AttemptRecord], float | None],
    limit: int = TOP,
) -> list[int]:
    """Ids of the jobs with the highest `value` over their attempts, highest first (ties by
    id)."""
    best: dict[int, float] = {}
    for record in records:
        figure = value(record)
        if figure is not None and figure > best.get(record.job_id, -math.inf):
            best[record.job_id] = figure
    return sorted(best, key=lambda job: (-best[job], job))[:limit]


@dataclass(frozen=True)
class Summary:
    """A whole set of attempts at a glance (a campaign)."""

    jobs: int
    attempts: int
    measured: int  #: attempts with resource figures
    by_status: dict[str, int]  #: jobs by the status their last attempt left them in
    cpu_hours: float  #: user + system
    first: dt.datetime | None  #: the earliest queued (or started) time
    last: dt.datetime | None  #: the latest ended (or started) time
    failed_attempts: int
    failures: list[tuple[str, int]]  #: every reason (first line) with its count

    @property
    def span(self) -> float | None:
        """Wall seconds from `first` to `last`."""
        if self.first is None or self.last is None:
            return None
        return (self.last - self.first).total_seconds()

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(span=self.span, first=_iso(self.first), last=_iso(self.last))
        data["failures"] = [{"reason": r, "count": n} for r, n in self.failures]
        return data


def summarize(records: Sequence[AttemptRecord]) -> Summary:
    latest = latest_per_job(list(records)).values()
    measured = [r.usage for r in records if r.usage is not None]
    starts = [t for r in records if (t := utc(r.queued_at or r.started_at)) is not None]
    ends = [t for r in records if (t := utc(r.ended_at or r.started_at)) is not None]
    return Summary(
        jobs=len(latest),
        attempts=len(records),
        measured=len(measured),
        by_status=dict(sorted(Counter(r.status_after for r in latest).items())),
        cpu_hours=math.fsum(u.cpu for u in measured) / 3600,
        first=min(starts, default=None),
        last=max(ends, default=None),
        failed_attempts=sum(r.failed for r in records),
        failures=top_reasons(records, None),
    )


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
