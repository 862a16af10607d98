"""The shell's side of failure handling: retries and time limits on create and show, BLOCKED
jobs in lists, counts and graphs, and `job abort --downstream`."""

from __future__ import annotations

import pytest

from bt import Brownthrower, Status
from bt.values import DeclaredJob, RunResult
from shell.app import build_shell
from tests.factories import claim, job, run_next, runner, status
from tests.shell.conftest import Driver


def details(out: str) -> dict[str, str]:
    """The `name : value` lines of `job show`, names and values stripped."""
    pairs = (line.split(" : ", 1) for line in out.splitlines() if " : " in line)
    return {name.strip(): value.strip() for name, value in pairs}


def failed_once(app: Brownthrower, **spec: object) -> int:
    """A QUEUED job whose first run failed with retries left; its id."""
    job_id = job(app, submit=True, **spec)
    app.claims.fail(claim(app, runner(app)), "exception", "Traceback: boom", exit_code=1)
    return job_id


@pytest.fixture
def chain(app: Brownthrower) -> list[int]:
    """A FAILED parent, its child and its grandchild (both QUEUED, so BLOCKED)."""
    parent, child, grandchild = (job(app, submit=True) for _ in range(3))
    app.jobs.link(parent, child)
    app.jobs.link(child, grandchild)
    app.claims.fail(claim(app, runner(app)), "exception", "Traceback: boom")
    return [parent, child, grandchild]


def rows(out: str) -> dict[str, str]:
    """`job list` rows by id: the status column (which may be two words)."""
    found = {}
    for line in out.splitlines()[1:]:
        cells = line.split()
        found[cells[0]] = " ".join(cells[2:4]) if cells[3] == "(blocked)" else cells[2]
    return found


# -- job create and job show -------------------------------------------------------------------


def test_create_options_reach_the_job(run: Driver, app: Brownthrower) -> None:
    line = "job create noop --retries 3 --retry-delay 5m --retry-backoff 1.5 --time-limit 2h"
    (job_id,) = run(line).data
    made = app.jobs.get(job_id)
    assert (made.retries, made.retry_delay, made.retry_backoff, made.time_limit) == (
        3,
        300.0,
        1.5,
        7200.0,
    )


def test_show_prints_retries_delay_backoff_and_time_limit(run: Driver, app: Brownthrower) -> None:
    job_id = job(app, retries=3, retry_delay=30, retry_backoff=2, time_limit=90)
    shown = details(run(f"job show {job_id}").out)
    assert shown["retries"] == "0 of 3 used"
    assert shown["retry delay"].startswith("30s, then x2 per retry")
    assert shown["time limit"] == "1m 30s"


def test_show_counts_retries_used_and_attempts(run: Driver, app: Brownthrower) -> None:
    job_id = failed_once(app, retries=2, retry_delay=0)
    shown = details(run(f"job show {job_id}").out)
    assert (shown["retries"], shown["attempts"]) == ("1 of 2 used", "1")


def test_show_says_until_when_a_retry_waits(run: Driver, app: Brownthrower) -> None:
    job_id = failed_once(app, retries=1, retry_delay=600)
    waits = details(run(f"job show {job_id}").out)["next retry"]
    assert waits.startswith("not before ") and ("(in 9m" in waits or "(in 10m)" in waits)


def test_show_of_a_job_without_retries_or_limit_says_none(run: Driver, app: Brownthrower) -> None:
    shown = details(run(f"job show {job(app)}").out)
    assert (shown["retries"], shown["time limit"]) == ("none", "none")
    assert "retry delay" not in shown and "next retry" not in shown


def test_out_of_range_retries_is_one_error_line_and_creates_nothing(
    run: Driver, app: Brownthrower
) -> None:
    result = run("job create noop --retries -1")
    assert result.failed and result.err == "ERROR: The retries must be from 0 to 1000: -1.\n"
    assert app.jobs.list().jobs == []


def test_a_time_limit_that_is_not_a_duration_is_refused(run: Driver, app: Brownthrower) -> None:
    result = run("job create noop --time-limit soon")
    assert result.failed and "expected seconds, like 90, 1.5, 10m or 2h" in result.err
    assert app.jobs.list().jobs == []


def test_show_of_a_superjob_points_at_its_failed_subjobs(run: Driver, app: Brownthrower) -> None:
    who = runner(app)
    parent = job(app, submit=True)
    app.claims.finish(
        claim(app, who), RunResult(subjobs=[DeclaredJob(i, "noop") for i in range(8)])
    )
    failed = [claim(app, who) for _ in range(7)]
    for held in failed:
        app.claims.fail(held, "exception", "boom")
    run_next(app, who)
    first = failed[0].job_id
    shown = details(run(f"job show {parent}").out)["failed subjobs"]
    assert shown == f"{', '.join(str(h.job_id) for h in failed[:5])} and 2 more — job show {first}"


