from __future__ import annotations

import pytest

from bt import Brownthrower, Status, errors
from bt.values import JobSpec, NodeSpec
from tests.factories import job, status


def nodes(count: int, *, submit: bool = True, task: str = "noop") -> list[NodeSpec]:
    return [NodeSpec(f"j{i}", JobSpec(task), submit) for i in range(count)]


def test_create_graph_creates_jobs_and_links(app: Brownthrower) -> None:
    ids = app.jobs.create_graph(nodes(3), [("j0", "j1"), ("j1", "j2")])
    assert app.jobs.get(ids["j2"]).parents == (ids["j1"],)
    assert app.jobs.counts()["RUNNABLE"] == 1


def test_create_graph_can_hang_new_jobs_under_existing_parents(app: Brownthrower) -> None:
    parent = job(app)
    ids = app.jobs.create_graph(nodes(1), existing_parents=[(parent, "j0")])
    assert app.jobs.get(ids["j0"]).pending_parents == 1


def test_create_graph_refuses_a_cycle_and_creates_nothing(app: Brownthrower) -> None:
    with pytest.raises(errors.DependencyError, match="cycle"):
        app.jobs.create_graph(nodes(2), [("j0", "j1"), ("j1", "j0")])
    assert app.jobs.list().jobs == []


def test_create_graph_refuses_an_unknown_key(app: Brownthrower) -> None:
    with pytest.raises(errors.InvalidValue, match="'j0' → 'zz' names a job not in the graph"):
        app.jobs.create_graph(nodes(1), [("j0", "zz")])


def test_create_graph_refuses_one_bad_job_and_creates_none(app: Brownthrower) -> None:
    bad = [*nodes(2), NodeSpec("bad", JobSpec("nosuch"))]
    with pytest.raises(errors.TaskNotFound):
        app.jobs.create_graph(bad)
    assert app.jobs.list().jobs == []


def test_create_graph_leaves_unsubmitted_jobs_stashed(app: Brownthrower) -> None:
    ids = app.jobs.create_graph(nodes(1, submit=False))
    assert status(app, ids["j0"]) is Status.STASHED


def test_a_script_builds_a_graph_with_names_from_bt_alone(app: Brownthrower) -> None:
    import bt

    nodes = [bt.NodeSpec(k, bt.JobSpec("noop"), submit=True) for k in "ab"]
    ids = app.jobs.create_graph(nodes, [("a", "b")])
    assert app.jobs.get(ids["b"]).parents == (ids["a"],)
