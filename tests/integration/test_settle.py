"""`ClaimService.settle`: the runs that ended together, and the refill, in one transaction."""

from __future__ import annotations

import pytest

from bt import Brownthrower, Status, errors
from bt.values import Failed, Finished, Refill, Requeued, RunResult
from tests.factories import claim, job, runner, status


@pytest.fixture
def db_url(farm_db_url: str) -> str:
    """Claims on SQLite, PostgreSQL and PostgreSQL through PgBouncer (pooled mode)."""
    return farm_db_url


def test_several_runs_are_recorded_in_one_call(app: Brownthrower) -> None:
    who = runner(app)
    first, second = job(app, submit=True), job(app, submit=True)
    ends = [Finished(claim(app, who), RunResult("1\n")), Failed(claim(app, who), "boom", "tb")]
    assert app.claims.settle(ends).statuses == [Status.DONE, Status.FAILED]
    assert [status(app, first), status(app, second)] == [Status.DONE, Status.FAILED]


def test_a_lost_claim_writes_nothing_and_the_others_are_recorded(app: Brownthrower) -> None:
    who = runner(app)
    job(app, submit=True), job(app, submit=True)
    kept, lost = claim(app, who), claim(app, who)
    app.jobs.abort(lost.job_id)
    ends = [Finished(kept, RunResult()), Finished(lost, RunResult(), {"bt_stdout": "late"})]
    assert app.claims.settle(ends).statuses == [Status.DONE, None]
    assert "bt_stdout" not in {tag.name for tag in app.tags.list(lost.job_id)}


def test_the_refill_claims_the_next_jobs_in_the_same_call(app: Brownthrower) -> None:
    who = runner(app)
    ids = [job(app, submit=True) for _ in range(4)]
    settled = app.claims.settle(
        [Finished(claim(app, who), RunResult())], Refill(who.id, ["noop"], 2)
    )
    assert [c.job_id for c in settled.claimed] == ids[1:3]


def test_an_error_in_one_run_rolls_back_the_whole_call(app: Brownthrower) -> None:
    who = runner(app)
    done, bad = job(app, submit=True), job(app, submit=True)
    ends = [
        Finished(claim(app, who), RunResult()),
        Finished(claim(app, who), RunResult(), {"": "x"}),
    ]
    with pytest.raises(errors.BrownthrowerError):
        app.claims.settle(ends)
    assert [status(app, done), status(app, bad)] == [Status.RUNNING, Status.RUNNING]


def test_a_claim_given_back_unstarted_counts_no_attempt(app: Brownthrower) -> None:
    who = runner(app)
    queued = job(app, submit=True)
    app.claims.settle([Requeued(claim(app, who), clear_tags=False, reason="given back")])
    details = app.jobs.get(queued)
    assert details.status is Status.QUEUED and details.attempts == 0
    assert app.jobs.events(queued)[-1].reason == "given back"
