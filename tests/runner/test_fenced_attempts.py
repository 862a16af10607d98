"""A job that freezes its own node (here: SIGSTOPs its runner) is killed by the fork server
when the lease lapses; that run counts as an attempt, so after `max_attempts` the job fails
with reason `runner lost` instead of being retried forever."""

from __future__ import annotations

import signal
from pathlib import Path

from bt import Brownthrower, Status
from tests.runner.conftest import Runners, alive, kill, status, submit, tags, wait_for

LEASE = "6"  #: the job dies 5.25 s after the last renewal; others could recover it after 6.75 s
CYCLES = 4  #: freezes allowed before the test gives up (the job's max_attempts is 2)


def frozen_runs(journal: Path) -> list[tuple[int, int]]:
    """(runner pid, job pid) of every run that froze its runner so far."""
    if not journal.exists():
        return []
    return [(int(f[1]), int(f[2])) for f in map(str.split, journal.read_text().splitlines())]


def ended_runs(app: Brownthrower, job_id: int) -> list[str | None]:
    """The reason of every run of the job recorded as ended so far."""
    events = app.jobs.events(job_id)
    return [e.reason for e in events if e.old_status is Status.RUNNING]


def froze_or_failed(app: Brownthrower, job_id: int, journal: Path, times: int) -> bool:
    """Whether the job froze its runner `times` times so far, or failed."""
    return len(frozen_runs(journal)) >= times or status(app, job_id) is Status.FAILED


def stopped(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"


def test_a_job_that_freezes_its_runner_fails_runner_lost_after_max_attempts(
    app: Brownthrower, runners: Runners
) -> None:
    job = submit(app, "freezer", config=f"dir: {runners.tmp}", max_attempts=2)
    runner = runners.start("--loop", "--lease", LEASE)
    journal = runners.tmp / "frozen"
    for cycle in range(1, CYCLES + 1):
        wait_for(lambda: froze_or_failed(app, job, journal, cycle), f"freeze {cycle}")  # noqa: B023
        if len(frozen_runs(journal)) < cycle:  # failed without freezing again: see below
            break
        runner_pid, job_pid = frozen_runs(journal)[-1]
        assert runner_pid == runner.pid
        wait_for(lambda: stopped(runner.pid), "the runner to stop")
        wait_for(lambda: not alive(job_pid), "the fork server to kill the job")  # noqa: B023
        kill(runner, signal.SIGCONT)  # back before another runner could recover the job
        # requeued and claimed again in one commit, the job may never be seen QUEUED
        wait_for(lambda: len(ended_runs(app, job)) >= cycle, "the kill to be recorded")  # noqa: B023
        if status(app, job) is Status.FAILED:
            break
    details = app.jobs.get(job)
    assert details.status is Status.FAILED, f"still retried after {CYCLES} freezes"
    assert (details.attempts, len(frozen_runs(journal))) == (2, 2)
    assert tags(app, job)["bt_reason"] == "runner lost"
    assert ended_runs(app, job) == ["runner lost", "runner lost"]  # requeued, then failed
