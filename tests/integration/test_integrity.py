"""`db check` finds what the rules forbid, planted behind the services' back."""

from __future__ import annotations

from sqlalchemy import text

from bt import Brownthrower
from tests.factories import claim, job, runner


def plant(app: Brownthrower, sql: str) -> None:
    with app.db.engine.begin() as conn:
        conn.execute(text(sql))


def kinds(app: Brownthrower) -> dict[str, tuple[int, ...]]:
    return {f.detail.split(":")[0]: f.job_ids for f in app.jobs.check()}


def test_a_consistent_database_has_no_findings(app: Brownthrower) -> None:
    parent, child = job(app, submit=True), job(app, submit=True)
    app.jobs.link(parent, child)
    assert app.jobs.check() == []


def test_a_cycle_is_found_with_its_jobs(app: Brownthrower) -> None:
    a, b, c = job(app), job(app), job(app)
    app.jobs.link(a, b)
    app.jobs.link(b, c)
    plant(app, f"INSERT INTO dependency (parent_id, child_id, scope) VALUES ({c}, {a}, 0)")
    assert [f.job_ids for f in app.jobs.check() if f.kind == "cycle"] == [(a, b, c)]


def test_a_wrong_pending_parents_counter_is_found(app: Brownthrower) -> None:
    job_id = job(app, submit=True)
    plant(app, f"UPDATE job SET pending_parents = 2 WHERE id = {job_id}")
    assert kinds(app)["1 job(s) with a wrong count of pending parents"] == (job_id,)


def test_a_wrong_subjob_counter_is_found(app: Brownthrower) -> None:
    job_id = job(app)
    plant(app, f"UPDATE job SET sub_total = 3 WHERE id = {job_id}")
    assert kinds(app)["1 job(s) with wrong subjob counts"] == (job_id,)


def test_a_running_job_without_a_live_lease_is_found(app: Brownthrower) -> None:
    job_id = job(app, submit=True)
    lost = app.runners.register(host="h", pid=1, slots=1, tasks=["*"], lease=-5)
    app.claims.claim(lost.id, ["noop"])
    assert kinds(app)["1 job(s) RUNNING without a live runner lease"] == (job_id,)


def test_a_job_queued_behind_a_stashed_parent_is_found(app: Brownthrower) -> None:
    parent, child = job(app), job(app, submit=True)
    app.jobs.link(parent, child)
    assert kinds(app)["1 job(s) QUEUED behind a STASHED parent"] == (child,)


def test_a_blocked_job_is_found(app: Brownthrower) -> None:
    parent, child = job(app, submit=True), job(app, submit=True)
    app.jobs.link(parent, child)
    app.claims.fail(claim(app, runner(app)), "exception", "boom")
    assert kinds(app)["1 job(s) BLOCKED by a FAILED parent"] == (child,)


def test_history_rows_of_a_removed_job_are_found(app: Brownthrower) -> None:
    plant(
        app,
        "INSERT INTO job_attempt (job_id, seq, attempt, outcome, ended_at)"
        " VALUES (999, 1, 1, 'DONE', '2026-01-01 00:00:00')",
    )
    assert kinds(app)["1 job(s) removed, whose runs are still in the history"] == (999,)
