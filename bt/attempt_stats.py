"""`job stats` in the database: `bt.report.group_stats` of the selected jobs' attempts, computed
by two statements over `job_attempt` (and the job rows of runs under way) instead of in Python.

The statements rebuild `bt.attempts.records` as rows: a run given back unstarted is no attempt;
a superjob's epilog continues the attempt its prolog began (its wait and run count from the
prolog's times), and a prolog is an attempt of its own only while no run follows it; a run under
way is the job row. Quantiles are exact type-7 (`bt.report.stats.quantile`): PostgreSQL's
`percentile_cont`, and on SQLite the two closest ranks picked with `row_number()` and
interpolated with the same arithmetic. Durations are exact microseconds divided once, like
`timedelta.total_seconds`. Totals (`Spread.total`, `cpu_seconds`) are the database's `sum`,
which may differ from `math.fsum` in the last bits of a float.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    String,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    null,
    or_,
    select,
    text,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.selectable import CTE, Select

from bt import filters
from bt.models import ATTEMPT, JOB, RUNNER
from bt.report.records import NO_REASON
from bt.report.stats import TOP, GroupBy, GroupStats, Spread
from bt.status import Status
from bt.values import GIVEN_BACK

QUANTILES = (0.25, 0.5, 0.75, 0.9)  #: the `Spread` fields p25, p50, p75, p90
METRICS = ("wait", "run", "cpu_efficiency", "peak_rss")  #: the `Spread`s of a group
SUMS = ("cpu_seconds", "rchar", "wchar", "read_bytes", "write_bytes")
UNKNOWN_HOST = "(unknown host)"
#: what Python's `str.strip()` strips, for the first line of a reason as `reason_line` cuts it
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
REASON_LENGTH = 200
_LAST = 2**31 - 1  #: the place of a run under way among its job's records: the last

DONE, FAILED, QUEUED, STAND_BY = (s.value for s in (Status.DONE, Status.FAILED, Status.QUEUED,
                                                    Status.STAND_BY))  # fmt: skip


def group_stats(
    session: Session, terms: Sequence[str] = (), by: GroupBy = "task"
) -> list[GroupStats]:
    """`bt.report.group_stats(bt.attempts.records(session, terms), by)`, in the database."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    facts = _facts(filters.condition(terms), by, postgresql)
    if postgresql:  # compiling these statements would take longer than running them
        session.execute(text("SET LOCAL jit = off"))
    groups: dict[str, _Group] = {}
    for row in session.execute(_figures(facts, postgresql)).mappings():
        groups[row["k"]] = _Group.of(row, postgresql)
    for kind, key, label, number, job_id in session.execute(_lists(facts, postgresql)):
        groups[key].add(kind, label, number, job_id)
    return [groups[key].stats(key) for key in sorted(groups)]


# -- the records, as rows -----------------------------------------------------------------------


def _records(where: ColumnElement[bool]) -> Any:
    """One row per attempt record, as `bt.attempts.records` builds them: the runs that are no
    epilog of a prolog, the epilogs with their prologs' times (only jobs that had a prolog are
    looked at), and the runs under way."""
    return union_all(_ended(where, epilogs=False), _ended(where, epilogs=True), _running(where))


