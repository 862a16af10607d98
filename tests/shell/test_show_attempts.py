"""`job show`: attempts, retries used of allowed and the lost-runner limit, none of which reads
as a limit on the others (`attempts : 4 of 3` did)."""

from __future__ import annotations

import json

from bt import Brownthrower
from tests.factories import claim, job, runner
from tests.shell.conftest import Driver
from tests.shell.test_failure_handling import details


def failed_four_times(app: Brownthrower) -> int:
    """A job with 5 retries whose first four runs failed; its id."""
    job_id = job(app, submit=True, retries=5, retry_delay=0)
    who = runner(app)
    for _ in range(4):
        app.claims.fail(claim(app, who), "exception", "boom")
    return job_id


def test_show_prints_the_attempts_made_without_a_limit(run: Driver, app: Brownthrower) -> None:
    shown = details(run(f"job show {failed_four_times(app)}").out)
    assert (shown["attempts"], shown["retries"]) == ("4", "4 of 5 used")


def test_show_says_what_a_lost_runner_does_to_the_job(run: Driver, app: Brownthrower) -> None:
    shown = details(run(f"job show {failed_four_times(app)}").out)
    assert shown["if runner lost"] == "requeued while attempts < 3, else FAILED"


def test_show_json_names_the_lost_runner_limit_as_such(run: Driver, app: Brownthrower) -> None:
    shown = json.loads(run(f"job show {failed_four_times(app)} --json").out)
    assert (shown["attempts"], shown["retried"], shown["lost_runner_max_attempts"]) == (4, 4, 3)
    assert "max_attempts" not in shown
