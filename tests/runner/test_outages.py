"""Database outages: looping runners keep going through them, keep the jobs they run when the
outage is shorter than their lease, and say so once when it starts and once when it ends."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bt import Brownthrower, Status
from bt.db import Database
from bt.registry import TaskRegistry
from tests import pgbouncer, pgcluster
from tests.conftest import IN_CI
from tests.runner.conftest import Runners, kill, status, submit, wait_for
from tests.runner.outage import BouncedServer, Outage, SqliteLock, StoppedServer

JOBS = 30
OUTAGE_LEASES = 3  #: how long the long outage lasts, in leases


def _outage(kind: str, tmp_path: Path) -> Outage:
    if kind == "sqlite":
        return SqliteLock(tmp_path / "bt.db")
    if (why := pgcluster.server_available() or _bouncer_missing(kind)) is not None:
        (pytest.fail if IN_CI else pytest.skip)(f"no PostgreSQL cluster: {why}")
    return BouncedServer() if kind == "pgbouncer" else StoppedServer()


def _bouncer_missing(kind: str) -> str | None:
    return pgbouncer.available() if kind == "pgbouncer" else None


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgresql),
        pytest.param("pgbouncer", marks=pytest.mark.postgresql),
    ]
)
def outage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Outage]:
    """A database of its own that the test can take away and give back."""
    made = _outage(request.param, tmp_path)
    yield made
    made.close()


@pytest.fixture
def pg_outage(tmp_path: Path) -> Iterator[Outage]:
    """The same, PostgreSQL only: a stopped server is refused at once, not waited for."""
    made = _outage("postgresql", tmp_path)
    yield made
    made.close()


@pytest.fixture
def app_on(outage: Outage) -> Iterator[Brownthrower]:
    client = Brownthrower(Database(outage.url, pooled=outage.pooled), TaskRegistry())
    yield client
    client.close()


@pytest.fixture
def runners_on(outage: Outage, tmp_path: Path) -> Iterator[Runners]:
    started = Runners(outage.url, tmp_path, pooled=outage.pooled)
    yield started
    started.stop_all()


def lasting(outage: Outage, seconds: float) -> None:
    """An outage of `seconds` (the wait is the outage itself)."""
    outage.begin()
    try:
        time.sleep(seconds)
    finally:
        outage.end()


def test_looping_runners_drain_the_queue_through_an_outage_of_three_leases(
    outage: Outage, app_on: Brownthrower, runners_on: Runners
) -> None:
    runs = runners_on.tmp / "runs"
    jobs = {submit(app_on, "record", config=f"{{path: {runs}, sleep: 0.2}}") for _ in range(JOBS)}
    pair = [runners_on.start("--loop", "--lease", "2", "--slots", "2") for _ in range(2)]
    wait_for(lambda: runs.exists() and len(runs.read_text().split()) >= 4, "work to start")
    lasting(outage, OUTAGE_LEASES * 2)
    done = lambda: app_on.jobs.counts(["record"]).get("DONE") == JOBS  # noqa: E731
    wait_for(done, "the queue to drain")
    assert {int(job) for job in runs.read_text().split()} == jobs
    assert [runner.poll() for runner in pair] == [None, None]
    for runner in pair:
        kill(runner, signal.SIGTERM)
    assert [runner.wait(timeout=60) for runner in pair] == [0, 0]


def test_a_job_keeps_running_through_an_outage_shorter_than_the_lease(
    outage: Outage, app_on: Brownthrower, runners_on: Runners
) -> None:
    job = submit(app_on, "progress")
    runner = runners_on.start("--loop", "--lease", "4")
    wait_for(lambda: status(app_on, job) is Status.RUNNING, "the job to start")
    lasting(outage, 1.0)
    runners_on.release(job)
    wait_for(lambda: status(app_on, job) is Status.DONE, "the job to end")
    assert app_on.jobs.get(job).attempts == 1
    kill(runner, signal.SIGTERM)
    assert runner.wait(timeout=60) == 0


def test_an_outage_is_logged_once_as_it_starts_and_once_as_it_ends(
    pg_outage: Outage, tmp_path: Path
) -> None:
    runners = Runners(pg_outage.url, tmp_path)
    runner = runners.start("--loop", "--lease", "2")
    log = tmp_path / "runner-0.log"
    wait_for(lambda: "runner_started" in log.read_text(), "the runner to start")
    lasting(pg_outage, 2.0)
    wait_for(lambda: "database_reachable" in log.read_text(), "the end of the outage")
    kill(runner, signal.SIGTERM)
    assert runner.wait(timeout=60) == 0
    text = log.read_text()
    assert text.count("database_unreachable") == text.count("database_reachable") == 1
