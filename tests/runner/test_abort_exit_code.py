"""A running job aborted: its runner records the killed process's exit code in its history."""

from __future__ import annotations

from bt import Brownthrower
from tests.runner.conftest import Runners, read_pids, submit


def test_an_aborted_running_job_has_its_exit_code_in_its_history(
    app: Brownthrower, runners: Runners
) -> None:
    job = submit(app, "hang")
    runner = runners.start()
    read_pids(runners.job_file(job, "pid"))
    app.jobs.abort(job)
    assert runner.wait(timeout=60) == 0
    (attempt,) = app.jobs.history(job)
    assert (attempt.outcome, attempt.exit_code) == ("FAILED", -15)
