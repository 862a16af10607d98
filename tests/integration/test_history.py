"""Job history: every status change in `job_event`, folded into one row per attempt."""

from __future__ import annotations

from bt import Brownthrower, Status
from bt.values import DeclaredJob, RunResult
from tests.factories import claim, job, run_next, runner


def test_a_new_job_has_its_creation_in_its_history(app: Brownthrower) -> None:
    events = app.jobs.events(job(app, submit=True))
    assert [(e.old_status, e.new_status) for e in events] == [(None, Status.QUEUED)]


def test_a_finished_job_has_one_attempt_with_its_runner(app: Brownthrower) -> None:
    who = runner(app)
    job_id = job(app, submit=True)
    run_next(app, who)
    (attempt,) = app.jobs.history(job_id)
    assert (attempt.number, attempt.outcome, attempt.runner_id, attempt.host) == (
        1,
        "DONE",
        who.id,
        "test",
    )
    assert attempt.duration is not None and attempt.duration >= 0


def test_each_failed_attempt_keeps_its_own_reason_and_traceback(app: Brownthrower) -> None:
    job_id = job(app, submit=True, retries=1, retry_delay=0)
    who = runner(app)
    app.claims.fail(claim(app, who), "exception", "first traceback", exit_code=1)
    app.claims.fail(claim(app, who), "exception", "second traceback", exit_code=2)
    history = app.jobs.history(job_id)
    assert [(a.outcome, a.traceback, a.exit_code) for a in history] == [
        ("retried", "first traceback", 1),
        ("FAILED", "second traceback", 2),
    ]


def test_the_history_of_a_lost_retried_and_aborted_job_is_complete(app: Brownthrower) -> None:
    job_id = job(app, submit=True, retries=1, retry_delay=0)
    lost = app.runners.register(host="gone", pid=2, slots=1, tasks=["*"], lease=-1)
    app.claims.claim(lost.id, ["noop"])
    app.runners.recover_lost()
    app.claims.fail(claim(app, runner(app)), "exception", "boom")
    claim(app, runner(app))
    app.jobs.abort(job_id)
    outcomes = [(a.number, a.outcome, a.reason) for a in app.jobs.history(job_id)]
    assert outcomes == [
        (1, "requeued", "runner lost"),
        (2, "retried", "exception"),
        (3, "FAILED", "aborted"),
    ]


def test_events_are_in_the_order_they_happened(app: Brownthrower) -> None:
    job_id = job(app)
    app.jobs.submit(job_id)
    run_next(app, runner(app))
    changes = [(e.old_status, e.new_status) for e in app.jobs.events(job_id)]
    assert changes == [
        (None, Status.STASHED),
        (Status.STASHED, Status.QUEUED),
        (Status.QUEUED, Status.RUNNING),
        (Status.RUNNING, Status.DONE),
    ]


def test_a_superjob_prolog_and_epilog_are_one_attempt(app: Brownthrower) -> None:
    who = runner(app)
    parent = job(app, submit=True)
    app.claims.finish(claim(app, who), RunResult(subjobs=[DeclaredJob(0, "noop")]))
    run_next(app, who)
    app.claims.finish(claim(app, who), RunResult(output="2"))
    assert [(a.number, a.outcome) for a in app.jobs.history(parent)] == [(1, "DONE")]


def test_the_history_of_a_removed_job_goes_with_it(app: Brownthrower) -> None:
    job_id = job(app)
    app.jobs.remove(job_id)
    with app.db.read() as session:
        from sqlalchemy import func, select

        from bt.models import JobEvent

        assert session.scalar(select(func.count()).select_from(JobEvent)) == 0


def test_sqlite_never_reuses_the_id_of_a_removed_job(app: Brownthrower) -> None:
    first, last = job(app), job(app)
    app.jobs.remove(last)
    assert job(app) == last + 1 and first < last
