"""Subjobs and children declared by task code pass the same checks as any new job."""

from __future__ import annotations

from collections.abc import Sequence

from bt import Brownthrower, Status, tagnames
from bt.values import DeclaredJob, RunResult
from tests.factories import claim, job, runner, subjob_ids

NONE: Sequence[DeclaredJob] = ()


def declare(
    app: Brownthrower,
    *,
    subjobs: Sequence[DeclaredJob] = NONE,
    children: Sequence[DeclaredJob] = NONE,
) -> tuple[int, Status]:
    """A QUEUED noop job whose run declares these jobs; its id and the status it was left in."""
    parent = job(app, submit=True)
    held = claim(app, runner(app))
    return parent, app.claims.finish(held, RunResult(subjobs=subjobs, children=children))


def test_a_declared_subjob_takes_its_task_max_attempts(app: Brownthrower) -> None:
    parent, _ = declare(app, subjobs=[DeclaredJob(0, "patient")])
    assert app.jobs.get(subjob_ids(app, parent)[0]).max_attempts == 7


def test_a_declared_child_takes_its_task_max_attempts(app: Brownthrower) -> None:
    parent, _ = declare(app, children=[DeclaredJob(0, "patient")])
    (child,) = app.jobs.get(parent).children
    assert app.jobs.get(child).max_attempts == 7


def test_a_subjob_its_task_refuses_fails_the_declaring_job(app: Brownthrower) -> None:
    parent, status = declare(app, subjobs=[DeclaredJob(0, "picky", config="n: -1")])
    assert status is Status.FAILED
    assert "refuses this job: config needs a positive n" in app.tags.get(parent, tagnames.TRACEBACK)
    assert subjob_ids(app, parent) == []


def test_a_subjob_of_an_unknown_task_fails_the_declaring_job_with_the_reason(
    app: Brownthrower,
) -> None:
    parent, status = declare(app, subjobs=[DeclaredJob(0, "nosuch")])
    assert status is Status.FAILED
    assert app.tags.get(parent, tagnames.REASON) == "invalid declared job"
    assert "Task 'nosuch' is not available" in app.tags.get(parent, tagnames.TRACEBACK)


def test_a_refused_declaration_creates_none_of_the_declared_jobs(app: Brownthrower) -> None:
    good, bad = DeclaredJob(0, "noop"), DeclaredJob(1, "nosuch")
    parent, _ = declare(app, subjobs=[good], children=[bad])
    assert (subjob_ids(app, parent), app.jobs.get(parent).children) == ([], ())


def test_a_declared_child_with_bad_yaml_fails_the_declaring_job(app: Brownthrower) -> None:
    parent, status = declare(app, children=[DeclaredJob(0, "noop", config="a: [")])
    assert status is Status.FAILED
    assert "config" in app.tags.get(parent, tagnames.TRACEBACK)
