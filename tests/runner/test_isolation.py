"""What a job can reach and what it leaves behind: no password anywhere task code can read,
no process outliving its run, files that are not executable, no `bt` from the current dir."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from bt import Brownthrower, Status
from bt.runner.environ import database_scope
from bt.runner.protocol import MARK
from bt.runner.sweep import sweep
from tests.runner.conftest import (
    INSTALLED,
    Runners,
    alive,
    kill,
    parent_of,
    read_pids,
    status,
    submit,
    wait_for,
    wait_for_lease_expiry,
)

SECRET = "s3cret-pw"


@pytest.fixture
def secret_runners(runners: Runners) -> Runners:
    """Runners given a password in their URL (PostgreSQL) and in `PGPASSWORD` (both)."""
    if runners.url.startswith("postgresql"):
        runners.url = runners.url.replace("postgres@", f"postgres:{SECRET}@")
    runners.url_in_env, runners.env = True, {"PGPASSWORD": SECRET}
    return runners


@pytest.mark.parametrize("who", ["job", "server", "runner"])
@pytest.mark.parametrize("what", ["environ", "cmdline"])
def test_no_password_in_what_proc_shows_of_the_runners_processes(
    app: Brownthrower, secret_runners: Runners, who: str, what: str
) -> None:
    job = submit(app, "proc_view")
    secret_runners.url_in_env = what == "environ"  # else on the runner's command line
    secret_runners.run()
    shown = secret_runners.job_file(job, f"{who}.{what}").read_bytes()
    assert SECRET.encode() not in shown
    assert b"BT_DATABASE_URL=" in shown if what == "environ" else b"python" in shown


def test_a_grandchild_dies_once_its_job_is_recovered_after_runner_and_fork_server_died(
    app: Brownthrower, runners: Runners
) -> None:
    job = submit(app, "spawn_first")
    first = runners.start("--lease", "1")
    pid, grandchild = read_pids(runners.job_file(job, "pids"))
    os.kill(parent_of(pid), signal.SIGKILL)  # the fork server
    kill(first, signal.SIGKILL)
    wait_for(lambda: not alive(pid), "the job process to die with its fork server")
    wait_for_lease_expiry(app)
    runners.run("--lease", "1")
    assert not alive(grandchild)
    assert status(app, job) is Status.DONE


def test_a_runs_files_are_not_executable(app: Brownthrower, runners: Runners) -> None:
    job = submit(app, "progress")
    runner = runners.start()
    runners.release(job)
    assert runner.wait(timeout=60) == 0
    for suffix in ("out", "err", "log"):
        assert (runners.logs / f"{job}.1.{suffix}").stat().st_mode & 0o111 == 0


def test_a_bt_package_in_the_current_directory_does_not_replace_brownthrower(
    app: Brownthrower, runners: Runners, tmp_path: Path
) -> None:
    fake = tmp_path / "cwd" / "bt"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise SystemExit('the wrong bt')\n")
    runners.cwd, runners.program = fake.parent, INSTALLED
    job = submit(app, "noop")
    runners.run()
    assert status(app, job) is Status.DONE


def test_the_sweep_kills_stale_runs_of_its_own_database_only(app: Brownthrower) -> None:
    scope = database_scope(app.db.url)
    marks = {"stale": f"{scope}:1:{'0' * 32}", "other_database": f"{'f' * 12}:1:{'0' * 32}"}
    sleepers = {
        name: subprocess.Popen(["sleep", "300"], env={**os.environ, MARK: mark})
        for name, mark in marks.items()
    }
    try:
        assert sweep(app.claims, scope) == 1
        assert sleepers["stale"].wait(timeout=10) == -signal.SIGKILL
        assert sleepers["other_database"].poll() is None
    finally:
        for sleeper in sleepers.values():
            sleeper.kill()
            sleeper.wait()
