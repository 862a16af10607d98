"""The shell's `dispatcher status` finds a dispatcher started with `--state-dir`, or says why
it may have found none."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bt import Brownthrower
from shell.app import build_shell
from tests.dispatch.helpers import Dispatchers, wait_for


@pytest.fixture(autouse=True)
def own_state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default state directory (where pointers go) is private to the test."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


def status(app: Brownthrower, options: str) -> str:
    shell = build_shell(None, client=app, scripted=True, auto_suggest=False)
    shell.stdout = io.StringIO()
    shell.onecmd_plus_hooks(f"dispatcher status {options}")
    return shell.stdout.getvalue()


def batch_rows(shown: str) -> list[list[str]]:
    return [line.split("│")[3].split() for line in shown.splitlines() if line.count("│") == 4]


def test_status_finds_the_pilots_of_a_dispatcher_started_with_state_dir(
    dispatchers: Dispatchers, app: Brownthrower
) -> None:
    dispatchers.start("local", "--pilots", "1")  # with --state-dir, see helpers.argv
    wait_for(lambda: ["RUNNING", "1"] in batch_rows(status(app, "--name t")), timeout=60)


def test_status_without_pilots_says_which_options_must_match(app: Brownthrower) -> None:
    shown = " ".join(status(app, "--name nobody").split())
    assert "No pilot of dispatcher nobody-" in shown and "--state-dir" in shown
