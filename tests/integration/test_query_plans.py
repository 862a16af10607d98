"""The claim must not scan finished or blocked jobs: it has to use the partial runnable index."""

from __future__ import annotations

from sqlalchemy import text

from bt import Brownthrower
from bt.bulk import NodeSpec
from bt.jobs import JobSpec
from bt.queries import claim_next
from tests.factories import job


def plan(app: Brownthrower) -> str:
    pg = app.db.is_postgresql
    stmt = claim_next(["noop"], "t" * 32, 1, pg)
    compiled = stmt.compile(dialect=app.db.engine.dialect, compile_kwargs={"literal_binds": True})
    explain = "EXPLAIN " if pg else "EXPLAIN QUERY PLAN "
    with app.db.read() as session:
        if pg:
            session.execute(text("ANALYZE job"))
        rows = session.execute(text(explain + str(compiled))).all()
    return "\n".join(str(row) for row in rows)


def test_the_claim_uses_the_runnable_index_with_many_blocked_jobs(app: Brownthrower) -> None:
    parent = job(app)
    nodes = [NodeSpec(i, JobSpec("noop"), True) for i in range(3000)]
    app.jobs.create_graph(nodes, existing_parents=[(parent, i) for i in range(3000)])
    job(app, submit=True)
    assert "ix_job_runnable" in plan(app)
