"""`bt-runner`: the runner daemon's command line."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import sys
from pathlib import Path

from bt import errors
from bt.cli.common import (
    RET_ERROR,
    RET_OK,
    add_common_arguments,
    at_least,
    run_main,
    seconds,
    settings_from,
    setup_logging,
)
from bt.client import Brownthrower
from bt.registry import TaskRegistry
from bt.runner.daemon import Runner
from bt.runner.environ import scrub_runner
from bt.runner.forkserver import ForkServer
from bt.runner.options import (
    DEFAULT_GRACE,
    DEFAULT_IDLE_POLL,
    DEFAULT_LEASE,
    DEFAULT_POLL,
    RunnerOptions,
    RunOutcome,
)

PROGRAM = "bt-runner"

DESCRIPTION = """\
Claim runnable jobs from the database and run each one in its own process, process group and
working directory, capturing its output, keeping its traceback, and killing it when a user aborts
it. Without --loop or --job, run until nothing is runnable, then exit 0 (drain mode).
SIGTERM or SIGINT stops claiming, gives running jobs --grace seconds, then kills them and returns
them to QUEUED, and exits 0; a second signal kills them at once.
"""

#: `bt-runner`'s exit status for how the run ended
EXIT_CODES = {
    RunOutcome.DRAINED: RET_OK,
    RunOutcome.STOPPED: RET_OK,
    RunOutcome.LOST: RET_ERROR,
    RunOutcome.JOB_FAILED: RET_ERROR,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROGRAM, description=DESCRIPTION)
    add_common_arguments(parser)
    work = parser.add_argument_group("what to run")
    work.add_argument(
        "-t", "--tasks", nargs="+", default=[], metavar="PATTERN",
        help="only claim jobs of tasks matching one of these globs ('*', '?'); only tasks "
        "installed here are ever claimed (default: every installed task)",
    )  # fmt: skip
    work.add_argument(
        "-s", "--slots", type=at_least(1), default=1, metavar="N",
        help="jobs run at once (default: 1)",
    )  # fmt: skip
    mode = work.add_mutually_exclusive_group()
    mode.add_argument("-j", "--job", type=int, metavar="ID", help="run exactly this job, then exit")
    mode.add_argument(
        "-l", "--loop", action="store_true",
        help="keep waiting for work instead of exiting when nothing is runnable",
    )  # fmt: skip
    work.add_argument(
        "--submit", action="store_true", help="with --job: submit the job first (submit and run)"
    )
    _add_files(parser)
    _add_timing(parser)
    _add_debugging(parser)
    return parser


def _add_files(parser: argparse.ArgumentParser) -> None:
    files = parser.add_argument_group("files")
    files.add_argument(
        "--log-dir", type=Path, default=Path("bt-logs"), metavar="DIR",
        help="where each run's whole stdout, stderr and log go, as <job>.<attempt>.out/.err/.log "
        "(default: ./bt-logs)",
    )  # fmt: skip
    files.add_argument(
        "--work-dir", type=Path, default=Path("bt-work"), metavar="DIR",
        help="each job runs in DIR/<job id>, removed if left empty (default: ./bt-work)",
    )  # fmt: skip


def _add_timing(parser: argparse.ArgumentParser) -> None:
    timing = parser.add_argument_group("timing")
    timing.add_argument(
        "--lease", type=seconds, default=DEFAULT_LEASE, metavar="SECONDS",
        help="how long this runner's jobs stay its own without a heartbeat (default: "
        f"{DEFAULT_LEASE:g}); it renews every quarter lease, kills its own jobs an eighth of a "
        "lease before expiry if it could not, and others recover them an eighth after it",
    )  # fmt: skip
    timing.add_argument(
        "--grace", type=seconds, default=DEFAULT_GRACE, metavar="SECONDS",
        help="on SIGTERM/SIGINT, how long running jobs may still finish before they are killed "
        f"and requeued (default: {DEFAULT_GRACE:g})",
    )  # fmt: skip
    timing.add_argument(
        "--poll", type=seconds, default=DEFAULT_POLL, metavar="SECONDS",
        help="longest wait between checks for new work and for aborts on SQLite, and for "
        "aborts of running jobs in pooled mode; PostgreSQL reached directly is woken by NOTIFY "
        f"and checks 5 times less often (default: {DEFAULT_POLL:g})",
    )  # fmt: skip
    timing.add_argument(
        "--idle-poll", type=seconds, default=DEFAULT_IDLE_POLL, metavar="SECONDS",
        help="on PostgreSQL, the longest wait between looks for work while none is found "
        "(±25%% at random); the wait starts short after work and doubles up to this "
        f"(default: {DEFAULT_IDLE_POLL:g})",
    )  # fmt: skip
    timing.add_argument(
        "--idle-exit", type=seconds, default=None, metavar="SECONDS",
        help="with --loop: exit 0 once no work was found for this long (a pilot giving its "
        "batch slot back)",
    )  # fmt: skip


def _add_debugging(parser: argparse.ArgumentParser) -> None:
    debug = parser.add_argument_group("debugging and profiling")
    debug.add_argument(
        "--pdb", action="store_true",
        help="post-mortem debugging (pdb) on the terminal when task code raises; one slot, "
        "output not captured",
    )  # fmt: skip
    debug.add_argument(
        "--debugpy", metavar="[HOST:]PORT",
        help="before running task code, wait for a remote debugger (VS Code, ...) to attach "
        "on this address; one slot; needs the 'debug' extra (pip install brownthrower[debug])",
    )  # fmt: skip
    debug.add_argument(
        "--profile", action="store_true",
        help="profile task code with cProfile: a sorted summary in tag bt_profile, the stats "
        "in <log dir>/<job>.<attempt>.pstats",
    )  # fmt: skip


def options_from(args: argparse.Namespace) -> RunnerOptions:
    """The runner's options; one slot when debugging interactively."""
    if args.submit and args.job is None:
        raise errors.InvalidValue("--submit needs --job ID.")
    if args.lease < 1:
        raise errors.InvalidValue("--lease must be at least 1 second.")
    if args.idle_exit is not None and not args.loop:
        raise errors.InvalidValue("--idle-exit needs --loop.")
    debugpy = args.debugpy
    if debugpy is not None:
        if importlib.util.find_spec("debugpy") is None:
            raise errors.ConfigError("--debugpy needs debugpy: pip install 'brownthrower[debug]'.")
        debugpy = debugpy if ":" in debugpy else f"127.0.0.1:{debugpy}"
    one_slot = args.pdb or debugpy is not None
    return RunnerOptions(
        tasks=tuple(args.tasks),
        slots=1 if one_slot else args.slots,
        job_id=args.job,
        submit=args.submit,
        loop=args.loop,
        log_dir=args.log_dir,
        work_dir=args.work_dir,
        lease=args.lease,
        grace=args.grace,
        poll=max(args.poll, 0.05),
        idle_poll=max(args.idle_poll, 0.05),
        idle_exit=args.idle_exit,
        pdb=args.pdb,
        debugpy=debugpy,
        profile=args.profile,
    )


