from __future__ import annotations

import pytest

from bt import Brownthrower, Status, errors, tagnames
from bt.values import DeclaredJob, RunResult
from tests.factories import claim, job, run_next, runner, status, subjob_ids, superjob


@pytest.fixture
def db_url(farm_db_url: str) -> str:
    """Claims on SQLite, PostgreSQL and PostgreSQL through PgBouncer (pooled mode)."""
    return farm_db_url


def test_claim_takes_the_highest_priority_then_the_oldest(app: Brownthrower) -> None:
    job(app, submit=True)
    urgent = job(app, submit=True, priority=5)
    assert claim(app, runner(app)).job_id == urgent


def test_claim_returns_none_when_nothing_is_runnable(app: Brownthrower) -> None:
    job(app)
    assert app.claims.claim(runner(app).id, ["noop"]) is None


def test_claim_only_takes_jobs_of_the_given_tasks(app: Brownthrower) -> None:
    job(app, "echo", submit=True)
    assert app.claims.claim(runner(app).id, ["noop"]) is None


def test_claim_skips_jobs_with_unfinished_parents(app: Brownthrower) -> None:
    parent, child = job(app), job(app, submit=True)
    app.jobs.link(parent, child)
    assert app.claims.claim(runner(app).id, ["noop"]) is None


def test_claim_hands_over_config_input_and_parent_outputs(app: Brownthrower) -> None:
    who = runner(app)
    parent = job(app, submit=True)
    child = job(app, "echo", submit=True, config="a: 1", input="[1]")
    app.jobs.link(parent, child)
    run_next(app, who, output="42\n")
    held = claim(app, who, ("echo",))
    assert (held.config, held.input, held.parents) == ("a: 1", "[1]", [(parent, "noop", "42\n")])


def test_finish_stores_the_output(app: Brownthrower) -> None:
    job(app, submit=True)
    job_id = run_next(app, runner(app), output="answer: 42\n")
    assert (status(app, job_id), app.jobs.get(job_id).output) == (Status.DONE, "answer: 42\n")


def test_a_prolog_with_subjobs_puts_the_job_in_stand_by(app: Brownthrower) -> None:
    assert status(app, superjob(app, runner(app))) is Status.STAND_BY


def test_the_epilog_runs_when_every_subjob_is_done(app: Brownthrower) -> None:
    who = runner(app)
    parent = superjob(app, who, 2)
    run_next(app, who, "1\n")
    run_next(app, who, "2\n")
    held = claim(app, who)
    assert (held.job_id, held.epilog, [o for _, _, o in held.subjobs]) == (
        parent,
        True,
        ["1\n", "2\n"],
    )


def test_declared_subjob_links_are_kept(app: Brownthrower) -> None:
    who = runner(app)
    parent = job(app, submit=True)
    subjobs = [DeclaredJob(0, "noop"), DeclaredJob(1, "noop")]
    app.claims.finish(claim(app, who), RunResult(subjobs=subjobs, links=[(0, 1)]))
    first, second = subjob_ids(app, parent)
    assert app.jobs.get(second).parents == (first,)


def test_epilog_children_become_linked_siblings(app: Brownthrower) -> None:
    who = runner(app)
    parent = job(app, submit=True)
    app.claims.finish(claim(app, who), RunResult(output="1", children=[DeclaredJob(0, "noop")]))
    (child,) = app.jobs.get(parent).children
    assert (app.jobs.info(child).super_id, status(app, child)) == (None, Status.QUEUED)
    assert app.jobs.counts()["RUNNABLE"] == 1


def test_fail_keeps_reason_traceback_and_exit_code(app: Brownthrower) -> None:
    job_id = job(app, submit=True)
    app.claims.fail(claim(app, runner(app)), "exit code 3", "Traceback: boom", exit_code=3)
    tags = {t.name: t.value for t in app.tags.list(job_id)}
    assert tags == {
        tagnames.REASON: "exit code 3",
        tagnames.TRACEBACK: "Traceback: boom",
        tagnames.EXIT_CODE: "3",  # from the run's history row
        tagnames.RUNNER: "host: test\nrunner: 1\n",
    }


def test_requeue_does_not_count_the_interrupted_attempt(app: Brownthrower) -> None:
    job_id = job(app, submit=True)
    app.claims.requeue(claim(app, runner(app)))
    assert (status(app, job_id), app.jobs.info(job_id).attempts) == (Status.QUEUED, 0)


def test_lost_runners_jobs_are_requeued(app: Brownthrower) -> None:
    job_id = job(app, submit=True)
    claim(app, runner(app, lease=-1))
    assert app.runners.recover_lost() == [(job_id, Status.QUEUED)]


def test_lost_runners_jobs_fail_when_attempts_are_used_up(app: Brownthrower) -> None:
    job_id = job(app, submit=True)
    for _ in range(3):
        claim(app, runner(app, lease=-1))
        app.runners.recover_lost()
    assert (status(app, job_id), app.tags.get(job_id, tagnames.REASON)) == (
        Status.FAILED,
        "runner lost",
    )


def test_a_live_runners_jobs_are_not_recovered(app: Brownthrower) -> None:
    job(app, submit=True)
    claim(app, runner(app, lease=60))
    assert app.runners.recover_lost() == []


def test_a_recovered_job_fences_its_old_runner(app: Brownthrower) -> None:
    job(app, submit=True)
    held = claim(app, runner(app, lease=-1))
    app.runners.recover_lost()
    with pytest.raises(errors.TokenMismatch):
        app.claims.finish(held, RunResult(output="late"))


def test_a_lost_runner_learns_it_on_its_heartbeat(app: Brownthrower) -> None:
    lost = runner(app, lease=-1)
    app.runners.recover_lost()
    with pytest.raises(errors.TokenMismatch, match="declared lost"):
        app.runners.heartbeat(lost.id, 30)


def test_a_stop_request_reaches_the_runner(app: Brownthrower) -> None:
    who = runner(app)
    app.runners.request_stop(who.id)
    assert app.runners.heartbeat(who.id, 30) is True


def test_runners_lists_live_runners_with_their_jobs(app: Brownthrower) -> None:
    job_id = job(app, submit=True)
    who = runner(app)
    claim(app, who)
    assert [(r.id, r.jobs) for r in app.runners.list()] == [(who.id, (job_id,))]


def test_claim_job_runs_exactly_that_job(app: Brownthrower) -> None:
    job(app, submit=True)
    wanted = job(app)
    held = app.claims.claim_job(wanted, runner(app).id, submit=True)
    assert (held.job_id, status(app, wanted)) == (wanted, Status.RUNNING)


def test_a_child_linked_while_its_parent_runs_is_released(app: Brownthrower) -> None:
    who = runner(app)
    parent = job(app, submit=True)
    held = claim(app, who)
    child = job(app, submit=True)
    app.jobs.link(parent, child)
    app.claims.finish(held, RunResult(output="1"))
    assert claim(app, who).job_id == child


def test_a_claim_of_several_takes_the_best_ones_and_no_more(app: Brownthrower) -> None:
    ids = [job(app, submit=True) for _ in range(5)]
    claimed = app.claims.claim_many(runner(app).id, ["noop"], 2)
    assert [c.job_id for c in claimed] == ids[:2]
    assert app.jobs.counts()["RUNNING"] == 2


def test_a_claim_of_one_takes_one_job_among_many(app: Brownthrower) -> None:
    for _ in range(3):
        job(app, submit=True)
    app.claims.claim(runner(app).id, ["noop"])
    assert app.jobs.counts()["RUNNING"] == 1
