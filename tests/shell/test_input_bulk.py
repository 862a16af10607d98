"""Bulk commands by filter: `job submit status=FAILED name=sim_*`, a summary line, quiet above a
hundred jobs, and a question before removing or aborting more than ten at a terminal."""

from __future__ import annotations

from bt import Brownthrower, Status
from tests.factories import job, status
from tests.shell.conftest import Driver


def some(app: Brownthrower, count: int, task: str = "noop") -> list[int]:
    return [job(app, task) for _ in range(count)]


def test_submit_by_filter_submits_the_matching_jobs(run: Driver, app: Brownthrower) -> None:
    some(app, 2, "noop")
    some(app, 2, "add2")
    assert run("job submit name=add*").data == [3, 4]
    assert [status(app, i) for i in (1, 3)] == [Status.STASHED, Status.QUEUED]


def test_ids_and_filters_together_select_the_matching_ids(run: Driver, app: Brownthrower) -> None:
    some(app, 3, "noop")
    some(app, 3, "add2")
    assert run("job submit 2-5 name=add2").data == [4, 5]


def test_a_filter_that_matches_nothing_is_a_warning(run: Driver, app: Brownthrower) -> None:
    some(app, 2)
    result = run("job submit status=FAILED")
    assert not result.failed and "No jobs match status=FAILED." in result.err


def test_several_jobs_end_with_a_summary_naming_the_refusals(
    run: Driver, app: Brownthrower
) -> None:
    some(app, 3)
    run("job submit 1")
    result = run("job submit 1-3")
    assert result.err.splitlines()[-1] == "submitted 2, refused 1 (see above)"


def test_above_a_hundred_jobs_only_refusals_and_the_summary_are_printed(
    run: Driver, app: Brownthrower
) -> None:
    some(app, 120)
    result = run("job submit 1-121")
    assert result.out == "" and result.err.splitlines() == [
        "ERROR: Job 121 does not exist.",
        "submitted 120, refused 1 (see above)",
    ]


def test_removing_many_at_a_terminal_asks_and_no_keeps_them(run: Driver, app: Brownthrower) -> None:
    some(app, 12)
    result = run("job remove status=STASHED", answers="n\n")
    assert "Nothing was removed." in result.err and len(app.jobs.list().jobs) == 12


def test_removing_many_at_a_terminal_goes_on_after_yes(run: Driver, app: Brownthrower) -> None:
    some(app, 12)
    run("job remove 1-12", answers="y\n")
    assert app.jobs.list().jobs == []


def test_yes_skips_the_question(run: Driver, app: Brownthrower) -> None:
    some(app, 12)
    run.shell.prompting = True
    run("job remove 1-12 --yes", answers="")
    assert app.jobs.list().jobs == []


def test_a_script_never_asks(run: Driver, app: Brownthrower) -> None:
    some(app, 12)
    result = run("job remove 1-12")
    assert "?" not in result.out and app.jobs.list().jobs == []


def test_aborting_many_at_a_terminal_asks_first(run: Driver, app: Brownthrower) -> None:
    for _ in range(11):
        job(app, submit=True)
    result = run("job abort status=QUEUED", answers="n\n")
    assert "Nothing was aborted." in result.err and status(app, 1) is Status.QUEUED


def test_priority_and_clone_take_filters_too(run: Driver, app: Brownthrower) -> None:
    some(app, 2, "noop")
    some(app, 1, "add2")
    run("job priority 5 name=noop")
    assert run("job clone priority=5").data == [4, 5]


def test_wait_takes_a_filter(run: Driver, app: Brownthrower) -> None:
    some(app, 2)
    assert set(run("job wait status=STASHED --expect STASHED").data) == {1, 2}
