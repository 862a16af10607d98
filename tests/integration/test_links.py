from __future__ import annotations

import pytest

from bt import Brownthrower, errors
from tests.factories import claim, job, run_next, runner, subjob_ids, superjob


def test_link_makes_the_child_wait_for_its_parent(app: Brownthrower) -> None:
    parent, child = job(app, submit=True), job(app, submit=True)
    app.jobs.link(parent, child)
    assert app.jobs.counts()["RUNNABLE"] == 1


def test_a_child_becomes_runnable_when_its_parent_is_done(app: Brownthrower) -> None:
    parent, child = job(app, submit=True), job(app, submit=True)
    app.jobs.link(parent, child)
    who = runner(app)
    run_next(app, who)
    assert claim(app, who).job_id == child


def test_link_to_itself_is_refused(app: Brownthrower) -> None:
    with pytest.raises(errors.DependencyError, match="cannot depend on itself"):
        app.jobs.link(job(app), 1)


def test_link_that_closes_a_cycle_is_refused_and_changes_nothing(app: Brownthrower) -> None:
    a, b, c = job(app), job(app), job(app)
    app.jobs.link(a, b)
    app.jobs.link(b, c)
    with pytest.raises(errors.DependencyError, match="would make a cycle"):
        app.jobs.link(c, a)
    assert app.jobs.get(a).parents == ()


def test_link_between_non_siblings_is_refused(app: Brownthrower) -> None:
    parent = superjob(app, runner(app))
    with pytest.raises(errors.DependencyError, match="are not siblings"):
        app.jobs.link(job(app), subjob_ids(app, parent)[0])


def test_link_of_a_running_child_is_refused(app: Brownthrower) -> None:
    child = job(app, submit=True)
    claim(app, runner(app))
    with pytest.raises(errors.InvalidTransition, match="cannot be linked while RUNNING"):
        app.jobs.link(job(app), child)


def test_linking_twice_is_refused(app: Brownthrower) -> None:
    a, b = job(app), job(app)
    app.jobs.link(a, b)
    with pytest.raises(errors.DependencyError, match="already depends"):
        app.jobs.link(a, b)


def test_unlink_frees_the_child(app: Brownthrower) -> None:
    parent, child = job(app), job(app, submit=True)
    app.jobs.link(parent, child)
    app.jobs.unlink(parent, child)
    assert app.jobs.counts()["RUNNABLE"] == 1


def test_unlink_of_a_missing_link_is_refused(app: Brownthrower) -> None:
    with pytest.raises(errors.DependencyError, match="does not depend on job"):
        app.jobs.unlink(job(app), job(app))


def test_link_of_an_unknown_job_names_it(app: Brownthrower) -> None:
    with pytest.raises(errors.JobNotFound, match="Job 42 does not exist"):
        app.jobs.link(job(app), 42)
