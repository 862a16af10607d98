from __future__ import annotations

import pytest

from bt import Brownthrower, Status, errors, tagnames
from bt.values import RunResult
from tests.factories import claim, job, runner, status, subjob_ids, superjob


def test_submit_queues_and_stamps_the_job(app: Brownthrower) -> None:
    job_id = job(app)
    assert app.jobs.submit(job_id) is Status.QUEUED
    assert app.jobs.info(job_id).queued is not None


def test_submit_of_a_queued_job_is_refused_and_changes_nothing(app: Brownthrower) -> None:
    job_id = job(app, submit=True)
    queued = app.jobs.info(job_id).queued
    with pytest.raises(errors.InvalidTransition, match="cannot be submitted while QUEUED"):
        app.jobs.submit(job_id)
    assert app.jobs.info(job_id).queued == queued


def test_resubmitting_a_failed_job_clears_its_last_run(app: Brownthrower) -> None:
    job_id = job(app, submit=True)
    app.claims.fail(claim(app, runner(app)), "exception", "Traceback ...", exit_code=1)
    app.jobs.submit(job_id)
    info = app.jobs.info(job_id)
    assert (info.started, info.ended) == (None, None)
    assert [t.name for t in app.tags.list(job_id)] == []


def test_resubmit_keeps_user_tags(app: Brownthrower) -> None:
    job_id = job(app, submit=True)
    app.tags.set(job_id, "note", "keep me")
    app.claims.fail(claim(app, runner(app)), "exception", "Traceback ...")
    app.jobs.submit(job_id)
    assert [t.name for t in app.tags.list(job_id)] == ["note"]


def test_reset_returns_a_queued_job_to_the_stash(app: Brownthrower) -> None:
    job_id = job(app, submit=True)
    assert app.jobs.reset(job_id) is Status.STASHED
    assert app.jobs.info(job_id).queued is None


def test_reset_of_a_superjob_is_refused(app: Brownthrower) -> None:
    parent = superjob(app, runner(app))
    with pytest.raises(errors.InvalidOperation, match="already has subjobs"):
        app.jobs.reset(parent)


def test_abort_fails_a_queued_job_with_the_reason(app: Brownthrower) -> None:
    job_id = job(app, submit=True)
    assert app.jobs.abort(job_id) is Status.FAILED
    assert app.tags.get(job_id, tagnames.REASON) == "aborted"


def test_abort_of_a_running_job_fences_the_runner(app: Brownthrower) -> None:
    job_id = job(app, submit=True)
    held = claim(app, runner(app))
    app.jobs.abort(job_id)
    with pytest.raises(errors.TokenMismatch):
        app.claims.fail(held, "exception", "late")
    assert app.tags.get(job_id, tagnames.REASON) == "aborted"


def test_abort_of_a_stashed_job_is_refused(app: Brownthrower) -> None:
    with pytest.raises(errors.InvalidTransition, match="cannot be aborted while STASHED"):
        app.jobs.abort(job(app))


def test_abort_of_a_superjob_aborts_its_active_subjobs(app: Brownthrower) -> None:
    parent = superjob(app, runner(app), 3)
    assert app.jobs.abort(parent) is Status.FAILED
    assert {status(app, sub) for sub in subjob_ids(app, parent)} == {Status.FAILED}


def test_abort_of_a_superjob_leaves_stashed_subjobs_and_stays_stand_by(
    app: Brownthrower,
) -> None:
    parent = superjob(app, runner(app), 2, submit=False)
    app.jobs.submit(subjob_ids(app, parent)[0])
    assert app.jobs.abort(parent) is Status.STAND_BY


def test_submit_of_a_failed_superjob_retries_only_failed_subjobs(app: Brownthrower) -> None:
    who = runner(app)
    parent = superjob(app, who, 2)
    first, second = subjob_ids(app, parent)
    app.claims.finish(claim(app, who), RunResult(output="1"))
    app.claims.fail(claim(app, who), "exception", "boom")
    assert status(app, parent) is Status.FAILED
    app.jobs.submit(parent)
    assert (status(app, first), status(app, second), status(app, parent)) == (
        Status.DONE,
        Status.QUEUED,
        Status.STAND_BY,
    )
