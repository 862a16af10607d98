"""What the shell imports before its first prompt: none of what only some commands need.

Each check runs a fresh interpreter (this one has imported everything already) that builds the
shell as `brownthrower` does, and lists the heavy packages it ended up with. The time saved is
measured by bench/startup.py, not here.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: builds the shell (every command set registered) and prints the modules then imported
_STARTED = """
import json, sys
from bt.cli.common import settings_from
from shell.app import build_parser, build_shell
args = build_parser().parse_args(["-u", sys.argv[1]])
shell = build_shell(settings_from(args), scripted=False)
print(json.dumps(sorted(sys.modules)))
"""


@pytest.fixture(scope="module")
def started() -> set[str]:
    """The modules of a shell ready for its prompt, on a SQLite URL."""
    url = "sqlite:////nonexistent/bt.db"  # nothing reaches the database before a command
    done = subprocess.run(
        [sys.executable, "-c", _STARTED, url], capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stdout))


def imported(modules: set[str], package: str) -> list[str]:
    return sorted(m for m in modules if m == package or m.startswith(f"{package}."))


def test_the_shell_starts_without_sqlalchemy(started: set[str]) -> None:
    assert imported(started, "sqlalchemy") == []


def test_the_shell_starts_without_alembic(started: set[str]) -> None:
    assert imported(started, "alembic") == []


def test_the_shell_starts_without_a_database_driver(started: set[str]) -> None:
    assert imported(started, "psycopg") + imported(started, "sqlite3") == []


def test_the_shell_starts_without_the_yaml_library(started: set[str]) -> None:
    assert imported(started, "ruamel") == []


def test_the_shell_starts_without_the_core_services(started: set[str]) -> None:
    assert [m for m in ("bt.services", "bt.db", "bt.models", "bt.filters") if m in started] == []


def test_the_shell_starts_without_progress_bars(started: set[str]) -> None:
    assert imported(started, "rich.progress") == []
