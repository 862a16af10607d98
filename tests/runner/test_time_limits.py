"""Time limits and retries as a runner meets them: a phase past its limit is killed and failed,
and a draining runner waits for the delayed retries of its tasks instead of exiting."""

from __future__ import annotations

import itertools
import os

from bt import Brownthrower, Status
from bt.runner.options import KILL_TIMEOUT
from tests.runner.conftest import Runners, read_pids, status, submit, tags, wait_for

LIMIT = 1.0  #: seconds the hanging jobs may run


def group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_job_over_its_time_limit_fails_and_its_process_group_dies(
    app: Brownthrower, runners: Runners
) -> None:
    job = submit(app, "hang", time_limit=LIMIT)
    runner = runners.start()
    (pid,) = read_pids(runners.job_file(job, "pid"))
    wait_for(lambda: status(app, job) is Status.FAILED, "failure", LIMIT + KILL_TIMEOUT + 2)
    assert tags(app, job)["bt_reason"] == "time limit of 1 s exceeded"
    assert group_gone(pid)
    assert runner.wait(timeout=60) == 0


def test_a_timed_out_job_keeps_the_signal_that_ended_it(
    app: Brownthrower, runners: Runners
) -> None:
    job = submit(app, "hang", time_limit=LIMIT)
    runners.run()
    assert tags(app, job)["bt_exit_code"] == "-15"


def test_a_timed_out_job_with_one_retry_runs_twice_then_fails(
    app: Brownthrower, runners: Runners
) -> None:
    runs = runners.tmp / "runs"
    config = f"path: {runs}"
    job = submit(app, "hang", config=config, time_limit=LIMIT, retries=1, retry_delay=0)
    runners.run()
    assert status(app, job) is Status.FAILED
    assert len(runs.read_text().split()) == 2


def test_a_draining_runner_waits_for_delayed_retries(app: Brownthrower, runners: Runners) -> None:
    job = submit(app, "flaky", config=f"path: {runners.tmp / 'count'}")  # fails twice
    runners.run()
    history = app.jobs.history(job)
    gaps = [(b.started - a.ended).total_seconds() for a, b in itertools.pairwise(history)]
    assert status(app, job) is Status.DONE and len(history) == 3
    assert gaps[0] >= 0.5 and gaps[1] >= 1.0  # flaky: retry_delay 0.5, doubling


def test_a_timed_out_jobs_traceback_names_only_the_signals_it_got(
    app: Brownthrower, runners: Runners
) -> None:
    job = submit(app, "hang", time_limit=LIMIT)
    runners.run()
    traceback = tags(app, job)["bt_traceback"]
    assert "killed by signal 15 (SIGTERM)" in traceback
    assert "then SIGKILL" not in traceback


def test_a_failed_run_that_will_be_retried_is_logged_as_a_retry(
    app: Brownthrower, runners: Runners
) -> None:
    job = submit(app, "flaky", config=f"path: {runners.tmp / 'count'}")  # fails twice
    log = runners.run().stderr
    assert log.count(f"job_retry job={job} ") == 2
    assert f"job_failed job={job} " not in log
