from __future__ import annotations

import pytest

from bt import Brownthrower
from bt.client import Brownthrower as Client
from bt.db import Database
from shell.app import build_shell
from shell.core import Shell
from tests.factories import job


def complete(shell: Shell, line: str) -> list[str]:
    text = line.rsplit(" ", maxsplit=1)[-1]
    result = shell.complete(text, line, len(line) - len(text), len(line))
    return [item.text for item in result.items]


@pytest.fixture
def shell(app: Brownthrower) -> Shell:
    return build_shell(None, client=app, auto_suggest=False)


@pytest.fixture
def offline_shell() -> Shell:
    return build_shell(None, auto_suggest=False)


def test_command_names(offline_shell: Shell) -> None:
    assert complete(offline_shell, "jo") == ["job"]


def test_subcommands(offline_shell: Shell) -> None:
    assert complete(offline_shell, "job sub") == ["submit"]


def test_task_names(offline_shell: Shell) -> None:
    assert complete(offline_shell, "job create su") == ["sum4"]


def test_task_names_for_task_show(offline_shell: Shell) -> None:
    assert complete(offline_shell, "task show pi") == ["picky", "pipe"]


def test_edit_targets(offline_shell: Shell) -> None:
    assert complete(offline_shell, "job edit ") == ["config", "description", "input"]


def test_filter_fields_are_not_finished_with_a_space(offline_shell: Shell) -> None:
    assert complete(offline_shell, "job list sta") == ["started=", "status="]


def test_filter_statuses(offline_shell: Shell) -> None:
    assert complete(offline_shell, "job list status=ST") == ["status=STAND-BY", "status=STASHED"]


def test_filter_task_names(offline_shell: Shell) -> None:
    assert complete(offline_shell, "job list name=su") == ["name=sum4"]


def test_wait_expect_statuses(offline_shell: Shell) -> None:
    assert complete(offline_shell, "job wait 1 --expect F") == ["FAILED"]


def test_job_ids_newest_first_with_status_and_name(shell: Shell, app: Brownthrower) -> None:
    ids = [job(app, "noop") for _ in range(3)]
    line = "job show "
    result = shell.complete("", line, len(line), len(line))
    assert [i.text for i in result.items] == [str(i) for i in reversed(ids)]
    assert result.items[0].display_meta == "STASHED noop"


def test_job_ids_by_prefix(shell: Shell, app: Brownthrower) -> None:
    for _ in range(12):
        job(app, "noop")
    assert complete(shell, "job submit 5 1") == ["12", "11", "10", "1"]


def test_job_ids_for_the_second_link_argument(shell: Shell, app: Brownthrower) -> None:
    for _ in range(3):
        job(app, "noop")
    assert complete(shell, "job link 1 3") == ["3"]


def test_completion_fails_soft_when_the_database_is_gone(tmp_path) -> None:
    broken = Client(Database(f"sqlite:///{tmp_path}/missing/dir/../../nothing.db"))
    shell = build_shell(None, client=broken, auto_suggest=False)
    line = "job show "
    result = shell.complete("", line, len(line), len(line))
    assert result.items == () and "cannot complete" in result.error


def test_filter_statuses_offer_the_parts_of_queued(offline_shell: Shell) -> None:
    assert complete(offline_shell, "job list status=W") == ["status=WAITING"]
    assert complete(offline_shell, "job list status=L") == ["status=LIMITED"]
