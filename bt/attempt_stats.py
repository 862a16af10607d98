"""`job stats` in the database: `bt.report.group_stats` of the selected jobs' attempts, computed
by one statement over `job_attempt` (and the job rows of runs under way) instead of in Python.

The statement rebuilds `bt.attempts.records` as rows (the `facts`, read once): a run given back
unstarted is no attempt; a superjob's epilog continues the attempt its prolog began (its wait
and run count from the prolog's times), and a prolog is an attempt of its own only while no run
follows it; a run under way is the job row. Most jobs have one run, and their one row is their
one attempt: only the jobs with more (a run whose `seq` is not 1, or a run under way) go through
those rules, and only their records are ranked within their job (the latest; the run with the
longest run time, the largest peak RSS).

Quantiles are exact type-7 (`bt.report.stats.quantile`): PostgreSQL's `percentile_cont`; on
SQLite, the values at the two closest ranks, from one `row_number()` pass per figure, which
Python interpolates as `quantile` does. The slowest and largest jobs come from a pass in
descending order that counts each job at its best attempt. Durations are exact microseconds
divided once, like `timedelta.total_seconds`. Totals (`Spread.total`, `cpu_seconds`) are the
database's `sum`, which may differ from `math.fsum` in the last bits of a float.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
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
from sqlalchemy.sql.selectable import CTE, Select, Subquery

from bt import filters
from bt.models import ATTEMPT, JOB, RUNNER
from bt.report.records import NO_REASON
from bt.report.stats import TOP, GroupBy, GroupStats, Spread
from bt.status import Status
from bt.values import GIVEN_BACK

QUANTILES = (0.25, 0.5, 0.75, 0.9)  #: the `Spread` fields p25, p50, p75, p90
METRICS = ("wait", "run", "cpu_efficiency", "peak_rss")  #: the `Spread`s of a group
TOPS = {"run": "slowest", "peak_rss": "largest"}  #: the jobs listed by their best attempt
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
RUNNING = Status.RUNNING.value
#: every status an attempt can leave its job in (`AttemptRecord.status_after`)
STATUSES_AFTER = (DONE, FAILED, STAND_BY, QUEUED, RUNNING)


def group_stats(
    session: Session, terms: Sequence[str] = (), by: GroupBy = "task"
) -> list[GroupStats]:
    """`bt.report.group_stats(bt.attempts.records(session, terms), by)`, in the database."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:  # compiling this statement would take longer than running it
        session.execute(text("SET LOCAL jit = off"))
    statement = _statement(filters.condition(terms), by, postgresql)
    groups = [_group(row, postgresql) for row in session.execute(statement).mappings()]
    return sorted(groups, key=lambda group: group.key)


# -- the records, as rows -----------------------------------------------------------------------


def _records(where: ColumnElement[bool]) -> tuple[Subquery, Subquery]:
    """The attempt records as `bt.attempts.records` builds them, in two parts: the jobs whose
    one run is their one attempt, and the others (see the module's docstring)."""
    a, other = ATTEMPT, ATTEMPT.alias("other")
    alone = (
        _ended_select(a, a)
        .select_from(a.join(JOB, JOB.c.id == a.c.job_id))
        .where(where, a.c.seq == 1, JOB.c.status != Status.RUNNING, _not_given_back(a))
        .where(~select(other.c.seq).where(other.c.job_id == a.c.job_id, other.c.seq != 1).exists())
    )
    several = union_all(
        select(other.c.job_id).where(other.c.seq != 1),
        select(JOB.c.id).where(JOB.c.status == Status.RUNNING),
    )
    rest = and_(where, a.c.job_id.in_(several))
    others = union_all(_ended(rest, epilogs=False), _ended(rest, epilogs=True), _running(where))
    return alone.subquery("alone"), others.subquery("several")


