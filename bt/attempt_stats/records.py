"""The attempt records of `bt.attempts.records`, rebuilt as rows in SQL (the rules are in
`bt.attempt_stats`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    String,
    and_,
    case,
    func,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.selectable import Select, Subquery

from bt.models import ATTEMPT, JOB, RUNNER
from bt.status import Status
from bt.values import GIVEN_BACK

DONE, FAILED, QUEUED, STAND_BY = (s.value for s in (Status.DONE, Status.FAILED, Status.QUEUED,
                                                    Status.STAND_BY))  # fmt: skip
RUNNING = Status.RUNNING.value
LAST = 2**31 - 1  #: the place of a run under way among its job's records: the last


def records(where: ColumnElement[bool], postgresql: bool) -> tuple[Subquery, Subquery]:
    """The attempt records as `bt.attempts.records` builds them, in two parts: the jobs whose
    one run is their one attempt, and the others (the rules are in `bt.attempt_stats`)."""
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
    is the status it ended in, `traced` whether it failed (`bt.attempt_stats.facts` reads them)."""
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
            literal(LAST),
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
