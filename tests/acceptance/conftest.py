"""Acceptance tests of the installed `brownthrower` program: in a real terminal (pexpect) and
with piped scripts. Each test gets its own database (SQLite, then PostgreSQL) and its own XDG
directories, so no history or config of the machine leaks in.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pexpect
import pytest

from bt import Brownthrower
from bt.db import Database

PROGRAM = Path(sys.executable).with_name("brownthrower")
PROMPT = r"\(brownthrower\):"  # prompt_toolkit draws the trailing space as a cursor move
STARTUP_TIMEOUT = 60  #: seconds to the first prompt on a busy machine
FAKE_EDITOR = Path(__file__).parents[1] / "shell" / "fake_editor.py"


def program_env(db_url: str, tmp_path: Path) -> dict[str, str]:
    """The program's environment: a database, private XDG dirs, a real-ish terminal."""
    if not PROGRAM.exists():
        pytest.skip(f"{PROGRAM} is not installed (scripts/bootstrap)")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("BT_", "XDG_"))}
    return {
        **base,
        "BT_DATABASE_URL": db_url,
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "TERM": "xterm-256color",
        "PROMPT_TOOLKIT_NO_CPR": "1",
        "COLUMNS": "160",
    }


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> dict[str, str]:
    """For tests that use the database: SQLite, then PostgreSQL."""
    return program_env(db_url, tmp_path)


@pytest.fixture
def plain_env(tmp_path: Path) -> dict[str, str]:
    """For tests of the shell alone (nothing reaches the database): SQLite only."""
    return program_env(f"sqlite:///{tmp_path / 'bt.db'}", tmp_path)


@pytest.fixture
def client(db_url: str) -> Iterator[Brownthrower]:
    """The core library on the same database, to arrange and check."""
    app = Brownthrower(Database(db_url))
    yield app
    app.close()


def spawn(env: dict[str, str]) -> pexpect.spawn:
    """`brownthrower` in a pseudo-terminal, at its first prompt."""
    child = pexpect.spawn(str(PROGRAM), env=env, encoding="utf-8", dimensions=(40, 160), timeout=15)
    child.expect(PROMPT, timeout=STARTUP_TIMEOUT)
    return child


@pytest.fixture
def terminal(env: dict[str, str]) -> Iterator[pexpect.spawn]:
    """The shell at a terminal, on the test database."""
    child = spawn(env)
    yield child
    child.terminate(force=True)


@pytest.fixture
def plain_terminal(plain_env: dict[str, str]) -> Iterator[pexpect.spawn]:
    """The shell at a terminal, for what needs no database."""
    child = spawn(plain_env)
    yield child
    child.terminate(force=True)


def piped(
    env: dict[str, str], script: str, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`brownthrower ARGS` with `script` on its standard input."""
    return subprocess.run(
        [str(PROGRAM), *args],
        input=script,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )


@dataclass(frozen=True)
class Timed:
    """A piped run, with its wall time and the peak memory of the program."""

    returncode: int
    stderr: str
    seconds: float
    max_rss_mb: float


#: runs the program as the only child of a fresh interpreter, so its peak memory is its own
_MEASURE = (
    "import resource, subprocess, sys, time\n"
    "start = time.monotonic()\n"
    "done = subprocess.run(sys.argv[1:], stdin=sys.stdin, stdout=subprocess.DEVNULL,\n"
    "                      stderr=subprocess.PIPE, text=True)\n"
    "seconds = time.monotonic() - start\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
    "sys.stdout.write(f'{done.returncode} {seconds} {peak}\\n' + done.stderr)\n"
)


def timed(env: dict[str, str], script: str, *args: str) -> Timed:
    """`piped`, measuring the program's wall time and peak resident memory (MB)."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(PROGRAM), *args],
        input=script,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    figures, _, stderr = done.stdout.partition("\n")
    code, seconds, peak = figures.split()
    return Timed(int(code), stderr, float(seconds), float(peak))