def _ended_select(a: Any, first: Any) -> Select[Any]:
    """A run `a` as a record, its attempt queued and started when `first` was."""
    outcome = type_coerce(a.c.outcome, String)
    return select(
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


def _ended(where: ColumnElement[bool], *, epilogs: bool) -> Select[Any]:
    """The ended runs of jobs with several records: those that are no epilog of a prolog, or
    the epilogs with their prologs' times."""
    a = ATTEMPT
    outcome = type_coerce(a.c.outcome, String)
    prolog_rows, before, later = (ATTEMPT.alias(n) for n in ("prolog_rows", "before", "later"))
    superjob = (
        select(prolog_rows.c.seq)
        .where(prolog_rows.c.job_id == a.c.job_id, prolog_rows.c.outcome == STAND_BY)
        .exists()
    )
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
        kind = and_(outcome != STAND_BY, superjob)
    else:
        prolog_only = and_(outcome == STAND_BY, ~followed)
        no_prolog = or_(outcome != STAND_BY, prolog_only)
        kind = and_(or_(~superjob, prolog_only, prolog.is_(None)), no_prolog)
    return _ended_select(a, first).select_from(joined).where(where, _not_given_back(a), kind)


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


# -- the facts: each record's group and figures ---------------------------------------------------


def _facts(where: ColumnElement[bool], by: GroupBy, postgresql: bool) -> CTE:
    """The records with their group key `k`, the figures `bt.report` derives from them, and
    what ranks them within their job in a group: `status`, the job's status after its latest
    record there (NULL on the others), and flags (1 or 0) on the one with the job's highest
    run time (`best_run`) and peak RSS (`best_peak_rss`) there."""
    alone, several = _records(where)
    one = select(
        *_figures_of(alone.c, by, postgresql).values(),
        *(literal(1).label(n) for n in _BEST.values()),
    )
    figures = _figures_of(several.c, by, postgresql)
    order = (several.c.attempt, several.c.started_at, several.c.pos)
    ranked = select(*figures.values(), *order).subquery("ranked")
    r = ranked.c

    def first(*order: Any) -> ColumnElement[bool]:
        return func.row_number().over(partition_by=(r.k, r.job_id), order_by=order) == 1

    latest = first(r.attempt.desc(), r.started_at.desc().nulls_last(), r.pos.desc())
    best = [case((first(r[m].desc().nulls_last()), 1), else_=0).label(n) for m, n in _BEST.items()]
    columns = [case((latest, r.status)).label("status") if n == "status" else r[n] for n in figures]
    return union_all(one, select(*columns, *best)).cte("facts").prefix_with("MATERIALIZED")


_BEST = {m: f"best_{m}" for m in TOPS}
_RETRIED = 2  #: `failed` of an attempt after which its job was queued again (1: FAILED)


def _figures_of(c: Any, by: GroupBy, postgresql: bool) -> dict[str, ColumnElement[Any]]:
    measured = and_(c.realtime.is_not(None), c.cpu_user.is_not(None), c.cpu_sys.is_not(None))
    status_after = case(
        (c.outcome.in_(("retried", "requeued")), literal(QUEUED)),
        (c.outcome == "", literal(RUNNING)),
        else_=c.outcome,
    )
    keys = {
        "task": c.name,
        "status": status_after,
        "host": case((or_(c.host.is_(None), c.host == ""), literal(UNKNOWN_HOST)), else_=c.host),
    }
    failed = case((c.outcome == FAILED, 1), (c.outcome == "retried", _RETRIED), else_=0)
    seconds = _seconds_pg if postgresql else _seconds_sqlite
    figures = {
        "k": keys[by].collate("C") if postgresql else keys[by],
        "job_id": c.job_id,
        "status": status_after,
        "failed": failed,
        "reason": case((c.outcome.in_((FAILED, "retried")), c.reason)),
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


# -- the statement -------------------------------------------------------------------------------


def _statement(where: ColumnElement[bool], by: GroupBy, postgresql: bool) -> Select[Any]:
    """One row per group: its figures, on SQLite the values at the quantiles' ranks, and its
    lists as JSON (`_lists`)."""
    facts = _facts(where, by, postgresql)
    figures = _figures(facts, postgresql).cte("figures")
    ranked = {m: _ranked(facts, figures, m, postgresql) for m in (TOPS if postgresql else METRICS)}
    lists = _json_lists(_lists(facts, ranked, postgresql).subquery("lists"), postgresql)
    columns: list[Any] = [figures, lists.c.lists]
    joined: Any = figures.outerjoin(lists, lists.c.k == figures.c.k)
    if not postgresql:
        for metric in METRICS:
            picks = _picks(ranked[metric], metric)
            columns += [picks.c[name] for name in _ends(metric)]
            joined = joined.outerjoin(picks, picks.c.k == figures.c.k)
    return select(*columns).select_from(joined)


def _figures(facts: CTE, postgresql: bool) -> Select[Any]:
    """Per group: the counts, sums, jobs by status, and each metric's count, total, min, max
    and its quantiles (PostgreSQL) or the places of the values they need (SQLite)."""
    f = facts.c
    columns: list[Any] = [
        f.k,
        func.count(f.status).label("jobs"),
        func.count().label("attempts"),
        func.sum(f.measured).label("measured"),
        func.count(case((f.failed == _RETRIED, 1))).label("retries"),
        *(func.sum(f[name]).label(name) for name in SUMS),
        *(func.count(case((f.status == status, 1))).label(status) for status in STATUSES_AFTER),
    ]
    for m in METRICS:
        count = func.count(f[m])
        columns += [
            count.label(f"{m}_count"),
            func.sum(f[m]).label(f"{m}_total"),
            func.min(f[m]).label(f"{m}_min"),
            func.max(f[m]).label(f"{m}_max"),
        ]
        if postgresql:
            at = literal(list(QUANTILES), ARRAY(Float))
            value = cast(f[m], Float)
            columns.append(func.percentile_cont(at).within_group(value).label(f"{m}_q"))
        else:
            places = (count - rank for q in QUANTILES for rank in _ranks(q, count))
            columns += [place.label(name) for place, name in zip(places, _places(m), strict=True)]
    return select(*columns).group_by(f.k)


def _places(metric: str) -> list[str]:
    """The columns of `_figures` with the places (from the highest, 1 to `n`) of the values a
    metric's quantiles are interpolated between (`_ends`: low and high for each quantile)."""
    return [f"{metric}_place_{end}" for end in _ends(metric)]


def _ends(metric: str) -> list[str]:
    return [f"{metric}_{end}{i}" for i in range(len(QUANTILES)) for end in ("lo", "hi")]


def _ranks(q: float, n: Any) -> tuple[Any, Any]:
    """The two ranks (from 0) type-7 interpolates between for the `q`-quantile of `n` values,
    as `bt.report.stats.quantile` finds them."""
    low = cast(q * (n - 1), Integer)
    return low, case((low + 1 > n - 1, n - 1), else_=low + 1)


def _ranked(facts: CTE, figures: CTE, metric: str, postgresql: bool) -> CTE:
    """A metric's values by group from the highest (ties by job id) with their place `d` (1
    to `n`) and, for a top list, `jobs`: how many jobs had their best value by there. Only the
    top jobs' best values and (SQLite) the values quantiles need are kept."""
    f = facts.c
    order: dict[str, Any] = {
        "partition_by": f.k,
        "order_by": (f[metric].desc(), f.job_id),
        "rows": (None, 0),
    }
    columns = [f.k, f.job_id, f[metric].label("v"), func.row_number().over(**order).label("d")]
    top = metric in TOPS
    if top:
        best = f[_BEST[metric]]
        columns += [best.label("best"), func.sum(best).over(**order).label("jobs")]
    inner = select(*columns).where(f[metric].is_not(None)).subquery()
    r = inner.c
    keep = [and_(r.best == 1, r.jobs <= TOP)] if top else []
    places = [] if postgresql else [figures.c[name] for name in _places(metric)]
    if places:
        keep.append(r.d.in_(places))
    return (
        select(r.k, r.v, r.d, r.job_id, *([r.best, r.jobs] if top else []), *places)
        .join_from(inner, figures, figures.c.k == r.k)
        .where(or_(*keep))
        .cte(f"ranked_{metric}")
    )


def _picks(ranked: CTE, metric: str) -> Subquery:
    """Per group, the values at the places `_places` names (SQLite)."""
    r = ranked.c
    pairs = zip(_places(metric), _ends(metric), strict=True)
    picks = [func.max(case((r.d == r[place], r.v))).label(end) for place, end in pairs]
    return select(r.k, *picks).group_by(r.k).subquery(f"picks_{metric}")


def _lists(facts: CTE, ranked: dict[str, CTE], postgresql: bool) -> Any:
    """(k, kind, label, number, job id) rows: the top failure reasons with their counts, the
    slowest and the largest jobs with their places."""
    f = facts.c
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
        .subquery()
    )
    failures = select(
        reasons.c.k,
        literal("failure").label("kind"),
        reasons.c.line.label("label"),
        reasons.c.n.label("number"),
        _NO_JOB.label("job_id"),
    ).where(reasons.c.r <= TOP)
    tops = [
        select(r.c.k, literal(kind), _NO_LABEL, r.c.jobs, r.c.job_id).where(
            r.c.best == 1, r.c.jobs <= TOP
        )
        for metric, kind in TOPS.items()
        for r in (ranked[metric],)
    ]
    return union_all(failures, *tops)


_NO_JOB = cast(null(), Integer)  #: typed, for the union of the lists
_NO_LABEL = cast(null(), String)


def _json_lists(lists: Subquery, postgresql: bool) -> Subquery:
    """Per group, its lists as one JSON array of [kind, label, number, job id]."""
    c = lists.c
    items = (c.kind, c.label, c.number, c.job_id)
    found: Any
    if postgresql:
        found = cast(func.json_agg(func.json_build_array(*items)), String)
    else:
        found = func.json_group_array(func.json_array(*items))
    return select(c.k, found.label("lists")).group_by(c.k).subquery("json_lists")


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


def _group(row: Any, postgresql: bool) -> GroupStats:
    """A group's row as its `GroupStats`."""
    failures: list[tuple[int, str]] = []
    tops: dict[str, list[tuple[int, int]]] = {kind: [] for kind in TOPS.values()}
    for kind, label, number, job_id in json.loads(row["lists"] or "[]"):
        if kind == "failure":
            failures.append((-int(number), str(label)))
        else:
            tops[kind].append((int(number), int(job_id)))
    spreads = {m: _spread(row, m, postgresql) for m in METRICS}
    return GroupStats(
        key=row["k"],
        jobs=int(row["jobs"]),
        attempts=int(row["attempts"]),
        measured=int(row["measured"]),
        by_status={status: int(row[status]) for status in sorted(STATUSES_AFTER) if row[status]},
        retries=int(row["retries"]),
        wait=spreads["wait"],
        run=spreads["run"],
        cpu_efficiency=spreads["cpu_efficiency"],
        peak_rss=spreads["peak_rss"],
        cpu_seconds=float(row["cpu_seconds"] or 0.0),
        rchar=int(row["rchar"] or 0),
        wchar=int(row["wchar"] or 0),
        read_bytes=int(row["read_bytes"] or 0),
        write_bytes=int(row["write_bytes"] or 0),
        failures=[(line, -count) for count, line in sorted(failures)],
        slowest=[job for _, job in sorted(tops["slowest"])],
        largest=[job for _, job in sorted(tops["largest"])],
    )


def _spread(row: Any, metric: str, postgresql: bool) -> Spread:
    count = int(row[f"{metric}_count"])
    if postgresql:
        quantiles = list(row[f"{metric}_q"] or [None] * len(QUANTILES))
    else:
        quantiles = [_interpolated(row, metric, i, q, count) for i, q in enumerate(QUANTILES)]
    p25, p50, p75, p90 = (None if q is None else float(q) for q in quantiles)
    low, high = row[f"{metric}_min"], row[f"{metric}_max"]
    if metric == "peak_rss":
        low, high = (None if v is None else int(v) for v in (low, high))
    return Spread(count, float(row[f"{metric}_total"] or 0.0), low, p25, p50, p75, p90, high)


def _interpolated(row: Any, metric: str, i: int, q: float, count: int) -> float | None:
    """`bt.report.stats.quantile` from the values at its two ranks."""
    low, high = row[f"{metric}_lo{i}"], row[f"{metric}_hi{i}"]
    if not count:
        return None
    position = q * (count - 1)
    return float(low + (high - low) * (position - math.floor(position)))
