"""`app.dashboard` (bt.dashboard): bounded summaries for the web, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from bt import Brownthrower, errors
from bt.values import JobSpec, NodeSpec
from tests import factories
from tests.web.conftest import campaign


def test_counts_by_task_have_every_status_and_part(app: Brownthrower) -> None:
    factories.job(app, "echo", submit=True)
    factories.job(app, "noop")
    factories.job(app, "noop")
    tasks, more = app.dashboard.counts_by_task()
    assert [(t.task, t.total) for t in tasks] == [("noop", 2), ("echo", 1)] and more == 0
    assert tasks[1].counts["QUEUED"] == 1 and tasks[1].counts["RUNNABLE"] == 1
    assert tasks[0].counts["STASHED"] == 2 and tasks[0].counts["FAILED"] == 0


def test_counts_by_task_keep_the_largest_tasks(app: Brownthrower) -> None:
    for task in ("echo", "noop", "noop"):
        factories.job(app, task)
    tasks, more = app.dashboard.counts_by_task(limit=1)
    assert [t.task for t in tasks] == ["noop"] and more == 1


def test_throughput_counts_jobs_ended_per_minute(app: Brownthrower) -> None:
    campaign(app)
    now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    ended = app.dashboard.throughput(minutes=5, now=now)
    assert ended.per_minute[-1] == 2 and ended.total == 2 and len(ended.per_minute) == 5


def test_throughput_leaves_out_older_ends(app: Brownthrower) -> None:
    campaign(app)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    assert app.dashboard.throughput(now=later).total == 0


def test_last_failures_have_their_reasons(app: Brownthrower) -> None:
    jobs = campaign(app)
    (failure,) = app.dashboard.last_failures()
    assert (failure.job_id, failure.reason) == (jobs.failed, "boom: it broke")


def test_runner_tallies_count_its_runs(app: Brownthrower) -> None:
    campaign(app)
    (runner,) = app.runners.list()
    tally = app.dashboard.runner_tallies([runner.id])[runner.id]
    assert (tally.done, tally.failed) == (2, 1)


def test_nearby_follows_links_both_ways_within_the_hops(app: Brownthrower) -> None:
    ids = app.jobs.create_graph([NodeSpec(i, JobSpec("noop")) for i in range(5)],
                                [(0, 1), (1, 2), (2, 3), (3, 4)])  # fmt: skip
    near = app.dashboard.nearby(ids[2], hops=1)
    assert sorted(j.id for j in near.jobs) == [ids[1], ids[2], ids[3]]
    assert near.edges == [(ids[1], ids[2]), (ids[2], ids[3])]
    assert near.hidden_parents == {ids[1]: 1} and near.hidden_children == {ids[3]: 1}
    assert near.hops == {ids[2]: 0, ids[1]: 1, ids[3]: 1}


def test_nearby_holds_at_most_max_nodes(app: Brownthrower) -> None:
    ids = app.jobs.create_graph([NodeSpec(i, JobSpec("noop")) for i in range(30)],
                                [(0, i) for i in range(1, 30)])  # fmt: skip
    near = app.dashboard.nearby(ids[0], hops=2, max_nodes=10)
    assert len(near.jobs) == 10
    assert near.hidden_children == {ids[0]: 20}


def test_nearby_of_a_missing_job_is_not_found(app: Brownthrower) -> None:
    with pytest.raises(errors.JobNotFound):
        app.dashboard.nearby(99)


def test_subjob_groups_count_per_task_and_status(app: Brownthrower) -> None:
    jobs = campaign(app)
    groups = app.dashboard.subjob_groups(jobs.superjob)
    assert groups.counts == {"noop": {"STASHED": 3}} and groups.total == 3
    assert groups.links == []


def test_subjob_groups_of_a_plain_job_are_empty(app: Brownthrower) -> None:
    job = factories.job(app)
    assert app.dashboard.subjob_groups(job).total == 0
