"""Automatic retries of failed runs: budget, delay with backoff, what is never retried."""

from __future__ import annotations

import datetime as dt

import pytest

from bt import Brownthrower, Status, errors, tagnames
from bt.claims import backoff_delay
from bt.values import JobSpec, RunResult
from tests.factories import claim, job, runner, status


def failed_once(app: Brownthrower, **spec: object) -> int:
    """A job with `spec` whose first run failed; its id."""
    job_id = app.jobs.create(JobSpec("noop", **spec), submit=True).id  # type: ignore[arg-type]
    app.claims.fail(claim(app, runner(app)), "exception", "Traceback: boom", exit_code=1)
    return job_id


def test_a_failed_run_with_retries_left_goes_back_to_the_queue(app: Brownthrower) -> None:
    assert status(app, failed_once(app, retries=2, retry_delay=0)) is Status.QUEUED


def test_without_retries_a_failed_run_fails_the_job(app: Brownthrower) -> None:
    assert status(app, failed_once(app)) is Status.FAILED


def test_a_retry_is_not_claimed_before_its_delay(app: Brownthrower) -> None:
    failed_once(app, retries=1, retry_delay=600)
    assert app.claims.claim(runner(app).id, ["noop"]) is None


def test_a_retry_is_claimed_once_its_delay_has_passed(app: Brownthrower) -> None:
    job_id = failed_once(app, retries=1, retry_delay=0)
    assert claim(app, runner(app)).job_id == job_id


def test_retry_delays_grow_by_the_backoff_factor_up_to_an_hour() -> None:
    delays = [backoff_delay(10, 3, retried) for retried in range(6)]
    assert delays == [10, 30, 90, 270, 810, 2430] and backoff_delay(10, 3, 6) == 3600


def test_the_second_retry_is_counted(app: Brownthrower) -> None:
    job_id = failed_once(app, retries=3, retry_delay=0)
    app.claims.fail(claim(app, runner(app)), "exception", "again")
    assert app.jobs.get(job_id).retried == 2


def test_the_delay_is_the_configured_one(app: Brownthrower) -> None:
    job_id = failed_once(app, retries=1, retry_delay=120)
    details = app.jobs.get(job_id)
    assert details.not_before is not None and details.ended is None
    wait = details.not_before - dt.datetime.now(dt.UTC)
    assert dt.timedelta(seconds=100) < wait <= dt.timedelta(seconds=120)


def test_a_job_out_of_retries_is_failed_with_its_last_reason(app: Brownthrower) -> None:
    job_id = failed_once(app, retries=1, retry_delay=0)
    app.claims.fail(claim(app, runner(app)), "time limit of 5 s exceeded", "killed")
    assert status(app, job_id) is Status.FAILED
    assert app.tags.get(job_id, tagnames.REASON) == "time limit of 5 s exceeded"


def test_an_abort_is_never_retried(app: Brownthrower) -> None:
    job_id = job(app, submit=True, retries=3, retry_delay=0)
    claim(app, runner(app))
    assert app.jobs.abort(job_id) is Status.FAILED


def test_resubmitting_a_failed_job_starts_a_fresh_retry_budget(app: Brownthrower) -> None:
    job_id = failed_once(app, retries=1, retry_delay=0)
    app.claims.fail(claim(app, runner(app)), "exception", "again")
    app.jobs.submit(job_id)
    assert app.jobs.get(job_id).retried == 0


def test_a_job_takes_its_task_retries_unless_it_sets_them(app: Brownthrower) -> None:
    assert app.jobs.get(job(app, "flaky")).retries == 2
    assert app.jobs.get(job(app, "flaky", retries=5)).retries == 5


def test_a_negative_retry_count_is_refused(app: Brownthrower) -> None:
    with pytest.raises(errors.InvalidValue, match="retries must be from 0"):
        job(app, retries=-1)


def test_a_clean_superjob_counts_one_attempt(app: Brownthrower) -> None:
    from bt.values import DeclaredJob

    who = runner(app)
    parent = job(app, submit=True)
    app.claims.finish(claim(app, who), RunResult(subjobs=[DeclaredJob(0, "noop")]))
    app.claims.finish(claim(app, who), RunResult(output="1"))
    epilog = claim(app, who)
    app.claims.finish(epilog, RunResult(output="2"))
    assert (epilog.job_id, app.jobs.get(parent).attempts) == (parent, 1)


def test_a_runner_learns_when_the_next_retry_of_its_tasks_is_due(app: Brownthrower) -> None:
    failed_once(app, retries=1, retry_delay=120)
    wait = app.claims.next_retry_in(["noop"])
    assert wait is not None and 100 < wait <= 120
    assert app.claims.next_retry_in(["echo"]) is None


def test_a_clone_keeps_the_failure_handling_of_its_original(app: Brownthrower) -> None:
    original = job(app, retries=4, retry_delay=3, retry_backoff=1.5, time_limit=60)
    copy = app.jobs.get(app.jobs.clone(original).id)
    assert (copy.retries, copy.retry_delay, copy.retry_backoff, copy.time_limit) == (4, 3, 1.5, 60)
