from __future__ import annotations

import subprocess
import sys
from importlib.metadata import EntryPoint

import pytest

from bt import errors
from bt.registry import GROUP, TaskRegistry


def registry(**targets: str) -> TaskRegistry:
    return TaskRegistry([EntryPoint(name, value, GROUP) for name, value in targets.items()])


def test_names_are_known_without_importing_the_plugin() -> None:
    reg = registry(ghost="no_such_module_anywhere:Task")
    assert reg.names() == ["ghost"]


def test_a_plugin_that_fails_to_import_is_recorded_with_its_error() -> None:
    reg = registry(ghost="no_such_module_anywhere:Task")
    assert "No module named 'no_such_module_anywhere'" in (reg.entry("ghost").error or "")


def test_getting_a_broken_plugin_raises_a_clear_error() -> None:
    with pytest.raises(errors.PluginLoadError, match="Task 'ghost' cannot be loaded"):
        registry(ghost="no_such_module_anywhere:Task").get("ghost")


def test_an_unknown_task_is_not_found() -> None:
    with pytest.raises(errors.TaskNotFound, match="'nosuch' is not available"):
        registry().get("nosuch")


def test_a_plugin_that_is_not_a_task_class_is_refused() -> None:
    assert "not a subclass of bt.Task" in (registry(x="os:getcwd").entry("x").error or "")


def test_duplicate_names_from_two_distributions_are_reported() -> None:
    points = [
        EntryPoint("twin", "bt_test_tasks:Noop", GROUP),
        EntryPoint("twin", "bt_test_tasks:Echo", GROUP),
    ]
    assert "duplicate task name 'twin'" in (TaskRegistry(points).entry("twin").error or "")


def test_matching_takes_globs_and_skips_broken_plugins() -> None:
    reg = registry(noop="bt_test_tasks:Noop", ghost="nowhere:X", echo="bt_test_tasks:Echo")
    assert reg.matching(["*o*"]) == ["echo", "noop"]


def test_an_installed_distribution_registers_its_tasks() -> None:
    assert {"sum4", "add2", "noop"} <= set(TaskRegistry().available())


def test_a_task_summary_is_the_first_docstring_line() -> None:
    assert TaskRegistry().get("add2").summary() == "Add two numbers."


def test_importing_bt_loads_no_terminal_library() -> None:
    code = "import bt, sys; print(sorted({'cmd2','rich','prompt_toolkit'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
