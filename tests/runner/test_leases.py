"""Leases under stalls: a runner stopped past its lease has its jobs killed by its own fork
server before any other runner can recover them, then carries on as a new runner."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import make_url, text

from bt import Brownthrower, Status
from tests.runner.conftest import (
    Runners,
    alive,
    kill,
    status,
    submit,
    wait_for,
    wait_for_lease_expiry,
)

LEASE = "2"
IN_TRANSACTION = """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL
"""


def quiet(app: Brownthrower) -> bool:
    """No other client is inside a transaction (so a stopped one holds no lock)."""
    if app.db.is_postgresql:
        with app.db.read() as session:
            return session.scalar(text(IN_TRANSACTION)) == 0
    probe = sqlite3.connect(str(make_url(app.db.url).database), timeout=0.05)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()
    return True


def stopped(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"


def stop_quietly(process: subprocess.Popen[str], app: Brownthrower) -> None:
    """SIGSTOP `process` at a moment it holds no database lock (else others would wait for it)."""
    for _ in range(100):
        wait_for(lambda: quiet(app), "a moment without transactions")
        kill(process, signal.SIGSTOP)
        wait_for(lambda: stopped(process.pid), "SIGSTOP")
        if quiet(app):
            return
        kill(process, signal.SIGCONT)
    raise AssertionError("the runner was always inside a transaction")


def start_solo(app: Brownthrower, runners: Runners) -> tuple[int, subprocess.Popen[str], int]:
    """A `solo` job running on a first runner: the job, the runner, the job's pid."""
    job = submit(app, "solo", config=f"dir: {runners.tmp}")
    first = runners.start("--loop", "--lease", LEASE)
    journal = runners.tmp / "journal"
    wait_for(lambda: journal.exists() and "start 1" in journal.read_text(), "the first run")
    return job, first, int(journal.read_text().split()[2])


def test_a_stopped_runners_job_dies_before_another_runner_reruns_it(
    app: Brownthrower, runners: Runners
) -> None:
    job, first, pid = start_solo(app, runners)
    runners.start("--loop", "--lease", LEASE)
    stop_quietly(first, app)
    try:
        wait_for(lambda: app.jobs.get(job).finished, "the second runner to rerun the job")
    finally:
        kill(first, signal.SIGCONT)
    assert "overlap" not in (runners.tmp / "journal").read_text()
    assert status(app, job) is Status.DONE and not alive(pid)


def test_a_runner_stopped_past_its_lease_registers_again_and_carries_on(
    app: Brownthrower, runners: Runners
) -> None:
    job, first, _pid = start_solo(app, runners)
    (before,) = app.runners.list()
    stop_quietly(first, app)
    wait_for_lease_expiry(app)
    runners.run("--lease", LEASE, "--tasks", "noop")  # recovers the job
    kill(first, signal.SIGCONT)
    wait_for(lambda: status(app, job) is Status.DONE, "the stopped runner to rerun the job")
    assert first.poll() is None
    assert [r.pid for r in app.runners.list() if r.id != before.id] == [first.pid]
