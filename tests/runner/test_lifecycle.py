"""Runner lifetime: leases and recovery, pre-emption, drain, --job, task eligibility."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from bt import Brownthrower, Status, yamlio
from bt.services import JobService
from bt.values import JobSpec
from tests.runner.conftest import (
    Runners,
    alive,
    gone,
    kill,
    read_pids,
    status,
    submit,
    tags,
    wait_for,
)


def test_jobs_of_a_killed_runner_are_recovered_by_another(
    app: Brownthrower, runners: Runners
) -> None:
    job = submit(app, "slow_first")
    first = runners.start("--lease", "1")
    (pid,) = read_pids(runners.job_file(job, "pid"))
    kill(first, signal.SIGKILL)
    wait_for(lambda: not alive(pid), "the orphaned job to be killed")
    wait_for(lambda: all(r.expires_at < _db_now(app) for r in app.runners.list()), "lease expiry")
    runners.run("--lease", "1")
    details = app.jobs.get(job)
    assert details.status is Status.DONE and details.attempts == 2
    assert yamlio.parse(details.output) == 2


def _db_now(app: Brownthrower):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from bt.sqltypes import db_now

    with app.db.read() as session:
        return session.scalar(select(db_now()))


def test_sigterm_returns_running_jobs_to_the_queue(app: Brownthrower, runners: Runners) -> None:
    job = submit(app, "hang")
    runner = runners.start("--grace", "0.2")
    pids = read_pids(runners.job_file(job, "pid"))
    kill(runner, signal.SIGTERM)
    assert runner.wait(timeout=60) == 0
    assert gone(pids)
    details = app.jobs.get(job)
    assert details.status is Status.QUEUED and details.attempts == 0


def test_a_job_sigtermed_together_with_its_runner_is_requeued(
    app: Brownthrower, runners: Runners
) -> None:
    job = submit(app, "hang")
    runner = runners.start("--grace", "30")
    (pid,) = read_pids(runners.job_file(job, "pid"))
    os.kill(pid, signal.SIGTERM)  # what scancel or a walltime kill does to every process
    kill(runner, signal.SIGTERM)
    assert runner.wait(timeout=60) == 0
    details = app.jobs.get(job)
    assert details.status is Status.QUEUED and details.attempts == 0


def test_a_job_sigtermed_from_outside_alone_fails(app: Brownthrower, runners: Runners) -> None:
    job = submit(app, "hang")
    runner = runners.start("--loop")
    (pid,) = read_pids(runners.job_file(job, "pid"))
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: status(app, job) is Status.FAILED, "the job to fail")
    assert tags(app, job)["bt_reason"] == "terminated"
    kill(runner, signal.SIGTERM)
    assert runner.wait(timeout=60) == 0


def test_a_job_ending_within_the_grace_is_recorded(app: Brownthrower, runners: Runners) -> None:
    job = submit(app, "progress")
    runner = runners.start("--grace", "30")
    wait_for(lambda: status(app, job) is Status.RUNNING, "the job to start")
    kill(runner, signal.SIGTERM)
    runners.release(job)
    assert runner.wait(timeout=60) == 0
    assert status(app, job) is Status.DONE


def test_a_runner_only_claims_installed_tasks_matching_its_patterns(
    app: Brownthrower, runners: Runners
) -> None:
    unknown = JobService(app.db).create(JobSpec("not_installed"), submit=True).id
    broken = JobService(app.db).create(JobSpec("broken"), submit=True).id
    echo, noop = submit(app, "echo"), submit(app, "noop")
    runners.run("--tasks", "no*", "not_*", "bro*")
    assert status(app, noop) is Status.DONE
    assert [status(app, j) for j in (unknown, broken, echo)] == [Status.QUEUED] * 3
    assert app.jobs.get(unknown).attempts == 0


def test_job_option_submits_and_runs_exactly_that_job(app: Brownthrower, runners: Runners) -> None:
    job = app.jobs.create(JobSpec("echo", input="7")).id
    other = submit(app, "noop")
    runners.run("--job", str(job), "--submit")
    assert status(app, job) is Status.DONE
    assert status(app, other) is Status.QUEUED


def test_job_option_exits_1_when_the_job_fails(app: Brownthrower, runners: Runners) -> None:
    job = submit(app, "raiser")
    assert runners.run("--job", str(job), check=False).returncode == 1


def test_two_runners_never_run_a_job_twice(app: Brownthrower, runners: Runners) -> None:
    from bt.bulk import NodeSpec

    record = runners.tmp / "ran"
    config = f"path: {record}"
    app.jobs.create_graph([NodeSpec(i, JobSpec("record", config), True) for i in range(2000)])
    pair = [runners.start("--tasks", "record", "--slots", "2") for _ in range(2)]
    assert [runner.wait(timeout=120) for runner in pair] == [0, 0]
    ran = Path(record).read_text().split()
    assert len(ran) == len(set(ran)) == 2000
    assert app.jobs.counts(["record"]).get("DONE") == 2000
