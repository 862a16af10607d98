"""Small items: unlink wording, the wait bar, a refused edit's text offered back, bootstrap."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from bt import Brownthrower
from shell.commands.job_output import _ProgressBar
from tests.factories import job, run_next, runner
from tests.shell.conftest import Driver

FAKE_EDITOR = Path(__file__).with_name("fake_editor.py")
BOOTSTRAP = Path(__file__).parents[2] / "scripts" / "bootstrap"


def test_unlink_of_a_done_child_says_unlinked(run: Driver, app: Brownthrower) -> None:
    parent, child = job(app), job(app)
    app.jobs.link(parent, child)
    app.jobs.submit(parent)
    app.jobs.submit(child)
    who = runner(app)
    run_next(app, who)
    run_next(app, who)
    result = run(f"job unlink {parent} {child}")
    assert result.err.startswith(f"ERROR: Job {child} cannot be unlinked while DONE")


def test_the_wait_bar_shows_the_count_once() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    bar = _ProgressBar(console)
    bar._update([], 3, 10)
    assert bar._progress is not None
    assert "3/10" not in bar._progress.tasks[0].description


def test_after_refresh_the_users_text_is_offered_back(
    run: Driver, app: Brownthrower, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = job(app, "add2", input="[1, 2]\n")
    change = [sys.executable, "-c", _CHANGE.format(url=app.url, job=job_id)]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps([{"run": change, "body": "[5, 6]\n"}, {"keep": True}]))
    monkeypatch.setenv("EDITOR", f"{sys.executable} {FAKE_EDITOR}")
    monkeypatch.setenv("FAKE_EDITOR_PLAN", str(plan))
    result = run(f"job edit input {job_id}", answers="r\n")
    second = (tmp_path / "plan.json.seen.1").read_text()
    kept = Path(result.err.split("kept in ")[1].split(" and")[0])
    assert "#     [5, 6]" in second and kept.read_text() == "[5, 6]\n"
    kept.unlink()


_CHANGE = (
    "from bt import Brownthrower\n"
    "app = Brownthrower.open({url!r})\n"
    "app.jobs.edit({job}, 'input', '[3, 4]\\n', expected='[1, 2]\\n')\n"
)


def test_bootstrap_installs_python3_venv_when_venv_cannot_work(tmp_path: Path) -> None:
    repo, bin_dir = tmp_path / "repo", tmp_path / "bin"
    (repo / "scripts").mkdir(parents=True)
    bin_dir.mkdir()
    shutil.copy(BOOTSTRAP, repo / "scripts" / "bootstrap")
    log = tmp_path / "apt.log"
    _script(bin_dir / "apt-get", f'echo "$@" >> {log}')
    _script(bin_dir / "id", "echo 0")
    _script(bin_dir / "python3", "exit 1")  # a bare Debian python3: no venv
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "PYTHON": str(bin_dir / "python3")}
    subprocess.run(
        ["bash", str(repo / "scripts" / "bootstrap")], env=env, capture_output=True, check=False
    )
    assert "python3-venv" in log.read_text()


def _script(path: Path, body: str) -> None:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