def _ended(where: ColumnElement[bool], *, epilogs: bool) -> Select[Any]:
    a = ATTEMPT
    outcome = type_coerce(a.c.outcome, String)
    prolog_rows, before, later = (ATTEMPT.alias(n) for n in ("prolog_rows", "before", "later"))
    superjobs = select(prolog_rows.c.job_id).where(prolog_rows.c.outcome == STAND_BY)
    prolog = (  # the run before, if it is this attempt's prolog
        select(case((and_(before.c.outcome == STAND_BY, before.c.attempt == a.c.attempt),
                      before.c.seq)))
        .where(before.c.job_id == a.c.job_id, before.c.seq < a.c.seq, _not_given_back(before))
        .order_by(before.c.seq.desc())
        .limit(1)
        .scalar_subquery()
    )  # fmt: skip
    followed = (
        select(later.c.seq)
        .where(later.c.job_id == a.c.job_id, later.c.seq > a.c.seq, _not_given_back(later))
        .exists()
    )
    first: Any = a
    joined = a.join(JOB, JOB.c.id == a.c.job_id)
    if epilogs:
        first = ATTEMPT.alias("prolog")
        joined = joined.join(first, and_(first.c.job_id == a.c.job_id, first.c.seq == prolog))
        kind = and_(a.c.job_id.in_(superjobs), outcome != STAND_BY)
    else:
        prolog_only = and_(outcome == STAND_BY, ~followed)
        no_prolog = or_(outcome != STAND_BY, prolog_only)
        kind = and_(or_(a.c.job_id.not_in(superjobs), prolog_only, prolog.is_(None)), no_prolog)
    return (
        select(
            a.c.job_id,
            JOB.c.name,
            a.c.attempt,
            a.c.seq.label("pos"),
            case(
                (outcome.in_((DONE, FAILED, STAND_BY)), outcome),
                (and_(outcome == QUEUED, a.c.traceback.is_not(None)), literal("retried")),
                (outcome == QUEUED, literal("requeued")),
                else_=literal(""),
            ).label("outcome"),
            a.c.host,
            first.c.queued_at,
            first.c.started_at,
            a.c.ended_at,
            a.c.reason,
            *(a.c[name] for name in _USAGE),
        )
        .select_from(joined)
        .where(where, _not_given_back(a), kind)
    )


_USAGE = ("realtime", "cpu_user", "cpu_sys", "peak_rss", "rchar", "wchar", "read_bytes",
          "write_bytes")  # fmt: skip


def _not_given_back(table: Any) -> ColumnElement[bool]:
    return or_(table.c.outcome != QUEUED, table.c.reason.is_distinct_from(GIVEN_BACK))


