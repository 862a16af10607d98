"""Claiming ahead: after a short run the runner holds the next job for its slot, and gives it
back when the slot does not come free in time."""

from __future__ import annotations

import signal

from bt import Brownthrower, Status
from bt.runner.record import UNSTARTED
from tests.runner.conftest import Runners, kill, read_pids, submit, wait_for


def test_a_claim_made_ahead_of_a_long_job_is_given_back(
    app: Brownthrower, runners: Runners
) -> None:
    submit(app, "noop")  # a short run: the runner claims ahead after it
    long, behind = submit(app, "hang"), submit(app, "hang")
    runner = runners.start("--loop", "--grace", "0.2")
    read_pids(runners.job_file(long, "pid"))
    given_back = lambda: any(e.reason == UNSTARTED for e in app.jobs.events(behind))  # noqa: E731
    wait_for(given_back, "the claim made ahead to be given back")
    details = app.jobs.get(behind)
    assert details.status is Status.QUEUED and details.attempts == 0
    kill(runner, signal.SIGTERM)
    assert runner.wait(timeout=60) == 0
