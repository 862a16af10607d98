"""The claim must not scan finished or blocked jobs: it has to use the partial runnable index.
A listing by task name must read (name, status) index ranges, never scan the job table."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from bt import Brownthrower
from bt.filters import parse
from bt.listing import by_ranges
from bt.queries import claim_next, claim_params, limited_candidates
from bt.values import JobSpec, NodeSpec
from tests.factories import job, runner


def plan(app: Brownthrower, *, limited: bool = False) -> str:
    """The database's plan for the claim exactly as the runner sends it (of jobs without
    limits; with `limited`, its first statement for jobs with limits)."""
    pg = app.db.is_postgresql
    sent: dict[str, Any] = {}

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        sent.update(sql=statement, params=parameters)

    with app.db.engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", capture)
        with conn.begin() as transaction:
            if limited:
                conn.execute(limited_candidates(pg), {"tasks": ["noop"], "count": 4})
            else:
                conn.execute(claim_next(pg), claim_params(["noop"], "t" * 32, runner(app).id))
            event.remove(conn, "before_cursor_execute", capture)
            if pg:
                conn.exec_driver_sql("ANALYZE job")
            explain = "EXPLAIN " if pg else "EXPLAIN QUERY PLAN "
            rows = conn.exec_driver_sql(explain + sent["sql"], sent["params"]).all()
            transaction.rollback()
    return "\n".join(str(row) for row in rows)


def test_the_claim_uses_the_runnable_index_with_many_blocked_jobs(app: Brownthrower) -> None:
    parent = job(app)
    nodes = [NodeSpec(i, JobSpec("noop"), True) for i in range(3000)]
    app.jobs.create_graph(nodes, existing_parents=[(parent, i) for i in range(3000)])
    job(app, submit=True)
    assert "ix_job_runnable" in plan(app)


def test_the_claim_uses_the_runnable_index_with_many_delayed_retries(app: Brownthrower) -> None:
    from sqlalchemy import update

    from bt.models import Job
    from bt.sqltypes import db_now

    app.jobs.create_graph([NodeSpec(i, JobSpec("noop"), True) for i in range(3000)])
    app.db.write(lambda s: s.execute(update(Job).values(not_before=db_now(3600))))
    job(app, submit=True)
    assert "ix_job_runnable" in plan(app)


def test_the_claim_of_unlimited_jobs_reads_only_their_part_of_the_index(
    app: Brownthrower,
) -> None:
    app.limits.set("db", 1)
    limited = JobSpec("noop", limits={"db": 1})
    app.jobs.create_graph([NodeSpec(i, limited, True) for i in range(3000)])
    job(app, submit=True)
    found = plan(app)
    assert "ix_job_runnable" in found
    assert ("has_limits = false" if app.db.is_postgresql else "has_limits=?") in found, found


def test_the_claim_of_limited_jobs_reads_only_their_part_of_the_index(app: Brownthrower) -> None:
    app.limits.set("db", 1)
    app.jobs.create_graph([NodeSpec(i, JobSpec("noop"), True) for i in range(3000)])
    job(app, submit=True, limits={"db": 1})
    found = plan(app, limited=True)
    assert "ix_job_runnable" in found
    assert ("has_limits = true" if app.db.is_postgresql else "has_limits=?") in found, found
    assert "Seq Scan on job " not in found and "SCAN job " not in found, found


def range_plans(app: Brownthrower, terms: list[str], *, newest: bool, after: int | None) -> str:
    """The database's plans for the statements of a listing by (name, status) index ranges."""
    sent: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        sent.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", capture)  # reads have an engine of their own
    try:
        with app.db.read() as session:
            ranged = by_ranges(session, parse(terms), 51, after, newest)
            assert ranged is not None
            query, params = ranged
            if query is not None:
                session.execute(query, params)
    finally:
        event.remove(Engine, "before_cursor_execute", capture)
    explain = "EXPLAIN " if app.db.is_postgresql else "EXPLAIN QUERY PLAN "
    with app.db.engine.connect() as conn:
        plans = [conn.exec_driver_sql(explain + sql, params).all() for sql, params in sent]
    return "\n".join(str(row) for rows in plans for row in rows)


@pytest.fixture
def history(app: Brownthrower) -> Brownthrower:
    """1000 noop jobs then 1000 echo jobs, every 97th FAILED, with fresh statistics."""
    app.jobs.create_graph([NodeSpec(i, JobSpec("noop")) for i in range(2000)])
    rename = "UPDATE job SET name = 'echo' WHERE id > 1000"
    fail = "UPDATE job SET status = 'FAILED' WHERE id % 97 = 0"
    app.db.write(lambda s: (s.execute(text(rename)), s.execute(text(fail))))
    app.db.write(lambda s: s.execute(text("ANALYZE")))
    return app


def test_a_listing_by_name_reads_name_status_ranges(history: Brownthrower) -> None:
    for terms in (["name=ech*"], ["status=STASHED", "name=noop"], ["name=noop"], ["name=zz*"]):
        for newest, after in ((False, None), (True, None), (False, 1500), (True, 1500)):
            plans = range_plans(history, terms, newest=newest, after=after)
            assert "ix_job_name_status_id" in plans, (terms, newest, after)
            assert "Seq Scan" not in plans and "SCAN job" not in plans, (terms, newest, plans)


def test_subjobs_are_found_by_the_partial_super_id_index(app: Brownthrower) -> None:
    app.jobs.create_graph([NodeSpec(i, JobSpec("noop"), True) for i in range(3000)])
    explain = "EXPLAIN " if app.db.is_postgresql else "EXPLAIN QUERY PLAN "
    with app.db.engine.begin() as conn:
        if app.db.is_postgresql:
            conn.exec_driver_sql("ANALYZE job")
        rows = conn.execute(text(explain + "SELECT id FROM job WHERE super_id = 7")).all()
    assert "ix_job_super_id" in "\n".join(str(row) for row in rows)
