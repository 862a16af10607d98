"""`job history` after a claim made ahead is given back unstarted: not an attempt, so it neither
replaces the attempt before it nor lengthens the one after it."""

from __future__ import annotations

from bt import Brownthrower, Status
from bt.runner.record import UNSTARTED
from bt.values import Requeued
from tests.factories import claim, job, runner


def failed_then_given_back(app: Brownthrower) -> int:
    """A job whose attempt 1 failed (retried), whose next claim was given back unstarted, and
    whose attempt 2 then failed too; its id."""
    job_id = job(app, submit=True, retries=2, retry_delay=0)
    who = runner(app)
    app.claims.fail(claim(app, who), "exception", "first traceback", exit_code=1)
    app.claims.settle([Requeued(claim(app, who), clear_tags=False, reason=UNSTARTED)])
    app.claims.fail(claim(app, who), "exception", "second traceback", exit_code=2)
    return job_id


def test_a_given_back_claim_keeps_the_failure_of_the_attempt_before(app: Brownthrower) -> None:
    history = app.jobs.history(failed_then_given_back(app))
    assert [(a.number, a.outcome, a.traceback) for a in history] == [
        (1, "retried", "first traceback"),
        (2, "retried", "second traceback"),
    ]


def test_a_given_back_claim_does_not_lengthen_the_next_attempt(app: Brownthrower) -> None:
    job_id = failed_then_given_back(app)
    claims = [e.at for e in app.jobs.events(job_id) if e.new_status is Status.RUNNING]
    assert app.jobs.history(job_id)[1].started == claims[-1]


def test_a_pre_empted_run_keeps_the_failure_of_the_attempt_before(app: Brownthrower) -> None:
    job_id = job(app, submit=True, retries=1, retry_delay=0)
    who = runner(app)
    app.claims.fail(claim(app, who), "exception", "first traceback", exit_code=1)
    app.claims.requeue(claim(app, who))
    assert app.jobs.history(job_id)[0].traceback == "first traceback"
