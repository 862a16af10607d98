"""The dispatcher's command line: argparse options, checked and turned into `DispatcherOptions`.

`add_identity_arguments` says which dispatcher (shared by `bt-dispatcher` and the shell's
`dispatcher status`); `add_arguments` adds how it keeps its pilots.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
from pathlib import Path

from bt.cli.common import at_least, seconds
from bt.dispatch import DispatcherOptions, Policy
from bt.errors import ConfigError

#: The core's defaults are the command line's.
DEFAULTS = DispatcherOptions()


def add_identity_arguments(parser: argparse.ArgumentParser) -> None:
    """--name, --backend, --tasks and --state-dir: which dispatcher, on which batch system."""
    parser.add_argument(
        "--name", default=DEFAULTS.name,
        help="dispatcher name; restarting with the same name (and database) adopts the pilots "
        "it left (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--backend", choices=("local", "slurm"), default=DEFAULTS.backend,
        help="batch system for the pilots (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--tasks", nargs="+", default=[], metavar="PATTERN",
        help="eligible tasks (glob patterns), passed on to the pilots",
    )  # fmt: skip
    parser.add_argument(
        "--state-dir", type=Path, metavar="DIR",
        help="base directory for pilot records and logs (default: the user's state dir)",
    )  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Every `bt-dispatcher` option except the shared `-u/-v/--version`."""
    add_identity_arguments(parser)
    _add_policy(parser)
    _add_pilots(parser)
    _add_loop(parser)


def _add_policy(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mode", choices=("static", "on-demand"), default=DEFAULTS.policy.mode,
        help="static: a fixed number of looping pilots; on-demand: as many draining pilots as "
        "the runnable jobs need (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--pilots", type=at_least(0), default=DEFAULTS.policy.pilots, metavar="N",
        help="static: looping pilots to keep (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--max-pilots", type=at_least(0), default=DEFAULTS.policy.max_pilots, metavar="M",
        help="on-demand: most pilots at once (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--jobs-per-pilot", type=at_least(1), default=DEFAULTS.policy.jobs_per_pilot, metavar="K",
        help="on-demand: one pilot per K runnable (or soon-runnable) jobs (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--max-pending", type=at_least(0), default=DEFAULTS.policy.max_pending, metavar="N",
        help="on-demand: most pilots queued in the batch system at once (default: no bound "
        "but --max-pilots)",
    )  # fmt: skip
    parser.add_argument(
        "--max-submit", type=at_least(1), default=DEFAULTS.policy.max_submit, metavar="N",
        help="most pilots submitted in one pass (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--idle-exit", type=seconds, default=DEFAULTS.policy.idle_exit, metavar="S",
        help="on-demand: pilots loop and exit after S idle seconds (bt-runner --idle-exit), so "
        "they can wait for jobs whose parents are running; without it they drain (exit when "
        "nothing is runnable) and only runnable jobs ask for pilots",
    )  # fmt: skip
    parser.add_argument(
        "--backoff", type=seconds, default=DEFAULTS.backoff, metavar="S",
        help="after 3 failed pilots or submissions in a row, stop submitting for S seconds, "
        "doubling at each further failure up to 30 times S, until a pilot claims a job "
        "(default: %(default)s)",
    )  # fmt: skip


def _add_pilots(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runner", metavar="PATH",
        help="runner program the pilots start (default: bt-runner beside Python)",
    )  # fmt: skip
    parser.add_argument(
        "--runner-args", default="", metavar="ARGS",
        help='more runner arguments, one string: "--slots 2 --lease 30"',
    )  # fmt: skip
    parser.add_argument(
        "--url-file", action="store_true",
        help="pass the database URL to pilots in a 0600 file in the state dir (BT_CONFIG) "
        "instead of the environment (BT_DATABASE_URL)",
    )  # fmt: skip
    parser.add_argument("--partition", help="slurm: partition of the pilots")
    parser.add_argument("--time-limit", metavar="TIME", help="slurm: pilots' --time")
    parser.add_argument(
        "--sbatch-arg", action="append", default=[], metavar="OPTION",
        help="slurm: one more sbatch option, e.g. --sbatch-arg=--mem=2G",
    )  # fmt: skip
    parser.add_argument(
        "--kill-wait", type=seconds, default=DEFAULTS.kill_wait, metavar="S",
        help="seconds a cancelled pilot's runner gets to hand its jobs back before the pilot "
        "is killed; keep it above the runner's --grace (default: %(default)s)",
    )  # fmt: skip


def _add_loop(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--interval", type=seconds, default=5.0, metavar="S",
        help="seconds between passes (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument("--once", action="store_true", help="one pass, print it, exit")
    parser.add_argument("--no-ui", action="store_true", help="log lines instead of the screen")
    parser.add_argument(
        "--cancel-on-exit", action="store_true",
        help="cancel every pilot of this dispatcher when it stops",
    )  # fmt: skip


def identity_from(args: argparse.Namespace) -> DispatcherOptions:
    """The dispatcher `add_identity_arguments`' options name (checked), otherwise defaults."""
    options = _identity(args)
    options.check()
    return options


def options_from(args: argparse.Namespace) -> DispatcherOptions:
    """Every dispatcher setting `add_arguments`' options give, checked: one clear error for bad
    input, before anything is opened or written."""
    options = dataclasses.replace(
        _identity(args),
        policy=Policy(
            args.mode,
            args.pilots,
            args.max_pilots,
            args.jobs_per_pilot,
            max_pending=args.max_pending,
            max_submit=args.max_submit,
            idle_exit=args.idle_exit,
        ),
        runner=args.runner,
        runner_args=tuple(_split(args.runner_args)),
        url_file=args.url_file,
        partition=args.partition,
        time_limit=args.time_limit,
        sbatch_args=tuple(args.sbatch_arg),
        kill_wait=args.kill_wait,
        backoff=args.backoff,
    )
    options.check()
    return options


def _identity(args: argparse.Namespace) -> DispatcherOptions:
    return DispatcherOptions(
        name=args.name, backend=args.backend, tasks=tuple(args.tasks), state_dir=args.state_dir
    )


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise ConfigError(f"Cannot split --runner-args: {exc}") from exc
