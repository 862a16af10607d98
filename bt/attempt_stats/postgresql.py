"""`job stats` on PostgreSQL: the facts read once, in one statement (`percentile_cont` for the
quantiles, an ordered `array_agg` for the top jobs)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    cast,
    func,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from bt.attempt_stats.facts import (
    BEST,
    METRICS,
    QUANTILES,
    TOPS,
    aggregates,
    fact_rows,
    group,
    top_failures,
)
from bt.report.stats import TOP, GroupBy, GroupStats


def in_postgresql(session: Session, where: ColumnElement[bool], by: GroupBy) -> list[GroupStats]:
    session.execute(text("SET LOCAL jit = off"))  # compiling would take longer than running
    facts = fact_rows(where, by, postgresql=True).cte("facts").prefix_with("MATERIALIZED")
    f = facts.c
    tops = [_top(f, metric).label(kind) for metric, kind in TOPS.items()]
    figures = aggregates(f, postgresql=True).add_columns(*tops).subquery("figures")
    failures = top_failures(f, postgresql=True).subquery("failures")
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
        groups.append(group(row, quantiles, lines, jobs))
    return groups


def _top(f: Any, metric: str) -> ColumnElement[Any]:
    """The ids of a group's `TOP` jobs with the highest values of a metric (ties by job id),
    each at its best value."""
    best = and_(f[BEST[metric]] == 1, f[metric].is_not(None))
    ordered = aggregate_order_by(f.job_id, f[metric].desc(), f.job_id)
    jobs = type_coerce(func.array_agg(ordered).filter(best), ARRAY(Integer))
    return jobs[1:TOP]
