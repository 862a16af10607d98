"""Each attempt record's group and figures (the `facts`), the per-group aggregates and failure
reasons both databases compute from them, and a group's `GroupStats` from what was found."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.selectable import Select

from bt.attempt_stats.records import DONE, FAILED, QUEUED, RUNNING, STAND_BY, records
from bt.report.records import NO_REASON
from bt.report.stats import TOP, GroupBy, GroupStats, Spread

QUANTILES = (0.25, 0.5, 0.75, 0.9)  #: the `Spread` fields p25, p50, p75, p90
METRICS = ("wait", "run", "cpu_efficiency", "peak_rss")  #: the `Spread`s of a group
TOPS = {"run": "slowest", "peak_rss": "largest"}  #: the jobs listed by their best attempt
BEST = {m: f"best_{m}" for m in TOPS}  #: the flag of a job's best record for each top list
SUMS = ("cpu_seconds", "rchar", "wchar", "read_bytes", "write_bytes")
UNKNOWN_HOST = "(unknown host)"
#: what Python's `str.strip()` strips, for the first line of a reason as `reason_line` cuts it
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
REASON_LENGTH = 200
#: every status an attempt can leave its job in (`AttemptRecord.status_after`)
STATUSES_AFTER = (DONE, FAILED, STAND_BY, QUEUED, RUNNING)

Row = Mapping[Any, Any]  #: a row's mapping


def fact_rows(where: ColumnElement[bool], by: GroupBy, postgresql: bool) -> Select[Any]:
    """The records with their group key `k`, the figures `bt.report` derives from them, and
    what ranks them within their job in a group: `status`, the job's status after its latest
    record there (NULL on the others), and flags (1 or 0) on the one with the job's highest
    run time (`best_run`) and peak RSS (`best_peak_rss`) there."""
    alone, several = records(where, postgresql)
    ones = (literal(1).label(n) for n in BEST.values())
    one = select(*_figures_of(alone.c, by, postgresql).values(), *ones)
    figures = _figures_of(several.c, by, postgresql)
    order = (several.c.attempt, several.c.started_at, several.c.pos)
    ranked = select(*figures.values(), *order).subquery("ranked")
    r = ranked.c

    def first(*order: Any) -> ColumnElement[bool]:
        return func.row_number().over(partition_by=(r.k, r.job_id), order_by=order) == 1

    latest = first(r.attempt.desc(), r.started_at.desc().nulls_last(), r.pos.desc())
    best = [case((first(r[m].desc().nulls_last()), 1), else_=0).label(n) for m, n in BEST.items()]
    columns = [case((latest, r.after)).label("after") if n == "after" else r[n] for n in figures]
    return union_all(one, select(*columns, *best))  # type: ignore[return-value]


_RETRIED = 2  #: `failed` of an attempt after which its job was queued again (1: FAILED)


def _figures_of(c: Any, by: GroupBy, postgresql: bool) -> dict[str, ColumnElement[Any]]:
    measured = and_(c.realtime.is_not(None), c.cpu_user.is_not(None), c.cpu_sys.is_not(None))
    #: as `bt.attempts` maps a run's status to its outcome (retried and requeued, QUEUED after;
    #: "" for any other, RUNNING after) and `AttemptRecord.status_after` back
    ended = (DONE, FAILED, STAND_BY, QUEUED)
    status_after = case((c.outcome.in_(ended), c.outcome), else_=literal(RUNNING))
    retried = and_(c.outcome == QUEUED, c.traced)
    keys: dict[str, Any] = {
        "task": c.name,
        "host": case((or_(c.host.is_(None), c.host == ""), literal(UNKNOWN_HOST)), else_=c.host),
    }
    keys["status"] = status_after  # (a statistic's key: `--by status`)
    failed = case((c.outcome == FAILED, 1), (retried, _RETRIED), else_=0)
    seconds = _seconds_pg if postgresql else _seconds_sqlite
    figures = {
        "k": keys[by].collate("C") if postgresql else keys[by],
        "job_id": c.job_id,
        "after": status_after,
        "failed": failed,
        "reason": case((c.outcome == FAILED, c.reason), (retried, c.reason)),
        "wait": seconds(c.queued_at, c.started_at),
        "run": seconds(c.started_at, c.ended_at),
        "measured": case((measured, 1), else_=0),
        "cpu_efficiency": case(
            (and_(measured, c.realtime > 0), (c.cpu_user + c.cpu_sys) / c.realtime)
        ),
        "peak_rss": case((measured, func.coalesce(c.peak_rss, 0))),
        "cpu_seconds": case((measured, c.cpu_user + c.cpu_sys)),
        **{n: case((measured, func.coalesce(c[n], 0))) for n in SUMS[1:]},
    }
    return {name: column.label(name) for name, column in figures.items()}


def _seconds_pg(start: Any, end: Any) -> ColumnElement[float]:
    """Seconds from `start` to `end` (0 if `end` is earlier; NULL if either is)."""
    exact = cast(extract("epoch", end - start), Float)
    return case((end < start, literal(0.0)), else_=exact)


def _seconds_sqlite(start: Any, end: Any) -> ColumnElement[float]:
    """As `_seconds_pg`, for SQLite's `YYYY-MM-DD HH:MM:SS.ffffff` text: the microseconds by
    their digits, the whole seconds by `julianday`, whose milliseconds (rounded, and within a
    tenth of a millisecond once multiplied back) are off by less than one."""

    def micro(moment: Any) -> ColumnElement[int]:
        return type_coerce(func.substr(moment, 21, 6), Integer)

    micros = micro(end) - micro(start)
    millis = (func.julianday(end) - func.julianday(start)) * 86_400_000.0
    whole = func.round((millis - micros / 1000.0) / 1000.0)
    exact = whole * 1_000_000 + micros
    return case((end < start, literal(0.0)), else_=exact / 1_000_000.0)


def aggregates(f: Any, postgresql: bool) -> Select[Any]:
    """Per group of the facts `f`: the counts, sums, jobs by status, and each metric's count,
    total, min, max (and on PostgreSQL its quantiles)."""
    columns: list[Any] = [
        f.k,
        func.count(f.after).label("jobs"),
        func.count().label("attempts"),
        func.sum(f.measured).label("measured"),
        func.count(case((f.failed == _RETRIED, 1))).label("retries"),
        *(func.sum(f[name]).label(name) for name in SUMS),
        *(func.count(case((f.after == status, 1))).label(status) for status in STATUSES_AFTER),
    ]
    for m in METRICS:
        columns += [
            func.count(f[m]).label(f"{m}_count"),
            func.sum(f[m]).label(f"{m}_total"),
            func.min(f[m]).label(f"{m}_min"),
            func.max(f[m]).label(f"{m}_max"),
        ]
        if postgresql:
            at = literal(list(QUANTILES), ARRAY(Float))
            value = cast(f[m], Float)
            columns.append(func.percentile_cont(at).within_group(value).label(f"{m}_q"))
    return select(*columns).group_by(f.k)


def top_failures(f: Any, postgresql: bool) -> Select[Any]:
    """(k, reason line, count) of the `TOP` commonest failure reasons of each group (ties by
    reason, in code point order as Python sorts)."""
    line = _reason_line(f.reason, postgresql)
    order = line.collate("C") if postgresql else line
    reasons = (
        select(
            f.k,
            line.label("line"),
            func.count().label("n"),
            func.row_number()
            .over(partition_by=f.k, order_by=(func.count().desc(), order))
            .label("r"),
        )
        .where(f.failed > 0)
        .group_by(f.k, line)
        .subquery("reasons")
    )
    return select(reasons.c.k, reasons.c.line, reasons.c.n).where(reasons.c.r <= TOP)


def _reason_line(reason: Any, postgresql: bool) -> ColumnElement[str]:
    """`AttemptRecord.reason_line` in SQL: the stripped first line of the stripped reason, at
    most 200 characters, or `NO_REASON`."""
    trim = func.btrim if postgresql else func.trim
    find = func.strpos if postgresql else func.instr
    text = trim(reason, WHITESPACE)
    newline = find(text, "\n")
    first = trim(case((newline > 0, func.substr(text, 1, newline - 1)), else_=text), WHITESPACE)
    cut = func.substr(first, 1, REASON_LENGTH)
    return case((func.coalesce(cut, "") == "", literal(NO_REASON)), else_=cut)


def group(
    figures: Row,
    quantiles: Mapping[str, Sequence[float | None]],
    failures: list[tuple[str, int]],
    tops: Mapping[str, list[int]],
) -> GroupStats:
    """A group's `GroupStats` from its figures, quantiles, failure reasons and top jobs."""
    spreads = {m: _spread(figures, m, quantiles[m]) for m in METRICS}
    by_status = {s: int(figures[s]) for s in sorted(STATUSES_AFTER) if figures[s]}
    return GroupStats(
        key=figures["k"],
        jobs=int(figures["jobs"]),
        attempts=int(figures["attempts"]),
        measured=int(figures["measured"]),
        by_status=by_status,
        retries=int(figures["retries"]),
        wait=spreads["wait"],
        run=spreads["run"],
        cpu_efficiency=spreads["cpu_efficiency"],
        peak_rss=spreads["peak_rss"],
        cpu_seconds=float(figures["cpu_seconds"] or 0.0),
        rchar=int(figures["rchar"] or 0),
        wchar=int(figures["wchar"] or 0),
        read_bytes=int(figures["read_bytes"] or 0),
        write_bytes=int(figures["write_bytes"] or 0),
        failures=sorted(failures, key=lambda item: (-item[1], item[0])),
        slowest=tops["slowest"],
        largest=tops["largest"],
    )


def _spread(figures: Row, metric: str, quantiles: Sequence[Any]) -> Spread:
    p25, p50, p75, p90 = (None if q is None else float(q) for q in quantiles)
    low, high = figures[f"{metric}_min"], figures[f"{metric}_max"]
    if metric == "peak_rss":
        low, high = (None if v is None else int(v) for v in (low, high))
    count, total = int(figures[f"{metric}_count"]), float(figures[f"{metric}_total"] or 0.0)
    return Spread(count, total, low, p25, p50, p75, p90, high)
