"""The README's main command, `scripts/demo`, on an already bootstrapped checkout."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One run of `scripts/demo` into a pipe, under a TERM that claims colours (its directory
    and its result), shared by the tests below."""
    if not (ROOT / ".venv" / "bin" / "bt-runner").exists():
        pytest.skip("not bootstrapped")
    where = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BT_", "XDG_"))}
    env |= {"DEMO_NO_BOOTSTRAP": "1", "DEMO_DIR": str(where), "TERM": "xterm-256color"}
    done = subprocess.run(
        [str(ROOT / "scripts" / "demo")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return where, done


@pytest.mark.slow
def test_the_demo_runs_the_pipeline_and_exits_zero(
    demo: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    where, done = demo
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "1 sum4 DONE  [3 subjobs: DONE 3]" in done.stdout
    assert "- 42.0\n- 10" in done.stdout and "Job 6 is FAILED." in done.stdout
    assert (where / "data" / "brownthrower" / "brownthrower.db").exists()


@pytest.mark.slow
def test_the_demo_into_a_pipe_prints_no_terminal_codes(
    demo: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    _, done = demo
    assert done.returncode == 0 and "== 1." in done.stdout and "\x1b" not in done.stdout
