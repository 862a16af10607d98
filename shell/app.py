"""`brownthrower`: the interactive shell, and the same commands from argv, files or a pipe.

    brownthrower                      # the (brownthrower): prompt
    brownthrower "job list" "status"  # run commands, then exit
    brownthrower < batch.bt           # a batch file: no prompts, exit status 1 if any failed
    brownthrower @batch.bt            # the same, from a file
    brownthrower web                  # the read-only web dashboard (`web.cli`)

Exit statuses are those of every brownthrower program (`bt.cli.common.EXIT_CODES`): a failing
command in a script makes it 1; a database that cannot be opened ends a script at once, with one
error line and 3, like `bt-runner` and `bt-dispatcher`. Command sets are registered in one place,
`command_sets()`.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cmd2
import platformdirs

from bt import Brownthrower, TaskRegistry, __version__, errors
from bt.cli.common import add_common_arguments, run_main, settings_from, setup_logging
from bt.config import APP_NAME, Settings
from shell.commands.db import DbCommands
from shell.commands.dispatcher import DispatcherCommands
from shell.commands.job import JobCommands
from shell.commands.job_control import JobControlCommands
from shell.commands.job_create import JobCreateCommands
from shell.commands.job_edit import JobEditCommands
from shell.commands.job_graph import JobGraphCommands
from shell.commands.job_history import JobHistoryCommands
from shell.commands.job_live import JobLiveCommands
from shell.commands.job_output import JobOutputCommands
from shell.commands.job_stats import JobStatsCommands
from shell.commands.job_tag import JobTagCommands
from shell.commands.limit import LimitCommands
from shell.commands.runner import RunnerCommands
from shell.commands.status import StatusCommands
from shell.commands.task import TaskCommands
from shell.core import Shell

PROGRAM = "brownthrower"


def command_sets() -> list[cmd2.CommandSet[Any]]:
    """Every command set of the shell. `JobCommands` first: the others add `job` subcommands."""
    return [
        JobCommands(),
        JobTagCommands(),
        JobCreateCommands(),
        JobControlCommands(),
        JobOutputCommands(),
        JobHistoryCommands(),
        JobStatsCommands(),
        JobGraphCommands(),
        JobEditCommands(),
        JobLiveCommands(),
        TaskCommands(),
        RunnerCommands(),
        LimitCommands(),
        DispatcherCommands(),
        StatusCommands(),
        DbCommands(),
    ]


def build_shell(settings: Settings | None, **options: Any) -> Shell:
    """A shell with every command set registered."""
    return Shell(settings, command_sets=command_sets(), **options)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description="The brownthrower shell: create, inspect and control jobs. With COMMANDs, "
        "runs them and exits; otherwise reads commands from the terminal or from stdin.",
    )
    add_common_arguments(parser)
    parser.add_argument(
        "--stop-on-error",
        "-e",
        action="store_true",
        help="in scripts and piped input, stop at the first failing command",
    )
    parser.add_argument(
        "--interactive",
        "-i",
        action="store_true",
        help="after running COMMANDs, stay at the prompt",
    )
    parser.add_argument("commands", nargs="*", metavar="COMMAND", help="commands to run")
    return parser


def history_file() -> str:
    """Where the command history persists between sessions."""
    state = Path(platformdirs.user_state_dir(APP_NAME))
    state.mkdir(parents=True, exist_ok=True)
    return str(state / "history")


class _ScriptEnds(BaseException):
    """Carries an error that ends a script past the error guards of the shell and of cmd2
    (which catch `Exception`), to `run_main`."""

    def __init__(self, error: errors.BrownthrowerError) -> None:
        super().__init__(error)
        self.error = error


def _open_or_end(settings: Settings, registry: TaskRegistry) -> Brownthrower:
    """The core library; in a script, a database that cannot be opened ends the run, as every
    later command would fail the same way."""
    try:
        return Brownthrower.open(settings=settings, registry=registry)
    except errors.BrownthrowerError as exc:
        raise _ScriptEnds(exc) from exc


def run(args: argparse.Namespace) -> int:
    """Run the shell as the options say; the exit status."""
    interactive = sys.stdin.isatty() and (args.interactive or not args.commands)
    shell = build_shell(
        settings_from(args),
        history_file=history_file() if interactive else "",
        scripted=not interactive,
        open_client=None if interactive else _open_or_end,
    )
    shell.stop_on_error = args.stop_on_error
    try:
        if args.commands and not args.interactive:
            shell.runcmds_plus_hooks(args.commands, add_to_history=False)
            return shell.exit_code
        if shell.runcmds_plus_hooks(args.commands):
            return shell.exit_code
        return shell.cmdloop()
    except _ScriptEnds as end:
        raise end.error from None
    finally:
        shell.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `brownthrower`.

    What the imports built lives as long as the program, so it is frozen out of the garbage
    collector's walks (`gc.freeze`), and so is everything else once the session is over: the
    collections at exit then have next to nothing to look at. For `brownthrower status`
    that is about a fifth of its CPU time.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["web"]:  # the web dashboard, a program of its own: no shell is built
        from web.cli import main as web_main

        return web_main(argv[1:])
    gc.freeze()
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    try:
        return run_main(PROGRAM, lambda: run(args))
    finally:
        gc.freeze()


__all__ = ["PROGRAM", "__version__", "build_shell", "command_sets", "main"]
