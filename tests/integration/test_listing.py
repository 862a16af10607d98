from __future__ import annotations

import pytest

from bt import Brownthrower, Status, errors
from tests.factories import job, runner, subjob_ids, superjob


def test_list_filters_by_status_with_a_dash(app: Brownthrower) -> None:
    parent = superjob(app, runner(app))
    assert [j.id for j in app.jobs.list(["status=STAND-BY"]).jobs] == [parent]


def test_list_filters_top_level_jobs(app: Brownthrower) -> None:
    parent = superjob(app, runner(app))
    assert [j.id for j in app.jobs.list(["super_id=none"]).jobs] == [parent]


def test_list_ands_its_terms(app: Brownthrower) -> None:
    ids = [job(app, "echo") for _ in range(4)] + [job(app)]
    assert [j.id for j in app.jobs.list(["name=ec*", f"id<={ids[1]}"]).jobs] == ids[:2]


def test_list_pages_by_keyset(app: Brownthrower) -> None:
    ids = [job(app) for _ in range(5)]
    first = app.jobs.list(limit=2)
    second = app.jobs.list(limit=2, after=first.next_after)
    assert [j.id for j in first.jobs + second.jobs] == ids[:4]


def test_list_can_start_with_the_newest(app: Brownthrower) -> None:
    ids = [job(app) for _ in range(3)]
    assert [j.id for j in app.jobs.list(newest_first=True).jobs] == ids[::-1]


def test_list_with_a_bad_filter_names_it(app: Brownthrower) -> None:
    with pytest.raises(errors.FilterError, match="'statu=DONE'"):
        app.jobs.list(["statu=DONE"])


def test_counts_include_every_status_and_runnable(app: Brownthrower) -> None:
    job(app)
    job(app, submit=True)
    counts = app.jobs.counts()
    assert counts == {
        "STASHED": 1,
        "QUEUED": 1,
        "RUNNING": 0,
        "STAND-BY": 0,
        "DONE": 0,
        "FAILED": 0,
        "RUNNABLE": 1,
        "BLOCKED": 0,
        "WAITING": 0,
        "LIMITED": 0,
    }


def test_counts_can_be_limited_to_tasks(app: Brownthrower) -> None:
    job(app, "echo", submit=True)
    job(app, submit=True)
    assert app.jobs.counts(["echo"])["QUEUED"] == 1


def test_neighbourhood_has_parents_children_superjob_and_subjobs(app: Brownthrower) -> None:
    parent = superjob(app, runner(app), 3)
    sub = subjob_ids(app, parent)
    app.jobs.link(sub[0], sub[1])
    graph = app.jobs.neighbourhood(sub[0])
    assert (graph.superjob and graph.superjob.id, [c.id for c in graph.children]) == (
        parent,
        [sub[1]],
    )
    assert len(app.jobs.neighbourhood(parent).subjobs) == 3


def test_subtree_caps_children_and_counts_the_rest(app: Brownthrower) -> None:
    parent = superjob(app, runner(app), 30)
    tree = app.jobs.subtree(parent, max_children=5)
    assert (len(tree.children), tree.hidden, tree.counts) == (5, 25, {"QUEUED": 30})


def test_dag_holds_ancestors_and_descendants(app: Brownthrower) -> None:
    a, b, c, lone = job(app), job(app), job(app), job(app)
    app.jobs.link(a, b)
    app.jobs.link(b, c)
    dag = app.jobs.dag(b)
    assert ([j.id for j in dag.jobs], dag.edges) == ([a, b, c], [(a, b), (b, c)])
    assert lone not in [j.id for j in dag.jobs]


def test_timestamps_are_timezone_aware(app: Brownthrower) -> None:
    info = app.jobs.info(job(app, submit=True))
    assert info.created and info.created.utcoffset() is not None
    assert info.status is Status.QUEUED
