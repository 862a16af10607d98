"""Abort at any moment: the whole process group dies and the job stays FAILED "aborted"."""

from __future__ import annotations

import contextlib

from bt import Brownthrower, Status, tagnames
from tests.runner.conftest import (
    LISTENING_ONLY,
    Runners,
    gone,
    read_pids,
    status,
    submit,
    tags,
    wait_for,
)


def test_abort_kills_the_job_and_its_grandchildren(app: Brownthrower, runners: Runners) -> None:
    job = submit(app, "spawner")
    runner = runners.start()
    pids = read_pids(runners.job_file(job, "pids"))
    app.jobs.abort(job)
    wait_for(lambda: gone(pids), "the job's processes to die")
    assert runner.wait(timeout=60) == 0
    assert status(app, job) is Status.FAILED
    assert tags(app, job)["bt_reason"] == "aborted"


def test_a_job_ignoring_sigterm_is_killed_after_the_grace(
    app: Brownthrower, runners: Runners
) -> None:
    job = submit(app, "stubborn")
    runner = runners.start()
    pids = read_pids(runners.job_file(job, "pid"))
    app.jobs.abort(job)
    wait_for(lambda: gone(pids), "SIGKILL")
    assert runner.wait(timeout=60) == 0
    assert status(app, job) is Status.FAILED


def test_an_aborted_job_is_not_overwritten_by_its_late_result(
    app: Brownthrower, runners: Runners
) -> None:
    job = submit(app, "progress")
    runner = runners.start()
    wait_for(runners.job_file(job, "").exists, "the job to start")
    app.jobs.abort(job)
    with contextlib.suppress(FileNotFoundError):
        runners.job_file(job, "release").touch()
    assert runner.wait(timeout=60) == 0
    assert status(app, job) is Status.FAILED
    assert tags(app, job)["bt_reason"] == "aborted"


@LISTENING_ONLY
def test_an_abort_is_seen_long_before_the_next_poll(app: Brownthrower, runners: Runners) -> None:
    """On SQLite by the change watcher, on PostgreSQL by NOTIFY: the runner checks its claims
    only at its (60 s) poll, and at its output flushes, of which a silent job has only the first,
    the one that writes `bt_runner`."""
    job = submit(app, "hang")
    runners.start("--poll", "60")
    pids = read_pids(runners.job_file(job, "pid"))
    wait_for(lambda: tagnames.RUNNER in tags(app, job), "the first flush")
    app.jobs.abort(job)
    wait_for(lambda: gone(pids), "the abort to be seen", timeout=10)
