"""Concurrency limits with real runners: a limit of 2 across 3 runners of 4 slots is never
exceeded, a runner killed -9 holding a unit gives it back at recovery, and a runner stopped
past its lease never gives back the unit of a job another runner took again.

The `turnstile` task journals each run's start and end and waits for a barrier file, so the
test decides when runs end and reads from the journal how many ran at once."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from bt import Brownthrower, Status
from tests.runner.conftest import Runners, kill, submit, wait_for
from tests.runner.test_leases import stop_quietly

POOL = "pool"


def turnstiles(app: Brownthrower, runners: Runners, count: int) -> list[int]:
    """`count` QUEUED turnstile jobs holding a unit of `POOL`; their ids."""
    config = f"dir: {runners.tmp}"
    return [submit(app, "turnstile", config=config, limits={POOL: 1}) for _ in range(count)]


def journal(runners: Runners) -> list[tuple[str, int]]:
    """(`start` or `end`, job id) of every journal line, in the order they were written."""
    path = runners.tmp / "journal"
    lines = path.read_text().splitlines() if path.exists() else []
    return [(words[0], int(words[1])) for words in map(str.split, lines)]


def open_runs(events: list[tuple[str, int]]) -> list[int]:
    """The jobs whose last run started and has not ended. A start of a job closes its earlier
    run: that one was killed (a job never runs twice at once)."""
    running: list[int] = []
    for what, job_id in events:
        if job_id in running:
            running.remove(job_id)
        if what == "start":
            running.append(job_id)
    return running


def peak(events: list[tuple[str, int]]) -> int:
    """The most runs open at once, over the whole journal."""
    return max((len(open_runs(events[: i + 1])) for i in range(len(events))), default=0)


def release(runners: Runners, job_id: int) -> None:
    (runners.tmp / f"release-{job_id}").touch()


def in_use(app: Brownthrower) -> int:
    return app.limits.get(POOL).in_use


def starts(runners: Runners) -> int:
    return sum(what == "start" for what, _ in journal(runners))


def test_a_limit_of_two_is_never_exceeded_by_three_runners_of_four_slots(
    app: Brownthrower, runners: Runners
) -> None:
    app.limits.set(POOL, 2)
    jobs = turnstiles(app, runners, 12)
    for _ in range(3):
        runners.start("--loop", "--slots", "4")
    for done in range(len(jobs)):
        expected = min(2, len(jobs) - done)
        wait_for(lambda: len(open_runs(journal(runners))) >= expected, f"{expected} runs")  # noqa: B023
        running = open_runs(journal(runners))
        assert len(running) == expected, running
        assert expected <= in_use(app) <= 2  # a run ended in the journal may not be recorded yet
        release(runners, running[0])
        wait_for(lambda: ("end", running[0]) in journal(runners), "the released run to end")  # noqa: B023
    wait_for(lambda: app.jobs.counts()["DONE"] == len(jobs), "every job DONE")
    assert peak(journal(runners)) == 2
    assert sorted(job_id for what, job_id in journal(runners) if what == "start") == jobs
    wait_for(lambda: in_use(app) == 0, "the last units given back")
    assert app.jobs.check() == []


def one_of_two_running(
    app: Brownthrower, runners: Runners
) -> tuple[list[int], subprocess.Popen[str], int]:
    """Two jobs holding the only unit of `POOL`, one running on a first runner (lease 2 s): the
    jobs, the runner, the running job."""
    app.limits.set(POOL, 1)
    jobs = turnstiles(app, runners, 2)
    first = runners.start("--loop", "--lease", "2")
    wait_for(lambda: starts(runners) == 1, "the first run")
    (held,) = open_runs(journal(runners))
    assert in_use(app) == 1
    return jobs, first, held


def test_a_runner_killed_holding_a_unit_gives_it_back_at_recovery(
    app: Brownthrower, runners: Runners
) -> None:
    jobs, first, held = one_of_two_running(app, runners)
    kill(first, signal.SIGKILL)
    runners.start("--loop", "--lease", "2")  # recovers the job after the lease, then runs one
    wait_for(lambda: starts(runners) == 2, "a run after the recovery")
    history = [event.reason for event in app.jobs.events(held)]
    assert "runner lost" in history
    assert in_use(app) == 1 and len(open_runs(journal(runners))) == 1
    (runners.tmp / "release-all").touch()
    wait_for(lambda: app.jobs.counts()["DONE"] == len(jobs), "every job DONE")
    assert peak(journal(runners)) == 1
    assert in_use(app) == 0 and app.jobs.check() == []


def test_a_fenced_runner_coming_back_never_gives_a_unit_back_twice(
    app: Brownthrower, runners: Runners
) -> None:
    jobs, first, held = one_of_two_running(app, runners)
    stop_quietly(first, app)
    try:
        runners.start("--loop", "--lease", "2")  # recovers the job, then runs one
        wait_for(lambda: starts(runners) == 2, "a run after the recovery")
    finally:
        kill(first, signal.SIGCONT)
    log = Path(runners.tmp / "runner-0.log")  # its killed run dealt with, it registers again
    wait_for(lambda: "runner_joined" in log.read_text(), "the stopped runner back")
    assert f"job_fenced job={held}" in log.read_text()
    assert in_use(app) == 1 and len(open_runs(journal(runners))) == 1
    assert [s.status for s in map(app.jobs.info, jobs)].count(Status.RUNNING) == 1
    (runners.tmp / "release-all").touch()
    wait_for(lambda: app.jobs.counts()["DONE"] == len(jobs), "every job DONE")
    assert peak(journal(runners)) == 1
    assert in_use(app) == 0 and app.jobs.check() == []
