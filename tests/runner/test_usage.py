"""What each run cost, as the runner measures it from the job's own process: CPU, memory and
I/O figures for every run, however it ended (its `job_usage` log line shows them)."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

from bt import Brownthrower, Status, yamlio
from bt.usage import parse_log_text
from tests.runner.conftest import Runners, kill, read_pids, status, submit, wait_for
from tests.runner.test_leases import stop_quietly

MB = 1 << 20
USAGE_LINE = re.compile(r"job_usage job=(\d+) attempt=(\d+) (.*)")


def usage_lines(log: str, job: int) -> list[dict[str, str]]:
    """The figures of each `job_usage` line of `job` in a runner's log, in order."""
    found = (m for m in USAGE_LINE.finditer(log) if int(m[1]) == job)
    return [{"attempt": m[2], **parse_log_text(m[3])} for m in found]


def only_usage(log: str, job: int) -> dict[str, str]:
    (usage,) = usage_lines(log, job)
    return usage


def runner_log(runners: Runners, n: int = 0) -> str:
    return (runners.tmp / f"runner-{n}.log").read_text()


def burning(app: Brownthrower, runners: Runners, **spec: object) -> tuple[int, int]:
    """A `burn` job running long on a new runner, burning for a moment: its id and pid."""
    job = submit(app, "burn", config="seconds: 300", **spec)
    runners.start()
    (pid,) = read_pids(runners.job_file(job, "pid"))
    time.sleep(0.5)
    return job, pid


def test_a_cpu_burner_spends_its_wall_time_in_user_cpu(app: Brownthrower, runners: Runners) -> None:
    job = submit(app, "burn", config="seconds: 1.5")
    usage = only_usage(runners.run().stderr, job)
    seen = yamlio.parse(app.jobs.get(job).output, what="output")
    cpu_user, realtime = float(usage["cpu_user"]), float(usage["realtime"])
    assert float(usage["cpu_sys"]) + cpu_user >= seen["cpu"] >= 1.5
    # on a host that gives the loop a whole core (share 1), user CPU >= 90 % of the wall time
    share = seen["cpu"] / seen["wall"]
    assert cpu_user >= 0.9 * share * realtime
    assert realtime >= seen["wall"]
    assert usage["exit_code"] == "0" and int(usage["slots"]) == 1 and usage["host"]


def test_a_task_that_touches_200_mb_has_a_peak_rss_of_200_mb(
    app: Brownthrower, runners: Runners
) -> None:
    job = submit(app, "allocate", config="mb: 200")
    usage = only_usage(runners.run().stderr, job)
    assert int(usage["peak_rss"]) >= 200 * MB
    assert int(usage["minflt"]) >= 200 * MB // 4096 // 2  # touching pages faults them in


def test_a_task_that_writes_10_mb_has_a_wchar_of_10_mb(app: Brownthrower, runners: Runners) -> None:
    job = submit(app, "write", config="mb: 10")
    usage = only_usage(runners.run().stderr, job)
    assert int(usage["wchar"]) >= 10 * MB
    assert int(usage["rchar"]) >= 0 and usage["read_bytes"] != "-"


def test_a_grandchild_the_job_waited_for_counts_in_its_cpu(
    app: Brownthrower, runners: Runners
) -> None:
    job = submit(app, "burn_in_child", config="seconds: 1")
    usage = only_usage(runners.run().stderr, job)
    assert float(usage["cpu_user"]) + float(usage["cpu_sys"]) >= 0.99


def test_an_aborted_run_keeps_its_figures(app: Brownthrower, runners: Runners) -> None:
    job, _pid = burning(app, runners)
    app.jobs.abort(job)
    assert runners.started[0].wait(timeout=60) == 0
    usage = only_usage(runner_log(runners), job)
    assert usage["exit_code"] == str(-signal.SIGTERM)
    assert float(usage["cpu_user"]) >= 0.1 and float(usage["realtime"]) >= 0.5


def test_every_run_killed_at_its_time_limit_keeps_its_figures(
    app: Brownthrower, runners: Runners
) -> None:
    job = submit(app, "burn", config="seconds: 300", time_limit=1.0, retries=1, retry_delay=0)
    usages = usage_lines(runners.run().stderr, job)
    assert [u["attempt"] for u in usages] == ["1", "2"]
    for usage in usages:
        assert usage["exit_code"] == str(-signal.SIGTERM)
        assert float(usage["realtime"]) >= 1.0 and float(usage["cpu_user"]) >= 0.1


def test_a_run_killed_from_outside_keeps_its_figures(app: Brownthrower, runners: Runners) -> None:
    job, pid = burning(app, runners)
    os.kill(pid, signal.SIGKILL)
    assert runners.started[0].wait(timeout=60) == 0
    assert status(app, job) is Status.FAILED
    usage = only_usage(runner_log(runners), job)
    assert usage["exit_code"] == str(-signal.SIGKILL)
    assert float(usage["cpu_user"]) >= 0.1 and int(usage["peak_rss"]) > 0


def test_a_run_fenced_by_its_lease_keeps_its_figures(app: Brownthrower, runners: Runners) -> None:
    job = submit(app, "burn", config="seconds: 300")
    runner = runners.start("--lease", "2")
    (pid,) = read_pids(runners.job_file(job, "pid"))
    stop_quietly(runner, app)
    try:
        wait_for(lambda: not Path(f"/proc/{pid}").exists(), "the fork server to fence the job")
    finally:
        kill(runner, signal.SIGCONT)
    wait_for(lambda: usage_lines(runner_log(runners), job), "the figures of the fenced run")
    usage = usage_lines(runner_log(runners), job)[0]
    assert usage["exit_code"] == str(-signal.SIGKILL) and float(usage["cpu_user"]) > 0
