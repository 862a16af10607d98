"""`task list|show`: the task plugins installed here (broken ones listed with their error)."""

from __future__ import annotations

import argparse

import cmd2
from rich.console import Group
from rich.table import Table
from rich.text import Text

from bt import Task, TaskEntry
from shell import render
from shell.commands.args import new_parser
from shell.commands.base import ShellCommands
from shell.complete import Completers

task_parser = new_parser("The task plugins installed in this environment.")
task_parser.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)
task_list_parser = new_parser(
    "List installed tasks: name, distribution and summary; broken plugins with their error."
)
task_show_parser = new_parser(
    "Show a task's documentation, its config and input samples, and the failure handling its "
    "jobs take unless `job create` overrides it."
)
task_show_parser.add_argument("name", help="the task", choices_provider=Completers.task_choices)


def task_table(entries: list[TaskEntry]) -> Table:
    """`task list`: one row per registered task."""
    table = render.plain_table("name", "distribution", "summary")
    for entry in entries:
        if entry.task is not None:
            table.add_row(entry.name, entry.distribution, entry.task.summary())
        else:
            error = Text(f"cannot be loaded: {entry.error}", style="red")
            table.add_row(entry.name, entry.distribution, error)
    return table


def task_help(entry: TaskEntry) -> Group:
    """`task show`: the docstring, then the samples."""
    task = entry.task
    assert task is not None
    parts = [render.title(f"### TASK {entry.name} ({entry.distribution}):"), Text(task.help())]
    for heading, sample in (("CONFIG", task.config_sample), ("INPUT", task.input_sample)):
        body = sample.rstrip("\n") if sample else "(none)"
        parts += [Text(""), render.title(f"### {heading} SAMPLE:"), Text(body)]
    parts += [Text(""), render.title("### FAILURE HANDLING (its jobs' defaults):")]
    parts += render.field_lines(failure_handling(task))
    if task.limits:
        held = " ".join(f"{name}:{units}" for name, units in sorted(task.limits.items()))
        parts += [Text(""), render.title("### LIMITS (units its jobs hold while they run):")]
        parts += [Text(held)]
    return Group(*parts)


def failure_handling(task: type[Task]) -> list[tuple[str, str]]:
    """The retries, time limit and lost-runner rule a task gives its jobs, worded as in
    `job show`."""
    fields = [("retries", str(task.retries) if task.retries else "none")]
    if task.retries:
        delay = render.duration(task.retry_delay)
        fields.append(("retry delay", f"{delay}, then x{task.retry_backoff:g} per retry"))
    fields.append(("time limit", render.duration(task.time_limit) or "none"))
    lost = f"requeued while attempts < {task.max_attempts}, else FAILED"
    return [*fields, ("if runner lost", lost)]


class TaskCommands(ShellCommands):
    """The `task` command."""

    DEFAULT_CATEGORY = "Tasks"

    @cmd2.with_argparser(task_parser)
    def do_task(self, args: argparse.Namespace) -> None:
        """The task plugins installed in this environment."""
        args.cmd2_subcommand_func(args)

    @cmd2.as_subcommand_to("task", "list", task_list_parser, help="list installed tasks")
    def task_list(self, _args: argparse.Namespace) -> None:
        entries = self._cmd.registry.entries()
        self.result([entry.name for entry in entries])
        if not entries:
            self._cmd.warn("There are no tasks registered in this environment.")
            return
        self.show(task_table(entries))

    @cmd2.as_subcommand_to("task", "show", task_show_parser, help="show a task's help")
    def task_show(self, args: argparse.Namespace) -> None:
        self._cmd.registry.get(args.name)
        entry = self._cmd.registry.entry(args.name)
        self.result(entry.name)
        self.show(task_help(entry))
