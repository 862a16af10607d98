"""The fork server's task table: classes from the runner's resolved targets, no discovery."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bt.errors import TaskNotFound
from bt.runner.tasktable import TaskTable, decode, encode


def test_a_target_is_imported_and_named() -> None:
    table = TaskTable({"renamed": "bt_test_tasks.runner:Progress"})
    assert table.get("renamed").name == "renamed"


def test_a_name_the_server_was_not_given_is_not_found() -> None:
    with pytest.raises(TaskNotFound):
        TaskTable({}).get("noop")


def test_a_target_that_is_not_a_task_is_refused() -> None:
    with pytest.raises(TypeError, match="not a subclass"):
        TaskTable({"x": "bt.errors:TaskNotFound"})


def test_targets_survive_the_command_line() -> None:
    targets = {"noop": "bt_examples.basic:Noop", "a": "m.n:C.D"}
    assert decode(encode(targets)) == targets


def test_the_fork_server_imports_no_entry_point_discovery() -> None:
    code = (
        "import sys, bt.runner.forkserver, bt.runner.jobprocess, bt.runner.tasktable;"
        "print('importlib.metadata' in sys.modules)"
    )
    command = [sys.executable, "-P", "-c", code]
    out = subprocess.run(command, check=False, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
