"""The `bt-dispatcher` program: restarts, --cancel-on-exit, --once, and its screen."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pexpect
import pytest

from bt import Brownthrower
from tests.dispatch.helpers import (
    PROGRAM,
    Dispatchers,
    argv,
    backend_of,
    live_ids,
    wait_for,
)

pytestmark = pytest.mark.slow


def stop(process: subprocess.Popen[str], sig: int = signal.SIGTERM) -> tuple[int, str]:
    """Signal a dispatcher and wait for it: its exit code and its whole output."""
    process.send_signal(sig)
    out, err = process.communicate(timeout=60)
    return process.returncode, out + err


def test_a_restarted_dispatcher_adopts_its_pilots_without_doubling_them(
    dispatchers: Dispatchers, kind: str, db_url: str, tmp_path: Path
) -> None:
    backend = backend_of(db_url, tmp_path, kind)
    first = dispatchers.start(kind, "--pilots", "2")
    wait_for(lambda: len(live_ids(backend)) == 2, process=first)
    pilots = live_ids(backend)
    stop(first, signal.SIGKILL)
    again = dispatchers.start(kind, "--pilots", "2")
    time.sleep(2.5)  # five passes
    code, output = stop(again)
    assert code == 0
    assert live_ids(backend) == pilots
    assert "live 2" in output and "submitted" not in output


def test_cancel_on_exit_leaves_no_pilot_behind(
    dispatchers: Dispatchers, kind: str, db_url: str, tmp_path: Path, app: Brownthrower
) -> None:
    backend = backend_of(db_url, tmp_path, kind)
    process = dispatchers.start(kind, "--pilots", "2", "--cancel-on-exit")
    wait_for(lambda: len(app.runners.list()) == 2, process=process)
    code, output = stop(process)
    assert code == 0, output
    assert all(p.final for p in backend.status())
    assert app.runners.list() == []


def test_once_does_one_pass_prints_the_boxes_and_exits(
    dispatchers: Dispatchers, db_url: str, tmp_path: Path
) -> None:
    command = [PROGRAM, "--once", *argv(tmp_path, "local", "--pilots", "1")]
    done = subprocess.run(
        command, env={**os.environ, "BT_DATABASE_URL": db_url}, capture_output=True, text=True,
        check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "BT status" in done.stdout and "batch status" in done.stdout
    assert "RUNNING              1" in done.stdout
    assert len(live_ids(backend_of(db_url, tmp_path, "local"))) == 1


def test_the_live_screen_shows_jobs_beside_pilots_and_stops_on_ctrl_c(
    dispatchers: Dispatchers, db_url: str, tmp_path: Path
) -> None:
    command = [*argv(tmp_path, "local", "--pilots", "1", "--cancel-on-exit"), "--interval", "0.5"]
    screen = pexpect.spawn(
        PROGRAM, command, env={**os.environ, "BT_DATABASE_URL": db_url}, encoding="utf-8",
        dimensions=(40, 120), timeout=30,
    )  # fmt: skip
    screen.expect("Brownthrower dispatcher static")
    screen.expect(r"RUNNABLE\s+0")
    screen.expect(r"RUNNING\s+1")
    screen.sendintr()
    screen.expect("pilots cancelled")
    screen.expect(pexpect.EOF)
    screen.close()
    assert screen.exitstatus == 0
    assert live_ids(backend_of(db_url, tmp_path, "local")) == set()


def test_a_database_url_in_the_runner_arguments_is_refused(tmp_path: Path) -> None:
    command = [PROGRAM, "--once", *argv(tmp_path, "local"), "--runner-args=-u sqlite:///x.db"]
    env = {**os.environ, "BT_DATABASE_URL": f"sqlite:///{tmp_path}/bt.db"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "must not carry the database URL" in done.stderr
    assert list(tmp_path.iterdir()) == []  # no database, no state directory