# -- BLOCKED jobs --------------------------------------------------------------------------------


def test_a_child_and_grandchild_of_a_failed_job_show_as_blocked(run: Driver, chain) -> None:
    parent, child, grandchild = map(str, chain)
    assert rows(run("job list").out) == {
        parent: "FAILED",
        child: "QUEUED (blocked)",
        grandchild: "QUEUED (blocked)",
    }


def test_list_status_blocked_lists_the_child_and_grandchild(run: Driver, chain) -> None:
    assert [j.id for j in run("job list status=BLOCKED").data] == chain[1:]


def test_list_status_runnable_leaves_blocked_jobs_out(
    run: Driver, app: Brownthrower, chain
) -> None:
    free = job(app, submit=True)
    assert [j.id for j in run("job list status=RUNNABLE").data] == [free]


def test_status_counts_blocked_jobs_apart_below_queued(run: Driver, chain) -> None:
    result = run("status")
    lines = [line.split() for line in result.out.splitlines()]
    assert result.data["BLOCKED"] == 2
    assert lines.index(["BLOCKED", "2"]) == lines.index(["QUEUED", "2"]) + 2


def test_db_info_counts_blocked_jobs(run: Driver, chain) -> None:
    assert ["BLOCKED", "2"] in [line.split() for line in run("db info").out.splitlines()]


def test_show_of_a_blocked_job_says_what_blocks_it(run: Driver, chain) -> None:
    shown = details(run(f"job show {chain[1]}").out)
    assert shown["status"] == "QUEUED (blocked)"
    assert shown["blocked by"] == f"1 parent FAILED or blocked (job graph {chain[1]})"


def test_tree_marks_a_blocked_job(run: Driver, chain) -> None:
    assert run(f"job graph {chain[1]} --tree").out.splitlines()[0].endswith("QUEUED (blocked)")


def test_dot_draws_blocked_jobs_dashed(run: Driver, chain) -> None:
    source = run(f"job graph {chain[0]} --dot -").out
    (node,) = [line for line in source.splitlines() if line.startswith(f"  j{chain[2]} [")]
    assert "QUEUED (blocked)" in node and "dashed" in node
    assert f'j{chain[0]} -> j{chain[1]} [color="#c0392b", style=dashed];' in source


@pytest.mark.parametrize(
    ("typed", "offered"),
    [("status=B", ["status=BLOCKED"]), ("status=RUNNA", ["status=RUNNABLE"])],
)
def test_status_filters_complete_with_runnable_and_blocked(typed: str, offered: list[str]) -> None:
    shell, line = build_shell(None, auto_suggest=False), f"job list {typed}"
    result = shell.complete(typed, line, len(line) - len(typed), len(line))
    assert [item.text for item in result.items] == offered


# -- job abort --downstream ----------------------------------------------------------------------


@pytest.fixture
def queued_chain(app: Brownthrower) -> list[int]:
    """Three QUEUED jobs, each depending on the one before."""
    ids = [job(app, submit=True) for _ in range(3)]
    app.jobs.link(ids[0], ids[1])
    app.jobs.link(ids[1], ids[2])
    return ids


def test_abort_downstream_fails_the_job_and_its_dependents(
    run: Driver, app: Brownthrower, queued_chain
) -> None:
    assert run(f"job abort --downstream {queued_chain[0]}").data == queued_chain
    assert [status(app, j) for j in queued_chain] == [Status.FAILED] * 3


def test_abort_downstream_prints_a_line_per_job_and_a_summary(run: Driver, queued_chain) -> None:
    first, second, third = queued_chain
    assert run(f"job abort --downstream {first}").out.splitlines() == [
        f"Job {first} has been aborted (FAILED).",
        f"Job {second} has been aborted (FAILED), downstream of job {first}.",
        f"Job {third} has been aborted (FAILED), downstream of job {first}.",
        f"3 jobs have been aborted: job {first} and 2 jobs below it.",
    ]


def test_abort_downstream_of_a_dependent_already_aborted_skips_it(
    run: Driver, queued_chain
) -> None:
    result = run(f"job abort --downstream {queued_chain[0]} {queued_chain[1]}")
    assert not result.failed and result.data == queued_chain


def test_abort_downstream_refused_is_one_error_and_aborts_nothing(
    run: Driver, app: Brownthrower
) -> None:
    parent, child = job(app), job(app, submit=True)
    app.jobs.link(parent, child)
    result = run(f"job abort --downstream {parent}")
    assert result.failed and result.err.count("\n") == 1 and result.out == ""
    assert status(app, child) is Status.QUEUED
