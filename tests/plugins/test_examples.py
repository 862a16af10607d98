"""The example tasks, called the way the runner calls them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bt.registry import TaskRegistry
from bt.task import JobOutput, TaskContext


def context(task: str, *, config: Any = None, input: Any = None, **extra: Any) -> TaskContext:
    return TaskContext(job_id=1, task=task, config=config, input=input, **extra)


def task(name: str) -> Any:
    return TaskRegistry().get(name)()


def test_add2_adds_its_input() -> None:
    assert task("add2").run(context("add2", input=[12, 30])) == 42


def test_add2_adds_its_parents_outputs_without_input() -> None:
    parents = [JobOutput(1, "random", 0.5), JobOutput(2, "random", 1.5)]
    assert task("add2").run(context("add2", parents=parents)) == 2.0


def test_add2_refuses_an_input_that_is_not_two_numbers() -> None:
    with pytest.raises(ValueError, match="list of 2 numbers"):
        task("add2").validate(None, [1, 2, 3])


def test_sum4_prolog_declares_three_linked_add2_subjobs() -> None:
    ctx = context("sum4", input=[5, 10, 12, 15])
    task("sum4").prolog(ctx)
    assert [(j.task, j.input) for j in ctx.declared.subjobs] == [
        ("add2", [5, 10]),
        ("add2", [12, 15]),
        ("add2", None),
    ]
    assert ctx.declared.links == [(0, 2), (1, 2)]


def test_sum4_epilog_returns_the_last_subjobs_output() -> None:
    subjobs = [JobOutput(4, "add2", 15), JobOutput(5, "add2", 27), JobOutput(6, "add2", 42)]
    assert task("sum4").epilog(context("sum4", subjobs=subjobs)) == 42.0


def test_pipe_returns_its_input() -> None:
    assert task("pipe").run(context("pipe", input={"a": 1})) == {"a": 1}


def test_random_is_reproducible_with_a_seed() -> None:
    first = task("random").run(context("random", config={"seed": 7}))
    assert first == task("random").run(context("random", config={"seed": 7}))


def test_fail_raises_with_its_input() -> None:
    with pytest.raises(RuntimeError, match="on purpose"):
        task("fail").run(context("fail", input="on purpose"))


def test_command_returns_the_programs_output(tmp_path: Path) -> None:
    ctx = context("command", config={"argv": "echo hello"}, work_dir=tmp_path)
    assert task("command").run(ctx)["stdout"] == "hello\n"


def test_command_fails_on_a_non_zero_exit(tmp_path: Path) -> None:
    ctx = context("command", config={"argv": ["sh", "-c", "exit 3"]}, work_dir=tmp_path)
    with pytest.raises(RuntimeError, match="exited with status 3"):
        task("command").run(ctx)


def test_command_needs_argv() -> None:
    with pytest.raises(ValueError, match="needs `argv`"):
        task("command").validate({}, None)


def test_every_example_has_help() -> None:
    names = ["random", "add2", "sum4", "pipe", "sleep", "fail", "command"]
    assert all(TaskRegistry().get(name).summary() for name in names)