def io_timeout(options: RunnerOptions) -> float:
    """How long the runner's connection may go unanswered before it is dropped: a third of
    the lease (2 to 15 s), so a black-holed connection is noticed well before the lease ends."""
    return min(15.0, max(2.0, options.lease / 3))


def runner_logging(verbosity: int) -> None:
    """The runner's own action lines at INFO by default; -v adds DEBUG, -vv SQL."""
    setup_logging(verbosity)
    logging.getLogger("bt.runner").setLevel(logging.DEBUG if verbosity else logging.INFO)


def start(args: argparse.Namespace) -> int:
    """Load the plugins, hide the password from /proc, start the fork server (in an environment
    without it), then open the database and run."""
    options = options_from(args)
    settings = settings_from(args)
    registry = TaskRegistry()
    tasks = registry.matching(options.tasks)
    if not tasks:
        wanted = " ".join(options.tasks) or "*"
        raise errors.TaskNotFound(f"no installed task matching {wanted}")
    options.log_dir.mkdir(parents=True, exist_ok=True)
    options.work_dir.mkdir(parents=True, exist_ok=True)
    scrub_runner(settings.database_url)
    server = ForkServer.start({name: registry.entry(name).target for name in tasks})
    try:
        app = Brownthrower.open(
            settings=settings,
            registry=registry,
            single=True,
            io_timeout=io_timeout(options),
            program=PROGRAM,
        )
    except BaseException:
        server.stop()
        raise
    try:
        return EXIT_CODES[Runner(app, server, options, tasks).run()]
    finally:
        app.close()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    runner_logging(args.verbose)
    return run_main(PROGRAM, lambda: start(args))


if __name__ == "__main__":
    sys.exit(main())
