"""In-process shell tests: run one command line, look at what it returned and printed.

No terminal is involved: stdout and stderr are strings, colours are off (not a terminal) and
tables are as wide as they need to be.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import redirect_stderr
from dataclasses import dataclass
from typing import Any

import pytest

from bt import Brownthrower
from shell.app import build_shell
from shell.core import Shell


@dataclass(frozen=True)
class Run:
    """What one command did."""

    out: str
    err: str
    data: Any  #: the command's `last_result`
    failed: bool


class Driver:
    """Runs command lines in one shell."""

    def __init__(self, shell: Shell) -> None:
        self.shell = shell

    def __call__(self, line: str, answers: str = "") -> Run:
        out, err = io.StringIO(), io.StringIO()
        self.shell.stdout, self.shell.stdin = out, io.StringIO(answers)
        self.shell.prompting = True if answers else None
        before = self.shell.failures
        with redirect_stderr(err):
            self.shell.onecmd_plus_hooks(line)
        failed = self.shell.failures > before
        return Run(out.getvalue(), err.getvalue(), self.shell.last_result, failed)


@pytest.fixture
def run(app: Brownthrower) -> Iterator[Driver]:
    """A shell on the test database (SQLite, then PostgreSQL)."""
    shell = build_shell(None, client=app, scripted=True, auto_suggest=False)
    yield Driver(shell)


@pytest.fixture
def offline() -> Driver:
    """A shell with no database (commands that do not need one)."""
    return Driver(build_shell(None, scripted=True, auto_suggest=False))
