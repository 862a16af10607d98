"""BLOCKED: QUEUED behind a FAILED (or itself BLOCKED) parent, counted and listed cheaply."""

from __future__ import annotations

from bt import Brownthrower, Status, tagnames
from bt.values import DeclaredJob, RunResult
from tests.factories import claim, job, run_next, runner, status


def chain(app: Brownthrower) -> tuple[int, int, int]:
    """parent → child → grandchild, all QUEUED; the parent's run failed."""
    parent, child, grandchild = (job(app, submit=True) for _ in range(3))
    app.jobs.link(parent, child)
    app.jobs.link(child, grandchild)
    app.claims.fail(claim(app, runner(app)), "exception", "boom")
    return parent, child, grandchild


def blocked_ids(app: Brownthrower) -> list[int]:
    return [j.id for j in app.jobs.list(["status=BLOCKED"]).jobs]


def test_the_child_and_grandchild_of_a_failed_job_are_blocked(app: Brownthrower) -> None:
    _, child, grandchild = chain(app)
    assert blocked_ids(app) == [child, grandchild]


def test_blocked_jobs_are_counted_apart(app: Brownthrower) -> None:
    chain(app)
    counts = app.jobs.counts()
    assert (counts["BLOCKED"], counts["QUEUED"], counts["RUNNABLE"]) == (2, 2, 0)


def test_a_blocked_job_says_so_in_the_list(app: Brownthrower) -> None:
    _, child, _ = chain(app)
    shown = {j.id: j.shown_status for j in app.jobs.list().jobs}
    assert shown[child] == "QUEUED (blocked)"


def test_resubmitting_the_failed_parent_unblocks_its_dependents(app: Brownthrower) -> None:
    parent, child, _ = chain(app)
    app.jobs.submit(parent)
    assert blocked_ids(app) == []
    run_next(app, runner(app))
    assert claim(app, runner(app)).job_id == child


def test_linking_under_a_failed_job_blocks_the_new_child(app: Brownthrower) -> None:
    parent, _, _ = chain(app)
    newcomer = job(app, submit=True)
    app.jobs.link(parent, newcomer)
    assert newcomer in blocked_ids(app)


def test_unlinking_the_failed_parent_unblocks_the_chain(app: Brownthrower) -> None:
    parent, child, _ = chain(app)
    app.jobs.unlink(parent, child)
    assert blocked_ids(app) == []


def test_a_stashed_child_of_a_failed_job_is_not_blocked(app: Brownthrower) -> None:
    _, child, _ = chain(app)
    app.jobs.reset(child)
    assert (status(app, child), blocked_ids(app)) == (Status.STASHED, [])


def test_a_new_job_under_a_failed_parent_is_born_blocked(app: Brownthrower) -> None:
    parent, _, _ = chain(app)
    from bt.values import JobSpec, NodeSpec

    nodes = [NodeSpec("a", JobSpec("noop"), submit=True), NodeSpec("b", JobSpec("noop"), True)]
    ids = app.jobs.create_graph(nodes, [("a", "b")], existing_parents=[(parent, "a")])
    assert set(ids.values()) <= set(blocked_ids(app))


def test_abort_downstream_fails_a_job_and_all_its_dependents(app: Brownthrower) -> None:
    parent, child, grandchild = (job(app, submit=True) for _ in range(3))
    app.jobs.link(parent, child)
    app.jobs.link(child, grandchild)
    outcomes = app.jobs.abort_downstream(parent)
    assert outcomes == [(j, Status.FAILED) for j in (parent, child, grandchild)]


def test_abort_downstream_leaves_finished_dependents_alone(app: Brownthrower) -> None:
    parent, child = job(app, submit=True), job(app)
    app.jobs.link(parent, child)
    assert app.jobs.abort_downstream(parent) == [(parent, Status.FAILED)]
    assert status(app, child) is Status.STASHED


def test_a_superjob_failed_by_its_subjobs_names_them(app: Brownthrower) -> None:
    who = runner(app)
    parent = job(app, submit=True)
    subjobs = [DeclaredJob(i, "noop") for i in range(3)]
    app.claims.finish(claim(app, who), RunResult(subjobs=subjobs))
    for _ in range(2):
        app.claims.fail(claim(app, who), "exception", "boom")
    run_next(app, who)
    reason = app.tags.get(parent, tagnames.REASON)
    failed = app.jobs.get(parent).failed_subjobs
    assert reason == f"subjobs failed: {failed[0]}, {failed[1]} (2 of 3)"


def test_a_superjob_with_many_failed_subjobs_names_the_first_few(app: Brownthrower) -> None:
    who = runner(app)
    parent = job(app, submit=True)
    app.claims.finish(
        claim(app, who), RunResult(subjobs=[DeclaredJob(i, "noop") for i in range(8)])
    )
    for _ in range(8):
        app.claims.fail(claim(app, who), "exception", "boom")
    assert app.tags.get(parent, tagnames.REASON).endswith("and 3 more (8 of 8)")


def test_abort_downstream_of_a_failed_job_aborts_its_blocked_dependents(
    app: Brownthrower,
) -> None:
    parent, child, grandchild = chain(app)
    assert app.jobs.abort_downstream(parent) == [
        (child, Status.FAILED),
        (grandchild, Status.FAILED),
    ]
    assert blocked_ids(app) == []
