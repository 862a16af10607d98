"""A runner whose network fails: cut off for longer than its lease, or its established
connections black-holed. Each time no job runs twice at once, every job ends recorded (by this
runner or, after recovery, another), and the runner works again soon after."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bt import Brownthrower, Status
from bt.db import Database
from bt.registry import TaskRegistry
from tests.conftest import IN_CI
from tests.runner.conftest import Runners, status, submit, wait_for
from tests.runner.partition import Partition, missing

LEASE = 6.0
pytestmark = pytest.mark.postgresql


@pytest.fixture
def partition() -> Iterator[Partition]:
    if (why := missing()) is not None:
        (pytest.fail if IN_CI else pytest.skip)(f"no network namespaces: {why}")
    made = Partition()
    yield made
    made.close()


@pytest.fixture
def app(partition: Partition) -> Iterator[Brownthrower]:
    client = Brownthrower(Database(partition.url), TaskRegistry())
    yield client
    client.close()


def _journal_jobs(app: Brownthrower, folder: Path, count: int, sleep: float) -> list[int]:
    folder.mkdir(exist_ok=True)
    return [
        submit(app, "journal", config=f"{{dir: {folder}, sleep: {sleep}}}") for _ in range(count)
    ]


def _runners(url: str, folder: Path, program: list[str] | None = None) -> Runners:
    folder.mkdir()
    return Runners(url, folder, program=program) if program else Runners(url, folder)


def _journal(folder: Path) -> list[list[str]]:
    return [line.split()[1:] for line in (folder / "journal").read_text().splitlines()]


def _rejoined_after(app: Brownthrower, pid: int, moment: float) -> bool:
    """Whether the runner of `pid` renewed a lease (registered again) since `moment`."""
    return any(r.pid == pid and r.heartbeat_at.timestamp() > moment for r in app.runners.list())


def test_a_runner_cut_off_for_longer_than_its_lease_is_fenced_and_its_jobs_recovered(
    partition: Partition, app: Brownthrower, tmp_path: Path
) -> None:
    folder = tmp_path / "runs"
    jobs = _journal_jobs(app, folder, 2, sleep=8)
    inside = _runners(partition.ns_url, tmp_path / "inside", partition.program())
    cut_off = inside.start("--loop", "--lease", str(LEASE), "--slots", "2")
    wait_for(lambda: all(status(app, j) is Status.RUNNING for j in jobs), "both jobs to run")
    partition.cut()
    outside = _runners(partition.url, tmp_path / "outside")
    outside.start("--loop", "--lease", str(LEASE), "--slots", "2")
    time.sleep(20)  # the outage itself
    partition.heal()
    healed = time.time()
    try:
        wait_for(lambda: all(status(app, j) is Status.DONE for j in jobs), "the jobs to end")
        wait_for(lambda: _rejoined_after(app, cut_off.pid, healed), "the cut-off runner", LEASE)
    finally:
        inside.stop_all()
        outside.stop_all()
    assert not [line for line in _journal(folder) if line[0] == "overlap"]


def test_a_runner_whose_connections_are_black_holed_recovers_within_a_lease(
    partition: Partition, app: Brownthrower, tmp_path: Path
) -> None:
    folder = tmp_path / "runs"
    [job] = _journal_jobs(app, folder, 1, sleep=4)
    inside = _runners(partition.ns_url, tmp_path / "inside", partition.program())
    runner = inside.start("--loop", "--lease", str(LEASE))
    wait_for(lambda: status(app, job) is Status.RUNNING, "the job to run")
    assert partition.black_hole(), "the runner holds an established connection"
    started = time.time()
    try:
        wait_for(lambda: status(app, job) is Status.DONE, "the job to end recorded", 4 + LEASE)
        wait_for(lambda: _rejoined_after(app, runner.pid, started), "a renewal", LEASE)
        [after] = _journal_jobs(app, folder, 1, sleep=0)
        wait_for(lambda: status(app, after) is Status.DONE, "the runner to work again", LEASE)
    finally:
        inside.stop_all()
    assert not [line for line in _journal(folder) if line[0] == "overlap"]
