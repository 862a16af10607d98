"""`job stats` on SQLite: the facts written to a temporary table with an index per metric (gone
with the savepoint that holds it), then the two values each quantile needs and the top jobs read
with `LIMIT 1 OFFSET n`, interpolated here as `bt.report.stats.quantile` does."""

from __future__ import annotations

import math
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
    bindparam,
    insert,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.selectable import Select

from bt.attempt_stats.facts import (
    BEST,
    METRICS,
    QUANTILES,
    SUMS,
    TOPS,
    Row,
    aggregates,
    fact_rows,
    group,
    top_failures,
)
from bt.report.stats import TOP, GroupBy, GroupStats

#: the most memory (KiB, as a negative `cache_size`) SQLite's cache of the temporary table may
#: take while it is read; at the default, ~2 MB, 100k records spill to a file (restored after)
SQLITE_TEMP_CACHE = -256_000


def in_sqlite(session: Session, where: ColumnElement[bool], by: GroupBy) -> list[GroupStats]:
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
    facts = fact_rows(where, by, postgresql=False)
    connection.execute(insert(FACTS).from_select(list(facts.selected_columns.keys()), facts))
    f = FACTS.c
    failures: dict[str, list[tuple[str, int]]] = {}
    for key, line, count in connection.execute(top_failures(f, postgresql=False)):
        failures.setdefault(key, []).append((line, count))
    figures = connection.execute(aggregates(f, postgresql=False)).mappings().all()
    for index in FACTS.indexes:  # now: the scans above are faster without them
        index.create(connection)
    groups = []
    for row in figures:
        offsets = _offsets(row)
        picked = connection.execute(_PICKS, {"k": row["k"], **offsets}).one()._mapping
        quantiles = {m: _quantiles(row[f"{m}_count"], m, picked) for m in METRICS}
        tops = {kind: _found(picked, kind) for kind in TOPS.values()}
        groups.append(group(row, quantiles, failures.get(row["k"], []), tops))
    return groups


def _facts_table() -> Table:
    """The facts, one record a row, indexed by group and each metric from the highest (ties by
    job id; with the flag of a job's best record for the top lists)."""
    types = {"k": String, "after": String, "reason": String, "job_id": Integer}
    floats = ("wait", "run", "cpu_efficiency", "cpu_seconds")
    types |= {name: Float for name in floats}
    names = ["k", "job_id", "after", "failed", "reason", *METRICS, "measured", *SUMS]
    columns: list[Column[Any]] = [Column(n, types.get(n, BigInteger)) for n in names]
    columns += [Column(n, Integer) for n in BEST.values()]
    table = Table("bt_stats_facts", MetaData(), *columns, prefixes=["TEMPORARY"])
    for m in METRICS:
        best = [table.c[BEST[m]]] if m in TOPS else []
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
        best = f[BEST[metric]] == 1
        columns += [at(metric, f"{kind}{i}", best, value=f.job_id) for i in range(TOP)]
    return select(*columns)


def _places(metric: str) -> list[str]:
    """The offsets a metric's quantiles read: low and high for each."""
    return [f"{metric}_{end}{i}" for i in range(len(QUANTILES)) for end in ("lo", "hi")]


def _offsets(figures: Row) -> dict[str, int]:
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


def _quantiles(count: int, metric: str, picked: Row) -> list[float | None]:
    """`bt.report.stats.quantile` from the values at its two ranks."""
    if not count:
        return [None] * len(QUANTILES)
    found = []
    for i, q in enumerate(QUANTILES):
        low, high = picked[f"{metric}_lo{i}"], picked[f"{metric}_hi{i}"]
        position = q * (count - 1)
        found.append(low + (high - low) * (position - math.floor(position)))
    return found


def _found(picked: Row, kind: str) -> list[int]:
    return [int(job) for i in range(TOP) if (job := picked[f"{kind}{i}"]) is not None]


_PICKS = _picks()
