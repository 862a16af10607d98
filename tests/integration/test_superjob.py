from __future__ import annotations

from bt import Brownthrower, Status
from bt.values import DeclaredJob, RunResult
from tests.factories import claim, run_next, runner, status, subjob_ids, superjob


def test_one_failed_subjob_with_the_rest_done_fails_the_superjob(app: Brownthrower) -> None:
    who = runner(app)
    parent = superjob(app, who, 3)
    run_next(app, who)
    run_next(app, who)
    app.claims.fail(claim(app, who), "exception", "boom")
    assert status(app, parent) is Status.FAILED


def test_a_failed_subjob_with_others_active_keeps_stand_by(app: Brownthrower) -> None:
    who = runner(app)
    parent = superjob(app, who, 3)
    app.claims.fail(claim(app, who), "exception", "boom")
    assert status(app, parent) is Status.STAND_BY


def test_resetting_a_failed_subjob_re_derives_the_superjob(app: Brownthrower) -> None:
    who = runner(app)
    parent = superjob(app, who, 1)
    app.claims.fail(claim(app, who), "exception", "boom")
    app.jobs.reset(subjob_ids(app, parent)[0])
    assert status(app, parent) is Status.STAND_BY


def test_resubmitting_a_failed_subjob_directly_reaches_the_superjob(app: Brownthrower) -> None:
    who = runner(app)
    parent = superjob(app, who, 1)
    app.claims.fail(claim(app, who), "exception", "boom")
    app.jobs.submit(subjob_ids(app, parent)[0])
    run_next(app, who)
    assert status(app, parent) is Status.QUEUED


def test_status_propagates_through_nested_superjobs(app: Brownthrower) -> None:
    who = runner(app)
    top = superjob(app, who, 1)
    middle = claim(app, who)
    app.claims.finish(middle, RunResult(subjobs=[DeclaredJob(0, "noop")]))
    run_next(app, who)
    run_next(app, who)
    assert (status(app, middle.job_id), status(app, top)) == (Status.DONE, Status.QUEUED)


def test_a_failed_epilog_can_be_resubmitted_to_run_again(app: Brownthrower) -> None:
    who = runner(app)
    parent = superjob(app, who, 1)
    run_next(app, who)
    app.claims.fail(claim(app, who), "exception", "epilog failed")
    app.jobs.submit(parent)
    assert (status(app, parent), claim(app, who).epilog) == (Status.QUEUED, True)


def test_superjob_counters_stay_right_after_many_events(app: Brownthrower) -> None:
    who = runner(app)
    parent = superjob(app, who, 5)
    run_next(app, who)
    app.claims.fail(claim(app, who), "exception", "boom")
    details = app.jobs.get(parent)
    assert (details.subjobs, details.subjobs_done, details.subjobs_failed) == (5, 1, 1)
