"""TAB completion of job ids: every candidate's status and task, in a table above the prompt."""

from __future__ import annotations

import io

import pytest
from cmd2.rich_utils import Cmd2GeneralConsole

from bt import Brownthrower
from shell.app import build_shell
from shell.core import Shell
from tests.factories import job


@pytest.fixture
def shell(app: Brownthrower) -> Shell:
    return build_shell(None, client=app, auto_suggest=False)


def test_every_offered_id_shows_its_status_and_task(shell: Shell, app: Brownthrower) -> None:
    first, second = job(app, "noop"), job(app, "add2", submit=True)
    line = "job submit "
    table = shell.complete("", line, len(line), len(line)).table
    assert table is not None
    shown = io.StringIO()
    Cmd2GeneralConsole(file=shown).print(table)
    rows = [row.split() for row in shown.getvalue().splitlines()]
    assert [str(second), "QUEUED", "add2"] in rows and [str(first), "STASHED", "noop"] in rows
