"""`job stats` in the database: `bt.report.group_stats` of the selected jobs' attempts, computed
from `job_attempt` (and the job rows of runs under way) instead of in Python.

The attempt records of `bt.attempts.records` are rebuilt as rows, the `facts`: a run given back
unstarted is no attempt; a superjob's epilog continues the attempt its prolog began (its wait
and run count from the prolog's times), and a prolog is an attempt of its own only while no run
follows it; a run under way is the job row. Most jobs have one run, which is their one attempt:
only the jobs with more (a run whose `seq` is not 1, or a run under way) go through those rules,
and only their records are ranked within their job (the latest; those with the job's longest
run time and largest peak RSS).

Quantiles are exact type-7 (`bt.report.stats.quantile`). PostgreSQL reads the facts once, in
one statement: `percentile_cont` for the quantiles, and for the slowest and largest jobs an
`array_agg` ordered by the figure over each job's best record. SQLite, whose sorts and window
passes are slow, writes the facts to a temporary table (gone with the savepoint that holds it)
with an index per figure, then reads the two values each quantile needs and the top jobs with
`LIMIT 1 OFFSET n`, which Python interpolates as `quantile` does. Durations are exact
microseconds divided once, like `timedelta.total_seconds`. Totals (`Spread.total`,
`cpu_seconds`) are the database's `sum`, which may differ from `math.fsum` in the last bits of a
float.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    extract,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.selectable import Select, Subquery

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
#: the most memory (KiB, as a negative `cache_size`) SQLite's cache of the temporary table may
#: take while it is read; at the default, ~2 MB, 100k records spill to a file (restored after)
SQLITE_TEMP_CACHE = -256_000

_Row = Mapping[Any, Any]  #: a row's mapping

DONE, FAILED, QUEUED, STAND_BY = (s.value for s in (Status.DONE, Status.FAILED, Status.QUEUED,
                                                    Status.STAND_BY))  # fmt: skip
RUNNING = Status.RUNNING.value
#: every status an attempt can leave its job in (`AttemptRecord.status_after`)
STATUSES_AFTER = (DONE, FAILED, STAND_BY, QUEUED, RUNNING)


def group_stats(
    session: Session, terms: Sequence[str] = (), by: GroupBy = "task"
) -> list[GroupStats]:
    """`bt.report.group_stats(bt.attempts.records(session, terms), by)`, in the database."""
    where = filters.condition(terms)
    if session.get_bind().dialect.name == "postgresql":
        groups = _in_postgresql(session, where, by)
    else:
        groups = _in_sqlite(session, where, by)
    return sorted(groups, key=lambda group: group.key)


# -- the records, as rows -----------------------------------------------------------------------


def _records(where: ColumnElement[bool], postgresql: bool) -> tuple[Subquery, Subquery]:
    """The attempt records as `bt.attempts.records` builds them, in two parts: the jobs whose
    one run is their one attempt, and the others (see the module's docstring)."""
    a, other = ATTEMPT, ATTEMPT.alias("other")
    more: ColumnElement[bool]
    if postgresql:  # an anti-join
        more = select(other.c.seq).where(other.c.job_id == a.c.job_id, other.c.seq != 1).exists()
    else:  # a set built once
        more = a.c.job_id.in_(select(other.c.job_id).where(other.c.seq != 1))
    alone = (
        _ended_select(a, a)
        .select_from(a.join(JOB, JOB.c.id == a.c.job_id))
        .where(where, a.c.seq == 1, JOB.c.status != Status.RUNNING, _not_given_back(a), ~more)
    )
    several = union_all(
        select(other.c.job_id).where(other.c.seq != 1),
        select(JOB.c.id).where(JOB.c.status == Status.RUNNING),
    )
    rest = and_(where, a.c.job_id.in_(several))
    others = union_all(_ended(rest, epilogs=False), _ended(rest, epilogs=True), _running(where))
    return alone.subquery("alone"), others.subquery("several")


def _ended_select(a: Any, first: Any) -> Select[Any]:
    """A run `a` as a record, its attempt queued and started when `first` was: its `outcome`
    is the status it ended in, `traced` whether it failed (`_figures_of` reads them)."""
    return select(
        a.c.job_id,
        JOB.c.name,
        a.c.attempt,
        a.c.seq.label("pos"),
        type_coerce(a.c.outcome, String).label("outcome"),
        a.c.traceback.is_not(None).label("traced"),
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
            literal(RUNNING),
            literal(False),
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


# -- the facts: each record's group and figures ---------------------------------------------------


def _facts(where: ColumnElement[bool], by: GroupBy, postgresql: bool) -> Select[Any]:
    """The records with their group key `k`, the figures `bt.report` derives from them, and
    what ranks them within their job in a group: `status`, the job's status after its latest
    record there (NULL on the others), and flags (1 or 0) on the one with the job's highest
    run time (`best_run`) and peak RSS (`best_peak_rss`) there."""
    alone, several = _records(where, postgresql)
    ones = (literal(1).label(n) for n in _BEST.values())
    one = select(*_figures_of(alone.c, by, postgresql).values(), *ones)
    figures = _figures_of(several.c, by, postgresql)
    order = (several.c.attempt, several.c.started_at, several.c.pos)
    ranked = select(*figures.values(), *order).subquery("ranked")
    r = ranked.c

    def first(*order: Any) -> ColumnElement[bool]:
        return func.row_number().over(partition_by=(r.k, r.job_id), order_by=order) == 1

    latest = first(r.attempt.desc(), r.started_at.desc().nulls_last(), r.pos.desc())
    best = [case((first(r[m].desc().nulls_last()), 1), else_=0).label(n) for m, n in _BEST.items()]
    columns = [case((latest, r.after)).label("after") if n == "after" else r[n] for n in figures]
    return union_all(one, select(*columns, *best))  # type: ignore[return-value]


_BEST = {m: f"best_{m}" for m in TOPS}
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


def _figures(f: Any, postgresql: bool) -> Select[Any]:
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


def _failures(f: Any, postgresql: bool) -> Select[Any]:
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


# -- PostgreSQL: one statement -------------------------------------------------------------------


def _in_postgresql(session: Session, where: ColumnElement[bool], by: GroupBy) -> list[GroupStats]:
    session.execute(text("SET LOCAL jit = off"))  # compiling would take longer than running
    facts = _facts(where, by, postgresql=True).cte("facts").prefix_with("MATERIALIZED")
    f = facts.c
    tops = [_top(f, metric).label(kind) for metric, kind in TOPS.items()]
    figures = _figures(f, postgresql=True).add_columns(*tops).subquery("figures")
    failures = _failures(f, postgresql=True).subquery("failures")
    found = func.json_agg(func.json_build_array(failures.c.line, failures.c.n))
    reasons = select(failures.c.k, cast(found, String).label("reasons")).group_by(failures.c.k)
    listed = reasons.subquery("reasons")
    statement = select(figures, listed.c.reasons).outerjoin_from(
        figures, listed, listed.c.k == figures.c.k
    )
    groups = []
    for row in session.execute(statement).mappings():
        lines = [(str(line), int(count)) for line, count in json.loads(row["reasons"] or "[]")]
        quantiles = {m: row[f"{m}_q"] or [None] * len(QUANTILES) for m in METRICS}
        jobs = {kind: list(row[kind] or []) for kind in TOPS.values()}
        groups.append(_group(row, quantiles, lines, jobs))
    return groups


def _top(f: Any, metric: str) -> ColumnElement[Any]:
    """The ids of a group's `TOP` jobs with the highest values of a metric (ties by job id),
    each at its best value."""
    best = and_(f[_BEST[metric]] == 1, f[metric].is_not(None))
    ordered = aggregate_order_by(f.job_id, f[metric].desc(), f.job_id)
    jobs = type_coerce(func.array_agg(ordered).filter(best), ARRAY(Integer))
    return jobs[1:TOP]


# -- SQLite: a temporary table, an index per metric ----------------------------------------------


def _in_sqlite(session: Session, where: ColumnElement[bool], by: GroupBy) -> list[GroupStats]:
    savepoint = session.begin_nested()  # a rollback to it drops the table
    connection = session.connection()
    cache = connection.exec_driver_sql("PRAGMA temp.cache_size").scalar_one()
    connection.exec_driver_sql(f"PRAGMA temp.cache_size = {SQLITE_TEMP_CACHE}")
    try:
        return _from_table(connection, where, by)
    finally:
        savepoint.rollback()
        connection.exec_driver_sql(f"PRAGMA temp.cache_size = {int(cache)}")


def _from_table(
    connection: Connection, where: ColumnElement[bool], by: GroupBy
) -> list[GroupStats]:
    connection.execute(CreateTable(FACTS))
    facts = _facts(where, by, postgresql=False)
    connection.execute(insert(FACTS).from_select(list(facts.selected_columns.keys()), facts))
    f = FACTS.c
    failures: dict[str, list[tuple[str, int]]] = {}
    for key, line, count in connection.execute(_failures(f, postgresql=False)):
        failures.setdefault(key, []).append((line, count))
    figures = connection.execute(_figures(f, postgresql=False)).mappings().all()
    for index in FACTS.indexes:  # now: the scans above are faster without them
        index.create(connection)
    groups = []
    for row in figures:
        offsets = _offsets(row)
        picked = connection.execute(_PICKS, {"k": row["k"], **offsets}).one()._mapping
        quantiles = {m: _quantiles(row[f"{m}_count"], m, picked) for m in METRICS}
        tops = {kind: _found(picked, kind) for kind in TOPS.values()}
        groups.append(_group(row, quantiles, failures.get(row["k"], []), tops))
    return groups


def _facts_table() -> Table:
    """The facts, one record a row, indexed by group and each metric from the highest (ties by
    job id; with the flag of a job's best record for the top lists)."""
    types = {"k": String, "after": String, "reason": String, "job_id": Integer}
    floats = ("wait", "run", "cpu_efficiency", "cpu_seconds")
    types |= {name: Float for name in floats}
    names = ["k", "job_id", "after", "failed", "reason", *METRICS, "measured", *SUMS]
    columns: list[Column[Any]] = [Column(n, types.get(n, BigInteger)) for n in names]
    columns += [Column(n, Integer) for n in _BEST.values()]
    table = Table("bt_stats_facts", MetaData(), *columns, prefixes=["TEMPORARY"])
    for m in METRICS:
        best = [table.c[_BEST[m]]] if m in TOPS else []
        Index(f"bt_stats_{m}", table.c.k, table.c[m].desc(), table.c.job_id, *best)
    return table


FACTS = _facts_table()


def _picks() -> Select[Any]:
    """One row of a group's (`:k`) picks: for each metric, the values at the places (from the
    highest, `LIMIT 1 OFFSET :place`) of `_offsets`, and the ids of its top jobs."""
    f = FACTS.c

    def at(metric: str, place: str, *condition: Any, value: Any = None) -> Any:
        found = select(f[metric] if value is None else value).where(
            f.k == bindparam("k"), f[metric].is_not(None), *condition
        )
        return (
            found.order_by(f[metric].desc(), f.job_id)
            .limit(1)
            .offset(bindparam(place))
            .scalar_subquery()
            .label(place)
        )

    columns = [at(m, name) for m in METRICS for name in _places(m)]
    for metric, kind in TOPS.items():
        best = f[_BEST[metric]] == 1
        columns += [at(metric, f"{kind}{i}", best, value=f.job_id) for i in range(TOP)]
    return select(*columns)


def _places(metric: str) -> list[str]:
    """The offsets a metric's quantiles read: low and high for each."""
    return [f"{metric}_{end}{i}" for i in range(len(QUANTILES)) for end in ("lo", "hi")]


def _offsets(figures: _Row) -> dict[str, int]:
    """A group's offsets from the highest value of each metric to the two values each quantile
    interpolates between, as `bt.report.stats.quantile` finds them; and of its top jobs."""
    offsets = {f"{kind}{i}": i for kind in TOPS.values() for i in range(TOP)}
    for m in METRICS:
        count = int(figures[f"{m}_count"])
        for i, q in enumerate(QUANTILES):
            low = math.floor(q * (count - 1)) if count else 0
            high = min(low + 1, count - 1)
            offsets[f"{m}_lo{i}"] = max(count - 1 - low, 0)
            offsets[f"{m}_hi{i}"] = max(count - 1 - high, 0)
    return offsets


def _quantiles(count: int, metric: str, picked: _Row) -> list[float | None]:
    """`bt.report.stats.quantile` from the values at its two ranks."""
    if not count:
        return [None] * len(QUANTILES)
    found = []
    for i, q in enumerate(QUANTILES):
        low, high = picked[f"{metric}_lo{i}"], picked[f"{metric}_hi{i}"]
        position = q * (count - 1)
        found.append(low + (high - low) * (position - math.floor(position)))
    return found


def _found(picked: _Row, kind: str) -> list[int]:
    return [int(job) for i in range(TOP) if (job := picked[f"{kind}{i}"]) is not None]


# -- back to Python ----------------------------------------------------------------------------


def _group(
    figures: _Row,
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


def _spread(figures: _Row, metric: str, quantiles: Sequence[Any]) -> Spread:
    p25, p50, p75, p90 = (None if q is None else float(q) for q in quantiles)
    low, high = figures[f"{metric}_min"], figures[f"{metric}_max"]
    if metric == "peak_rss":
        low, high = (None if v is None else int(v) for v in (low, high))
    count, total = int(figures[f"{metric}_count"]), float(figures[f"{metric}_total"] or 0.0)
    return Spread(count, total, low, p25, p50, p75, p90, high)


_PICKS = _picks()
