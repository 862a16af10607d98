"""What a runner resuming after its lease lapsed must not do: start a job in a process the fork
server killed with the fence, or before the fork server knows the lease was renewed. Both made a
job's next attempt die at once, so a frozen job failed after one freeze instead of two.

These drive the real fork server and the runner's `Slots`, without a database: the timing that
matters (a message not yet read) is forced by handing `Slots` only some of the server's reports."""

from __future__ import annotations

import selectors
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bt.runner import osutil
from bt.runner.forkserver import FENCED, ForkServer
from bt.runner.heartbeat import Lease
from bt.runner.launch import Launcher
from bt.runner.options import RunnerOptions
from bt.runner.protocol import Message
from bt.runner.slots import Slots
from bt.values import Claim
from tests.runner.conftest import TIMEOUT


@pytest.fixture
def server() -> Iterator[ForkServer]:
    started = ForkServer.start(["noop"])
    yield started
    started.stop()


def slots_on(server: ForkServer, tmp: Path) -> Slots:
    slots = Slots(selectors.DefaultSelector(), on_done=lambda job: None)
    options = RunnerOptions(log_dir=tmp / "logs", work_dir=tmp / "work")
    slots.launcher = Launcher(server, options, runner_id=1, database_url="sqlite:///bt.db")
    return slots


def claim(job_id: int) -> Claim:
    return Claim(job_id, "noop", None, token=f"t{job_id}", attempt=1, epilog=False)


def fenced_report(server: ForkServer) -> Message:
    """The server's next `fenced` report (its other reports are dropped: not read yet)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        for message in server.receive():
            if message["op"] == FENCED:
                return message
        time.sleep(0.01)
    raise AssertionError("the fork server reported no fence")


def test_a_spare_killed_by_the_fence_is_not_given_the_next_job(
    server: ForkServer, tmp_path: Path
) -> None:
    server.renew(osutil.clock() + TIMEOUT)
    slots = slots_on(server, tmp_path)
    slots.begin(claim(1), keep_spare=True)
    assert slots.spare is not None
    spare = slots.spare.key
    server.renew(osutil.clock() - 1)  # the lease lapsed: the server kills the job and the spare
    slots.on_server([fenced_report(server)])  # the spare's exit is not read yet
    slots.begin(claim(2), keep_spare=False)
    assert [job.key for job in slots.with_id(2)] != [spare]


def test_a_renewal_reaches_the_fork_server_before_the_lease_lets_jobs_start() -> None:
    valid_when_sent: list[bool] = []

    class Watched(ForkServer):
        def renew(self, until: float) -> None:
            valid_when_sent.append(lease.valid())
            super().renew(until)

    watched = Watched.start(["noop"])
    try:
        lease = Lease(6.0, watched)
        lease.renewed(osutil.clock())
    finally:
        watched.stop()
    assert valid_when_sent == [False]
