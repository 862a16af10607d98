"""`job abort --downstream` of a job that had FAILED already: its summary says what was aborted,
and every job aborted downstream says of which job."""

from __future__ import annotations

from bt import Brownthrower
from tests.factories import claim, job, runner
from tests.shell.conftest import Driver


def failed_parent_of_two(app: Brownthrower) -> list[int]:
    """A FAILED job and its two QUEUED (so BLOCKED) children; their ids."""
    parent, *children = (job(app, submit=True) for _ in range(3))
    for child in children:
        app.jobs.link(parent, child)
    app.claims.fail(claim(app, runner(app)), "exception", "boom")
    return [parent, *children]


def test_the_summary_does_not_count_a_root_that_had_failed_already(
    run: Driver, app: Brownthrower
) -> None:
    parent = failed_parent_of_two(app)[0]
    last = run(f"job abort --downstream {parent}").out.splitlines()[-1]
    assert last == f"2 jobs below job {parent} have been aborted (job {parent} had FAILED already)."


def test_a_job_aborted_downstream_says_of_which_job(run: Driver, app: Brownthrower) -> None:
    parent, child, _ = failed_parent_of_two(app)
    run(f"job abort --downstream {parent}")
    reason = f"aborted: downstream of job {parent}"
    assert app.jobs.events(child)[-1].reason == reason
    assert app.tags.get(child, "bt_reason") == reason
