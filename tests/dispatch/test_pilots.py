"""Real dispatchers keeping real `bt-runner` pilots, on both backends and both databases."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from bt import Brownthrower, Status
from bt.dispatch import Snapshot
from tests.dispatch import workload
from tests.dispatch.helpers import Dispatchers, drive, running, wait_for

pytestmark = pytest.mark.slow


def kill_pilot(dispatchers: Dispatchers, kind: str, batch_id: str, *scancel: str) -> None:
    """Kill a pilot behind the dispatcher's back: SIGKILL (local) or `scancel` (Slurm)."""
    if kind == "local":
        record = (dispatchers.state / "dispatchers").glob(f"*/pilots/{batch_id}.json")
        os.killpg(json.loads(next(record).read_text())["group"], signal.SIGKILL)
        return
    subprocess.run(["scancel", *scancel, batch_id], check=True)


def live(snapshot: Snapshot) -> list[str]:
    return sorted(p.batch_id for p in snapshot.report.pilots or () if p.live)


def test_static_keeps_n_pilots_and_replaces_a_killed_one(
    dispatchers: Dispatchers, kind: str, app: Brownthrower
) -> None:
    dispatcher = dispatchers.build(kind, "--pilots", "2")
    first = drive(dispatcher, lambda s: running(s) == 2)
    wait_for(lambda: len(app.runners.list()) == 2)
    victim = live(first)[0]
    kill_pilot(dispatchers, kind, victim)
    after = drive(dispatcher, lambda s: victim not in live(s) and running(s) == 2)
    assert len(live(after)) == 2


def test_on_demand_scales_up_to_the_max_and_back_to_zero(
    dispatchers: Dispatchers, kind: str, app: Brownthrower
) -> None:
    workload.submit_jobs(app, "sleep", 12, input="0.5")
    dispatcher = dispatchers.build(
        kind, "--mode", "on-demand", "--max-pilots", "3", "--jobs-per-pilot", "2"
    )
    seen: list[Snapshot] = []
    drive(dispatcher, lambda s: workload.finished(app) and s.report.live == 0, seen=seen)
    assert max(s.report.live for s in seen) == 3
    assert app.jobs.counts()["DONE"] == 12


def test_on_demand_without_work_keeps_no_pilot(dispatchers: Dispatchers) -> None:
    snapshot = dispatchers.build("local", "--mode", "on-demand").step()
    assert snapshot.report.desired == 0 and snapshot.report.submitted == []


def test_pilots_can_get_the_url_from_a_private_file(
    dispatchers: Dispatchers, app: Brownthrower, tmp_path: Path
) -> None:
    workload.submit_jobs(app, "noop", 2)
    dispatcher = dispatchers.build("local", "--mode", "on-demand", "--url-file")
    drive(dispatcher, lambda s: workload.finished(app) and s.report.live == 0)
    (url_file,) = tmp_path.glob("dispatchers/*/database.toml")
    assert stat.S_IMODE(url_file.stat().st_mode) == 0o600
    assert app.jobs.counts()["DONE"] == 2


def test_pilots_only_run_the_eligible_tasks(dispatchers: Dispatchers, app: Brownthrower) -> None:
    wanted = workload.submit_jobs(app, "noop", 3)
    other = workload.submit_jobs(app, "echo", 2)
    dispatcher = dispatchers.build("local", "--mode", "on-demand", "--tasks", "no*")
    drive(dispatcher, lambda s: workload.finished(app, ["noop"]) and s.report.live == 0)
    assert {app.jobs.info(i).status for i in wanted} == {Status.DONE}
    assert {app.jobs.info(i).status for i in other} == {Status.QUEUED}


def kill_runner(app: Brownthrower) -> None:
    """SIGKILL the pilot's runner process only, as a crashed node would lose it."""
    (runner,) = app.runners.list()
    os.kill(runner.pid, signal.SIGKILL)


@pytest.mark.slurm
def test_a_job_of_a_pilot_whose_runner_died_is_recovered_by_lease(
    dispatchers: Dispatchers, slurm_cluster: object, app: Brownthrower
) -> None:
    (job,) = workload.submit_jobs(app, "sleep", 1, input="2")
    dispatcher = dispatchers.build("slurm", "--pilots", "1")
    drive(dispatcher, lambda s: app.jobs.info(job).status is Status.RUNNING)
    kill_runner(app)
    drive(dispatcher, lambda s: app.jobs.info(job).status in (Status.DONE, Status.FAILED))
    assert app.jobs.info(job).status is Status.DONE
    assert app.jobs.info(job).attempts == 2


@pytest.mark.slurm
@pytest.mark.parametrize(
    "scancel",
    [
        pytest.param(["--batch", "--signal=TERM"], id="runner-only"),
        pytest.param([], id="plain"),
    ],
)
def test_a_job_of_a_pilot_cancelled_by_scancel_is_recovered(
    dispatchers: Dispatchers, slurm_cluster: object, app: Brownthrower, scancel: list[str]
) -> None:
    (job,) = workload.submit_jobs(app, "sleep", 1, input="3")
    dispatcher = dispatchers.build("slurm", "--pilots", "1")
    snapshot = drive(dispatcher, lambda s: app.jobs.info(job).status is Status.RUNNING)
    kill_pilot(dispatchers, "slurm", live(snapshot)[0], *scancel)
    drive(dispatcher, lambda s: app.jobs.info(job).status is not Status.RUNNING)
    drive(dispatcher, lambda s: app.jobs.info(job).status in (Status.DONE, Status.FAILED))
    assert app.jobs.info(job).status is Status.DONE, app.tags.list(job)


@pytest.mark.slurm
def test_a_200_job_dag_with_subjobs_finishes_through_slurm_pilots(
    dispatchers: Dispatchers, slurm_cluster: object, app: Brownthrower
) -> None:
    workload.submit_dag(app)
    dispatcher = dispatchers.build("slurm", "--pilots", "2")
    start = time.monotonic()
    drive(dispatcher, lambda s: workload.finished(app), timeout=180)
    took = time.monotonic() - start
    counts = app.jobs.counts()
    print(f"\n200-job DAG through 2 Slurm pilots ({app.db.url.split(':')[0]}): {took:.1f} s")
    assert counts["DONE"] == workload.DAG_SIZE == 200
    assert counts["FAILED"] == 0
