"""`job list --sort FIELD`: jobs in the order of one field, sorted by the database and paged by
keyset on (field, id), so every page continues the whole order, not the page it fetched.

Ties go by id; empty values (a job not started has no `started`, `elapsed` or `host`) come last
in both directions. `elapsed` runs to `now` for a job not ended, and `host` is the host of the
job's latest claim that was not given back unstarted (where its latest attempt ran). A first
page reads an index for `id` and `status` (and `super_id` on SQLite); the other fields sort
every matching job.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeAlias

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    and_,
    cast,
    extract,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from bt import filters
from bt.errors import InvalidValue, JobNotFound
from bt.models import Job, JobAttempt, Runner
from bt.sqltypes import UTCDateTime
from bt.values import GIVEN_BACK

AnySelect: TypeAlias = Select[*tuple[Any, ...]]

FIELDS = (*filters.FIELDS, "elapsed", "host")  #: what `job list --sort` takes
#: fields a job may have no value of (sorted last)
NULLABLE = frozenset({*filters.NULLABLE, "elapsed", "host"})


def ordered(
    session: Session,
    query: AnySelect,
    field: str,
    *,
    limit: int,
    after: int | None,
    reverse: bool,
    now: dt.datetime,
) -> AnySelect:
    """`query` (of jobs) in `field` order, ties by id, empty values last; `reverse` for the
    opposite order (empty values still last). With `after`, the jobs that come after job
    `after` in that order (`JobNotFound` if it is gone)."""
    key = sort_key(session, field, now)
    if after is not None:
        query = query.where(_after(session, key, field, after, reverse))
    order = key.desc() if reverse else key.asc()
    if field in NULLABLE:
        order = order.nulls_last()
    return query.order_by(order, Job.id.desc() if reverse else Job.id).limit(limit)


def sort_key(session: Session, field: str, now: dt.datetime) -> ColumnElement[Any]:
    """The SQL value a job is sorted by (`InvalidValue` for an unknown field)."""
    if field == "elapsed":
        return elapsed(session.get_bind().dialect.name == "postgresql", now)
    if field == "host":
        return last_host()
    if field not in filters.FIELDS:
        raise InvalidValue(f"Cannot sort by {field!r}; fields: {', '.join(FIELDS)}.")
    return filters.column(field).expression


def _after(
    session: Session, key: ColumnElement[Any], field: str, after: int, reverse: bool
) -> ColumnElement[bool]:
    """The jobs after job `after` in the order of `key`: by (key, id), then those without a
    key; among those without a key when it has none."""
    row = session.execute(select(key).where(Job.id == after)).one_or_none()
    if row is None:
        raise JobNotFound(after)
    value = row[0]
    if value is None:
        return and_(key.is_(None), Job.id < after if reverse else Job.id > after)
    pair, mark = tuple_(key, Job.id), tuple_(literal(value, key.type), literal(after))
    beyond = pair < mark if reverse else pair > mark
    return or_(beyond, key.is_(None)) if field in NULLABLE else beyond


def elapsed(pg: bool, now: dt.datetime) -> ColumnElement[float]:
    """Seconds from a job's start to its end, or to `now` while it has not ended."""
    end = func.coalesce(Job.ts_ended, literal(now, UTCDateTime()))
    if pg:
        return cast(extract("epoch", end - Job.ts_started), Float)
    # to the millisecond: julianday's doubles would tell apart equal durations at other times
    return func.round((func.julianday(end) - func.julianday(Job.ts_started)) * 86400.0, 3)


def last_host() -> ColumnElement[str | None]:
    """The host of the job's run under way, else of its latest run not given back unstarted."""
    latest = (
        select(JobAttempt.host)
        .where(JobAttempt.job_id == Job.id)
        .where(func.coalesce(JobAttempt.reason, "") != GIVEN_BACK)
        .order_by(JobAttempt.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    current = select(Runner.host).where(Runner.id == Job.runner_id).scalar_subquery()
    return func.coalesce(current, latest)


def hosts(session: Session, ids: list[int]) -> dict[int, str]:
    """The host of each job's latest attempt (`last_host`), for those that have one."""
    rows = session.execute(select(Job.id, last_host()).where(Job.id.in_(ids)))
    return {job_id: host for job_id, host in rows if host is not None}