def _running(where: ColumnElement[bool]) -> Select[Any]:
    """The runs under way, as records: queued when their job was last put back, else when it
    was queued."""
    last = ATTEMPT.alias("last_run")
    put_back = (
        select(case((last.c.outcome == QUEUED, last.c.ended_at)))
        .where(last.c.job_id == JOB.c.id, _not_given_back(last))
        .order_by(last.c.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(
            JOB.c.id,
            JOB.c.name,
            JOB.c.attempts,
            literal(_LAST),
            literal(""),
            RUNNER.c.host,
            func.coalesce(put_back, JOB.c.ts_queued),
            JOB.c.ts_started,
            null(),
            null(),
            *(null() for _ in _USAGE),
        )
        .outerjoin(RUNNER, RUNNER.c.id == JOB.c.runner_id)
        .where(where, JOB.c.status == Status.RUNNING)
    )


def _facts(where: ColumnElement[bool], by: GroupBy, postgresql: bool) -> CTE:
    """The records with their group key `k` and the figures `bt.report` derives from them."""
    rec = _records(where).subquery("records")
    c = rec.c
    measured = and_(c.realtime.is_not(None), c.cpu_user.is_not(None), c.cpu_sys.is_not(None))
    status_after = case(
        (c.outcome.in_(("retried", "requeued")), literal(QUEUED)),
        (c.outcome == "", literal("RUNNING")),
        else_=c.outcome,
    )
    keys = {
        "task": c.name,
        "status": status_after,
        "host": case((or_(c.host.is_(None), c.host == ""), literal(UNKNOWN_HOST)), else_=c.host),
    }
    seconds = _seconds_pg if postgresql else _seconds_sqlite
    return (
        select(
            keys[by].label("k"),
            c.job_id,
            c.attempt,
            c.pos,
            c.started_at,
            c.outcome,
            status_after.label("status_after"),
            c.reason,
            c.outcome.in_((FAILED, "retried")).label("failed"),
            seconds(c.queued_at, c.started_at).label("wait"),
            seconds(c.started_at, c.ended_at).label("run"),
            measured.label("measured"),
            case((and_(measured, c.realtime > 0), (c.cpu_user + c.cpu_sys) / c.realtime)).label(
                "cpu_efficiency"
            ),
            case((measured, func.coalesce(c.peak_rss, 0))).label("peak_rss"),
            case((measured, c.cpu_user + c.cpu_sys)).label("cpu_seconds"),
            *(case((measured, func.coalesce(c[n], 0))).label(n) for n in SUMS[1:]),
        )
        .cte("facts")
        .prefix_with("MATERIALIZED")
    )


def _seconds_pg(start: Any, end: Any) -> ColumnElement[float]:
    """Seconds from `start` to `end` (0 if `end` is earlier; NULL if either is)."""
    exact = cast(extract("epoch", end - start), Float)
    return case((end < start, literal(0.0)), else_=exact)


def _seconds_sqlite(start: Any, end: Any) -> ColumnElement[float]:
    """As `_seconds_pg`, for SQLite's `YYYY-MM-DD HH:MM:SS.ffffff` text: whole seconds by
    `julianday` (exact once rounded; its milliseconds would not be), microseconds by the
    digits."""

    def whole(moment: Any) -> ColumnElement[float]:
        return func.round(func.julianday(func.substr(moment, 1, 19)) * 86400)

    def micro(moment: Any) -> ColumnElement[int]:
        return type_coerce(func.substr(moment, 21, 6), Integer)

    exact = (whole(end) - whole(start)) * 1_000_000 + (micro(end) - micro(start))
    return case((end < start, literal(0.0)), else_=exact / 1_000_000.0)


# -- the statements -----------------------------------------------------------------------------


def _figures(facts: CTE, postgresql: bool) -> Select[Any]:
    """Per group: the counts, sums, and each metric's count, total, min, max and quantiles."""
    f = facts.c
    columns: list[Any] = [
        f.k,
        func.count(f.job_id.distinct()).label("jobs"),
        func.count().label("attempts"),
        func.count(case((f.measured, 1))).label("measured"),
        func.count(case((f.outcome == "retried", 1))).label("retries"),
        *(func.sum(f[name]).label(name) for name in SUMS),
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
    figures = select(*columns).group_by(f.k)
    if postgresql:
        return figures
    sub = figures.subquery("figures")
    quantiles = [_sqlite_quantiles(facts, m) for m in METRICS]
    statement = select(sub, *(q.c[f"{m}_q{i}"] for q, m in zip(quantiles, METRICS, strict=True)
                              for i in range(len(QUANTILES))))  # fmt: skip
    joined: Any = sub
    for q in quantiles:
        joined = joined.outerjoin(q, q.c.k == sub.c.k)
    return statement.select_from(joined)


def _sqlite_quantiles(facts: CTE, metric: str) -> Any:
    """Per group, the type-7 quantiles of a metric: the values at ranks ⌊q(n-1)⌋ and the next,
    interpolated as `bt.report.stats.quantile` does."""
    f = facts.c
    counts = select(f.k, func.count(f[metric]).label("n")).group_by(f.k).subquery()
    ranked = (
        select(
            f.k,
            f[metric].label("v"),
            (func.row_number().over(partition_by=f.k, order_by=f[metric]) - 1).label("i"),
        )
        .where(f[metric].is_not(None))
        .subquery()
    )
    ranked = (
        select(ranked, counts.c.n).join_from(ranked, counts, counts.c.k == ranked.c.k).subquery()
    )
    r = ranked.c
    picks: list[Any] = [r.k, func.max(r.n).label("n")]
    for i, q in enumerate(QUANTILES):
        low = cast(q * (r.n - 1), Integer)
        high = case((low + 1 > r.n - 1, r.n - 1), else_=low + 1)
        picks += [
            func.max(case((r.i == low, r.v))).label(f"lo{i}"),
            func.max(case((r.i == high, r.v))).label(f"hi{i}"),
        ]
    pairs = select(*picks).group_by(r.k).subquery()
    p = pairs.c
    interpolated = []
    for i, q in enumerate(QUANTILES):
        position = q * (p.n - 1)
        fraction = position - cast(position, Integer)
        interpolated.append((p[f"lo{i}"] + (p[f"hi{i}"] - p[f"lo{i}"]) * fraction).label(
            f"{metric}_q{i}"))  # fmt: skip
    return select(p.k, *interpolated).subquery(f"{metric}_quantiles")


def _lists(facts: CTE, postgresql: bool) -> Any:
    """(kind, key, label, number, job id) rows: jobs by status after their latest attempt in
    the group, the top failure reasons with counts, the slowest and the largest jobs."""
    f = facts.c
    latest = select(
        f.k,
        f.status_after,
        func.row_number()
        .over(
            partition_by=(f.k, f.job_id),
            order_by=(f.attempt.desc(), f.started_at.desc().nulls_last(), f.pos.desc()),
        )
        .label("r"),
    ).subquery()
    by_status = (
        select(literal("status"), latest.c.k, latest.c.status_after, func.count(), _NO_JOB)
        .where(latest.c.r == 1)
        .group_by(latest.c.k, latest.c.status_after)
    )
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
        .where(f.failed)
        .group_by(f.k, line)
        .subquery()
    )
    failures = select(literal("failure"), reasons.c.k, reasons.c.line, reasons.c.n, _NO_JOB).where(
        reasons.c.r <= TOP
    )
    return union_all(by_status, failures, _top(facts, "run", "slowest"),
                     _top(facts, "peak_rss", "largest"))  # fmt: skip


_NO_JOB = cast(null(), Integer)  #: typed, for the union of the lists
_NO_LABEL = cast(null(), String)


def _top(facts: CTE, metric: str, kind: str) -> Select[Any]:
    f = facts.c
    best = func.max(f[metric])
    ranked = (
        select(
            f.k,
            f.job_id,
            func.row_number().over(partition_by=f.k, order_by=(best.desc(), f.job_id)).label("r"),
        )
        .where(f[metric].is_not(None))
        .group_by(f.k, f.job_id)
        .subquery()
    )
    return select(literal(kind), ranked.c.k, _NO_LABEL, ranked.c.r, ranked.c.job_id).where(
        ranked.c.r <= TOP
    )


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


# -- back to Python ----------------------------------------------------------------------------


@dataclass
class _Group:
    """One group's figures from the first statement, and its lists from the second."""

    figures: dict[str, Any]
    spreads: dict[str, Spread]
    by_status: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[int, str]] = field(default_factory=list)
    tops: dict[str, list[tuple[int, int]]] = field(
        default_factory=lambda: {"slowest": [], "largest": []}
    )

    @classmethod
    def of(cls, row: Any, postgresql: bool) -> _Group:
        spreads = {m: _spread(row, m, postgresql) for m in METRICS}
        return cls(dict(row), spreads)

    def add(self, kind: str, label: str | None, number: int, job_id: int | None) -> None:
        if kind == "status":
            self.by_status[str(label)] = int(number)
        elif kind == "failure":
            self.failures.append((-int(number), str(label)))
        else:
            self.tops[kind].append((int(number), int(job_id or 0)))

    def stats(self, key: str) -> GroupStats:
        figures = self.figures
        return GroupStats(
            key=key,
            jobs=int(figures["jobs"]),
            attempts=int(figures["attempts"]),
            measured=int(figures["measured"]),
            by_status=dict(sorted(self.by_status.items())),
            retries=int(figures["retries"]),
            wait=self.spreads["wait"],
            run=self.spreads["run"],
            cpu_efficiency=self.spreads["cpu_efficiency"],
            peak_rss=self.spreads["peak_rss"],
            cpu_seconds=float(figures["cpu_seconds"] or 0.0),
            rchar=int(figures["rchar"] or 0),
            wchar=int(figures["wchar"] or 0),
            read_bytes=int(figures["read_bytes"] or 0),
            write_bytes=int(figures["write_bytes"] or 0),
            failures=[(line, -count) for count, line in sorted(self.failures)],
            slowest=[job for _, job in sorted(self.tops["slowest"])],
            largest=[job for _, job in sorted(self.tops["largest"])],
        )


def _spread(row: Any, metric: str, postgresql: bool) -> Spread:
    count = int(row[f"{metric}_count"])
    if postgresql:
        quantiles = list(row[f"{metric}_q"] or [None] * len(QUANTILES))
    else:
        quantiles = [row[f"{metric}_q{i}"] for i in range(len(QUANTILES))]
    p25, p50, p75, p90 = (None if q is None else float(q) for q in quantiles)
    low, high = row[f"{metric}_min"], row[f"{metric}_max"]
    if metric == "peak_rss":
        low, high = (None if v is None else int(v) for v in (low, high))
    return Spread(count, float(row[f"{metric}_total"] or 0.0), low, p25, p50, p75, p90, high)
