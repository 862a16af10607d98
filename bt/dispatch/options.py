"""The dispatcher's command line and how it becomes a `Dispatcher`.

A dispatcher's identity is `<name>-<hash of the database URL>`: stable across restarts (so a
restarted dispatcher finds its pilots by name in the batch system), distinct per database, and
free of secrets (the hash covers the URL with its password masked).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shlex
from pathlib import Path

import platformdirs

from bt.cli.common import at_least, seconds
from bt.client import Brownthrower
from bt.config import APP_NAME, Settings, mask_url
from bt.dispatch.backend import Backend
from bt.dispatch.dispatcher import Dispatcher
from bt.dispatch.local import LocalBackend
from bt.dispatch.reconcile import Policy
from bt.dispatch.script import (
    check_runner_args,
    default_runner,
    pilot_environment,
    runner_command,
)
from bt.dispatch.slurm import SlurmBackend
from bt.errors import ConfigError

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


def add_identity_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that say which dispatcher (shared by `bt-dispatcher` and `dispatcher status`)."""
    parser.add_argument(
        "--name",
        default="default",
        help="dispatcher name; restarting with the same name (and "
        "database) adopts the pilots it left (default: %(default)s)",
    )
    parser.add_argument(
        "--backend",
        choices=("local", "slurm"),
        default="local",
        help="batch system for the pilots (default: %(default)s)",
    )
    parser.add_argument(
        "--tasks",
        nargs="+",
        default=[],
        metavar="PATTERN",
        help="eligible tasks (glob patterns), passed on to the pilots",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        help="base directory for pilot records and logs (default: the user's state dir)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Every `bt-dispatcher` option except the shared `-u/-v/--version`."""
    add_identity_arguments(parser)
    parser.add_argument("--mode", choices=("static", "on-demand"), default="static")
    parser.add_argument(
        "--pilots",
        type=at_least(0),
        default=1,
        metavar="N",
        help="static: looping pilots to keep (default: %(default)s)",
    )
    parser.add_argument(
        "--max-pilots",
        type=at_least(0),
        default=10,
        metavar="M",
        help="on-demand: most pilots at once (default: %(default)s)",
    )
    parser.add_argument(
        "--jobs-per-pilot",
        type=at_least(1),
        default=1,
        metavar="K",
        help="on-demand: one pilot per K runnable jobs (default: %(default)s)",
    )
    parser.add_argument(
        "--runner",
        default=None,
        metavar="PATH",
        help="runner program the pilots start (default: bt-runner beside Python)",
    )
    parser.add_argument(
        "--runner-args",
        default="",
        metavar="ARGS",
        help='more runner arguments, one string: "--slots 2 --lease 30"',
    )
    parser.add_argument(
        "--url-file",
        action="store_true",
        help="pass the database URL to pilots in a 0600 file in the state dir "
        "(BT_CONFIG) instead of the environment (BT_DATABASE_URL)",
    )
    parser.add_argument("--partition", help="slurm: partition of the pilots")
    parser.add_argument("--time-limit", metavar="TIME", help="slurm: pilots' --time")
    parser.add_argument(
        "--sbatch-arg",
        action="append",
        default=[],
        metavar="OPTION",
        help="slurm: one more sbatch option, e.g. --sbatch-arg=--mem=2G",
    )
    parser.add_argument(
        "--kill-wait",
        type=seconds,
        default=60.0,
        metavar="S",
        help="seconds a cancelled pilot's runner gets to hand its jobs back before the pilot "
        "is killed; keep it above the runner's --grace (default: %(default)s)",
    )
    parser.add_argument(
        "--interval",
        type=seconds,
        default=5.0,
        metavar="S",
        help="seconds between passes (default: %(default)s)",
    )
    parser.add_argument("--once", action="store_true", help="one pass, print it, exit")
    parser.add_argument("--no-ui", action="store_true", help="log lines instead of the screen")
    parser.add_argument(
        "--cancel-on-exit",
        action="store_true",
        help="cancel every pilot of this dispatcher when it stops",
    )


def check(args: argparse.Namespace) -> None:
    """Refuse bad options with one clear error before anything is opened or written."""
    dispatcher_id(args.name, "sqlite://")
    check_runner_args(_split(args.runner_args))
    if args.backend == "slurm":
        make_backend(args, "check", Path("."))


def dispatcher_id(name: str, database_url: str) -> str:
    """`name` plus a short hash of the (masked) URL: the same after a restart, never secret."""
    if not _NAME.match(name):
        raise ConfigError(f"Dispatcher name {name!r}: use 1-40 letters, digits, '.', '_', '-'.")
    digest = hashlib.sha256(mask_url(database_url).encode()).hexdigest()[:8]
    return f"{name}-{digest}"


def state_dir(ident: str, override: Path | None = None) -> Path:
    """Where a dispatcher keeps pilot records, logs and its URL file: `<base>/<ident>`."""
    base = override.resolve() if override else Path(platformdirs.user_state_dir(APP_NAME))
    return base / "dispatchers" / ident


def make_backend(args: argparse.Namespace, ident: str, directory: Path) -> Backend:
    """The backend named by `--backend`, holding the pilots called `bt-pilot-<ident>`."""
    name = f"bt-pilot-{ident}"
    kill_wait = float(getattr(args, "kill_wait", 60.0))
    if args.backend == "local":
        return LocalBackend(directory, name, kill_wait=kill_wait)
    return SlurmBackend(
        name,
        log_dir=directory / "logs",
        work_dir=directory,
        partition=getattr(args, "partition", None),
        time_limit=getattr(args, "time_limit", None),
        sbatch_args=getattr(args, "sbatch_arg", []),
        kill_wait=kill_wait,
    )


def build(args: argparse.Namespace, app: Brownthrower, settings: Settings) -> Dispatcher:
    """The dispatcher the parsed `args` describe, on `app` (opened from `settings`)."""
    ident = dispatcher_id(args.name, settings.database_url)
    directory = state_dir(ident, args.state_dir)
    policy = Policy(args.mode, args.pilots, args.max_pilots, args.jobs_per_pilot)
    extra = _split(args.runner_args)
    command = runner_command(args.runner or default_runner(), args.tasks, extra, loop=policy.loop)
    url_file = directory / "database.toml" if args.url_file else None
    env = pilot_environment(settings.database_url, config_file=url_file)
    return Dispatcher(
        app,
        make_backend(args, ident, directory),
        policy,
        dispatcher_id=ident,
        patterns=args.tasks,
        command=command,
        env=env,
        database=f"{settings.masked_url} (pilots get it via {', '.join(env)})",
        state_dir=directory,
    )


def look_only(args: argparse.Namespace, app: Brownthrower, settings: Settings) -> Dispatcher:
    """A dispatcher to `look()` at (`dispatcher status`): it never submits anything."""
    ident = dispatcher_id(args.name, settings.database_url)
    directory = state_dir(ident, args.state_dir)
    return Dispatcher(
        app,
        make_backend(args, ident, directory),
        Policy(),
        dispatcher_id=ident,
        patterns=args.tasks,
        command=[],
        env={},
        database=settings.masked_url,
        state_dir=directory,
    )


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise ConfigError(f"Cannot split --runner-args: {exc}") from exc
