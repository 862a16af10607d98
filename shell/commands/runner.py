"""`runner start|list|stop`: runner daemons on this machine and on the farm.

`runner start` launches a detached `bt-runner --loop` against the shell's database. The URL goes
through the environment (`BT_DATABASE_URL`), never the command line, where any user could read it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cmd2
import platformdirs
from rich.table import Table

from bt.config import APP_NAME, URL_VARIABLE
from bt.values import LiveRunner
from shell import render
from shell.commands.args import add_json, integer, new_parser, number
from shell.commands.base import ShellCommands
from shell.core import CommandError

START_TIMEOUT = 10.0  #: seconds a new runner has to register itself
RUNNER_PROGRAM = "bt-runner"
TASKS_WIDTH = 40  #: characters of a runner's task list shown by `runner list`

runner_parser = new_parser("Runner daemons: start one here, list live ones, stop one.")
runner_parser.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)
start_parser = new_parser(
    "Start a detached bt-runner --loop on this machine, against this shell's database."
)
start_parser.add_argument(
    "--slots", "-s", type=integer(1, 1000), default=1, metavar="N", help="jobs at once"
)
start_parser.add_argument("--tasks", "-t", nargs="+", metavar="PATTERN", help="task globs")
start_parser.add_argument(
    "--log-dir", type=Path, metavar="DIR", help="job logs and the runner's own output"
)
start_parser.add_argument("--work-dir", type=Path, metavar="DIR", help="where jobs run")
start_parser.add_argument(
    "--lease",
    type=number(0.0, 86400.0, above=True),
    metavar="SECONDS",
    help="lease of its jobs (heartbeat every quarter)",
)
list_parser = new_parser("List live runners: host, pid, slots, current jobs, last heartbeat.")
add_json(list_parser)
stop_parser = new_parser("Ask a runner to stop claiming and exit once its running jobs end.")
stop_parser.add_argument(
    "runner_id", type=integer(1), metavar="ID", help="the runner (runner list)"
)


def runner_program() -> str:
    """The `bt-runner` installed beside this Python (a virtualenv), else on PATH."""
    beside = Path(sys.executable).with_name(RUNNER_PROGRAM)
    found = str(beside) if beside.exists() else shutil.which(RUNNER_PROGRAM)
    if found is None:
        raise CommandError(f"Cannot find the {RUNNER_PROGRAM} program; is brownthrower installed?")
    return found


def runner_argv(args: argparse.Namespace, log_dir: Path, work_dir: Path) -> list[str]:
    """The command line of a started runner (never with the database URL)."""
    argv = [runner_program(), "--loop", "--slots", str(args.slots)]
    argv += ["--log-dir", str(log_dir), "--work-dir", str(work_dir)]
    if args.tasks:
        argv += ["--tasks", *args.tasks]
    if args.lease is not None:
        argv += ["--lease", str(args.lease)]
    return argv


def launch(argv: list[str], url: str, log_file: Path) -> int:
    """Start `argv` detached (own session, adopted by init, output to `log_file`); its pid.

    The database URL travels in the environment of the new process only.
    """
    script = '"$@" </dev/null >>"$BT_RUNNER_LOG" 2>&1 & echo $!'
    env = {**os.environ, URL_VARIABLE: url, "BT_RUNNER_LOG": str(log_file)}
    try:
        done = subprocess.run(
            ["/bin/sh", "-c", script, "bt-runner", *argv],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            start_new_session=True,
            timeout=START_TIMEOUT,
        )
        return int(done.stdout.strip())
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        raise CommandError(f"Cannot start {argv[0]}: {exc}") from exc


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def runners_table(runners: list[LiveRunner]) -> Table:
    """`runner list`."""
    table = render.plain_table("id", "host", "pid", "slots", "jobs", "heartbeat", "state", "tasks")
    table.columns[-1].max_width = TASKS_WIDTH
    table.columns[-1].overflow = "ellipsis"
    for r in runners:
        state = "stopping" if r.stop_requested else "running"
        jobs = " ".join(map(str, r.jobs))
        beat = render.timestamp(r.heartbeat_at)
        table.add_row(str(r.id), r.host, str(r.pid), str(r.slots), jobs, beat, state, r.tasks)
    return table


class RunnerCommands(ShellCommands):
    """The `runner` command."""

    DEFAULT_CATEGORY = "Runners"

    @cmd2.with_argparser(runner_parser)
    def do_runner(self, args: argparse.Namespace) -> None:
        """Runner daemons: start one here, list live ones, stop one."""
        args.cmd2_subcommand_func(args)

    @cmd2.as_subcommand_to("runner", "start", start_parser, help="start a runner here")
    def runner_start(self, args: argparse.Namespace) -> None:
        if self._cmd.settings is None:
            raise CommandError("This shell has no database settings to give a runner.")
        log_dir = args.log_dir or Path(platformdirs.user_log_dir(APP_NAME))
        work_dir = args.work_dir or Path(platformdirs.user_cache_dir(APP_NAME)) / "work"
        log_dir.mkdir(parents=True, exist_ok=True)
        log_file = log_dir / f"runner-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S-%f}.log"
        pid = launch(
            runner_argv(args, log_dir, work_dir), self._cmd.settings.database_url, log_file
        )
        runner = self._registered(pid, log_file)
        self._cmd.ok(f"Runner {runner.id} started (pid {runner.pid}); its output: {log_file}")
        self.result(runner.id)

    def _registered(self, pid: int, log_file: Path) -> LiveRunner:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            for runner in self.bt.runners.list():
                if runner.pid == pid:
                    return runner
            if not _alive(pid):
                lines = log_file.read_text(errors="replace").strip().splitlines() or [""]
                raise CommandError(f"The runner exited at once: {lines[-1]}")
            time.sleep(0.1)
        raise CommandError(f"The runner (pid {pid}) did not register; see {log_file}.")

    @cmd2.as_subcommand_to("runner", "list", list_parser, help="list live runners")
    def runner_list(self, args: argparse.Namespace) -> None:
        runners = self.bt.runners.list()
        self.result(runners)
        if args.json:
            self.text(render.as_json([vars(r) for r in runners]))
        elif not runners:
            self._cmd.warn("No runner is running.")
        else:
            self.show(runners_table(runners))

    @cmd2.as_subcommand_to("runner", "stop", stop_parser, help="ask a runner to stop")
    def runner_stop(self, args: argparse.Namespace) -> None:
        self.bt.runners.request_stop(args.runner_id)
        self._cmd.ok(f"Runner {args.runner_id} will stop once its running jobs end.")
        self.result([args.runner_id])
