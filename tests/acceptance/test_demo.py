"""The README's main command, `scripts/demo`, on an already bootstrapped checkout."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.mark.slow
def test_the_demo_runs_the_pipeline_and_exits_zero(tmp_path: Path) -> None:
    if not (ROOT / ".venv" / "bin" / "bt-runner").exists():
        pytest.skip("not bootstrapped")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BT_", "XDG_"))}
    env |= {"DEMO_NO_BOOTSTRAP": "1", "DEMO_DIR": str(tmp_path)}
    done = subprocess.run(
        [str(ROOT / "scripts" / "demo")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "1 sum4 DONE  [3 subjobs: DONE 3]" in done.stdout
    assert "- 42.0\n- 10" in done.stdout and "Job 6 is FAILED." in done.stdout
    assert (tmp_path / "data" / "brownthrower" / "brownthrower.db").exists()


@pytest.mark.slow
def test_the_demo_into_a_pipe_prints_no_terminal_codes(tmp_path: Path) -> None:
    if not (ROOT / ".venv" / "bin" / "bt-runner").exists():
        pytest.skip("not bootstrapped")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BT_", "XDG_"))}
    env |= {"DEMO_NO_BOOTSTRAP": "1", "DEMO_DIR": str(tmp_path), "TERM": "xterm-256color"}
    done = subprocess.run(
        [str(ROOT / "scripts" / "demo")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and "== 1." in done.stdout and "\x1b" not in done.stdout
