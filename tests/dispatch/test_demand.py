"""The dispatcher's database look-ups, on SQLite and PostgreSQL: soon-runnable jobs (an index
walk from the RUNNING jobs), and which pilots' runners hold or claimed jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bt import Brownthrower, Status
from bt.dispatch.probe import RunnerProbe, soon_runnable, soon_runnable_sql
from bt.dispatch.watch import Tracked
from bt.values import JobSpec, NodeSpec, RunResult


def soon(app: Brownthrower, tasks: list[str] | None = None) -> int:
    with app.db.read() as session:
        return soon_runnable(session, tasks)


def graph(app: Brownthrower) -> dict[str, int]:
    """Parents a1, a2, a3 (noop, claimed: RUNNING, then a3 DONE), f (noop, FAILED), q (echo,
    QUEUED) and their children:
    c1 <- a1; c2 <- a1, a2; c3 <- a1, a3; c4 <- a1, q; c5 <- a2, f; c6 <- a1 (not submitted);
    c7 (echo) <- a1; g1 <- c1."""
    nodes = [NodeSpec(k, JobSpec("noop"), submit=True) for k in ("a1", "a2", "a3", "f")]
    nodes.append(NodeSpec("q", JobSpec("echo"), submit=True))
    nodes += [NodeSpec(f"c{i}", JobSpec("noop"), submit=True) for i in (1, 2, 3, 4, 5)]
    nodes += [NodeSpec("c6", JobSpec("noop"), submit=False)]
    nodes += [NodeSpec("c7", JobSpec("echo"), submit=True), NodeSpec("g1", JobSpec("noop"), True)]
    links = [("a1", "c1"), ("a1", "c2"), ("a2", "c2"), ("a1", "c3"), ("a3", "c3"), ("a1", "c4")]
    links += [("q", "c4"), ("a2", "c5"), ("f", "c5"), ("a1", "c6"), ("a1", "c7"), ("c1", "g1")]
    ids = {str(k): v for k, v in app.jobs.create_graph(nodes, links).items()}
    who = app.runners.register(host="h", pid=1, slots=4, tasks=["noop"], lease=60)
    claims = {c.job_id: c for c in app.claims.claim_many(who.id, ["noop"], 10)}
    assert set(claims) == {ids[k] for k in ("a1", "a2", "a3", "f")}
    app.claims.finish(claims[ids["a3"]], RunResult())
    app.jobs.abort(ids["f"])
    return ids


def test_jobs_waiting_only_for_running_parents_are_soon_runnable(app: Brownthrower) -> None:
    graph(app)
    assert soon(app) == 4  # c1, c2, c3, c7
    assert soon(app, ["noop"]) == 3  # the task filter leaves c7 out
    assert soon(app, ["echo"]) == 1
    assert soon(app, []) == 0


def test_blocked_and_stashed_jobs_are_never_soon_runnable(app: Brownthrower) -> None:
    ids = graph(app)
    assert app.jobs.info(ids["c5"]).status is Status.QUEUED  # blocked by f
    assert app.jobs.counts()["BLOCKED"] == 1
    assert soon(app, ["noop"]) == 3  # not c5 (blocked), c6 (stashed), c4 nor g1


def test_a_parent_that_fails_takes_its_children_out_of_soon_runnable_work(
    app: Brownthrower,
) -> None:
    ids = graph(app)
    assert soon(app, ["noop"]) == 3
    app.jobs.abort(ids["a2"])  # c2 is blocked now
    assert soon(app, ["noop"]) == 2  # c1, c3


def plan(app: Brownthrower, tasks: list[str] | None) -> str:
    sqlite = app.db.is_sqlite
    sql = soon_runnable_sql(sqlite=sqlite, tasks=tasks is not None)
    params: dict[str, Any] = {}
    if tasks is not None:  # the expanding list, spelled out
        names = ", ".join(f":t{i}" for i in range(len(tasks)))
        sql = sql.replace(":tasks", f"({names})")
        params = {f"t{i}": t for i, t in enumerate(tasks)}
    explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
    with app.db.engine.connect() as conn:
        if not sqlite:
            conn.exec_driver_sql("ANALYZE job")
            conn.exec_driver_sql("ANALYZE dependency")
        rows = conn.execute(text(explain + sql), params).all()
    return "\n".join(str(row) for row in rows)


@pytest.mark.parametrize("tasks", [None, ["noop"]], ids=["every task", "some tasks"])
def test_soon_runnable_walks_from_the_running_jobs_by_index(
    app: Brownthrower, tasks: list[str] | None
) -> None:
    """3000 QUEUED jobs wait for QUEUED parents, 2 for a RUNNING one: the look-up starts from
    the RUNNING jobs (the status index; on PostgreSQL the runner index), then follows the
    dependency's primary key."""
    nodes = [NodeSpec(("q", k), JobSpec("echo"), submit=True) for k in range(1000)]
    nodes += [NodeSpec("r", JobSpec("noop"), True)]
    nodes += [NodeSpec(i, JobSpec("noop"), submit=True) for i in range(3002)]
    links = [(("q", i // 3), i) for i in range(3000)] + [("r", 3000), ("r", 3001)]
    ids = app.jobs.create_graph(nodes, links)
    who = app.runners.register(host="h", pid=1, slots=1, tasks=["noop"], lease=60)
    (claim,) = app.claims.claim_many(who.id, ["noop"], 1)
    assert claim.job_id == ids["r"] and soon(app, tasks) == 2
    shown = plan(app, tasks)
    if app.db.is_sqlite:
        assert "SEARCH p USING COVERING INDEX ix_job_status_id (status=?)" in shown, shown
        assert "SCAN" not in shown.replace("SCAN soon", ""), shown
    else:
        assert "Seq Scan" not in shown, shown
        # PostgreSQL indexes RUNNING jobs by their runner only (migration 0008)
        assert "ix_job_runner_id" in shown and "pk_dependency" in shown, shown


def test_the_probe_finds_each_pilots_runner_and_what_it_does(
    app: Brownthrower, tmp_path: Path
) -> None:
    logs = {
        "1": "brownthrower pilot 1 pid 101 on nodeA at now\n",
        "2": "brownthrower pilot 2 pid 102 on nodeA at now\n",
        "3": "brownthrower pilot 3 pid 103 on nodeB at now\n",  # its runner never registered
        "4": "",  # not started yet
    }
    for key, banner in logs.items():
        (tmp_path / f"{key}.out").write_text(banner)
    busy = app.runners.register(host="nodeA", pid=101, slots=1, tasks=["noop"], lease=60)
    idle = app.runners.register(host="nodeA", pid=102, slots=1, tasks=["noop"], lease=60)
    app.runners.register(host="nodeC", pid=103, slots=1, tasks=["noop"], lease=60)  # elsewhere
    probe = RunnerProbe(app, lambda batch_id: tmp_path / f"{batch_id}.out")
    records = [Tracked(key) for key in logs]
    probe.update(records)  # the first look: claims from now on count
    app.jobs.create_graph([NodeSpec(0, JobSpec("noop"), submit=True)])
    app.claims.claim_many(busy.id, ["noop"], 1)
    probe.update(records)
    by_id = {t.batch_id: t for t in records}
    assert by_id["1"].runners == {busy.id} and by_id["1"].busy and by_id["1"].claimed
    assert by_id["2"].runners == {idle.id} and by_id["2"].registered and not by_id["2"].busy
    assert not by_id["2"].claimed
    assert by_id["3"].where == ("nodeB", 103) and not by_id["3"].registered
    assert by_id["4"].where is None


def test_the_probe_sees_a_claim_of_a_job_that_already_ended(
    app: Brownthrower, tmp_path: Path
) -> None:
    (tmp_path / "1.out").write_text("brownthrower pilot 1 pid 101 on nodeA at now\n")
    who = app.runners.register(host="nodeA", pid=101, slots=1, tasks=["noop"], lease=60)
    probe = RunnerProbe(app, lambda batch_id: tmp_path / f"{batch_id}.out")
    record = Tracked("1")
    probe.update([record])
    assert record.registered and not record.claimed
    app.jobs.create_graph([NodeSpec(0, JobSpec("noop"), submit=True)])
    (claim,) = app.claims.claim_many(who.id, ["noop"], 1)
    app.claims.finish(claim, RunResult())  # between two passes
    app.runners.unregister(who.id)
    probe.update([record])
    assert record.claimed and not record.registered and not record.busy
