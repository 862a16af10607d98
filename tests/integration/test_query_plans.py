"""The claim must not scan finished or blocked jobs: it has to use the partial runnable index."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from bt import Brownthrower
from bt.queries import claim_next, claim_params
from bt.values import JobSpec, NodeSpec
from tests.factories import job, runner


def plan(app: Brownthrower) -> str:
    """The database's plan for the claim exactly as the runner sends it."""
    pg = app.db.is_postgresql
    sent: dict[str, Any] = {}

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        sent.update(sql=statement, params=parameters)

    with app.db.engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", capture)
        with conn.begin() as transaction:
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
