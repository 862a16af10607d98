"""The dispatcher's settings, and how they become a `Dispatcher` on an open database.

A dispatcher's identity is `<name>-<hash of the database URL>`: stable across restarts (so a
restarted dispatcher finds its pilots by name in the batch system), distinct per database, and
free of secrets (the hash covers the URL with its password masked).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import platformdirs

from bt.config import APP_NAME, mask_url, normalize_url
from bt.dispatch.backend import Backend
from bt.dispatch.backoff import FIRST
from bt.dispatch.dispatcher import Dispatcher
from bt.dispatch.local import LocalBackend
from bt.dispatch.reconcile import Policy
from bt.dispatch.script import check_runner_args, default_runner, pilot_environment, runner_command
from bt.dispatch.slurm import SlurmBackend
from bt.errors import ConfigError

if TYPE_CHECKING:
    from bt.client import Brownthrower

BackendName = Literal["local", "slurm"]
DEFAULT_KILL_WAIT = 60.0  #: seconds a cancelled pilot's runner gets before the pilot is killed
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


@dataclass(frozen=True)
class DispatcherOptions:
    """Which dispatcher (name, backend, eligible tasks, state dir) and how it keeps its pilots."""

    name: str = "default"  #: with the database, the identity that finds its pilots again
    backend: BackendName = "local"
    tasks: tuple[str, ...] = ()  #: glob patterns of eligible tasks; empty = every task
    state_dir: Path | None = None  #: base of pilot records and logs; None = the user's state dir
    policy: Policy = field(default_factory=Policy)
    runner: str | None = None  #: the runner program; None = `bt-runner` beside this Python
    runner_args: tuple[str, ...] = ()  #: more runner arguments (never the database URL)
    url_file: bool = False  #: pilots get the URL in a 0600 file, not in their environment
    partition: str | None = None  #: slurm only
    time_limit: str | None = None  #: slurm only
    sbatch_args: tuple[str, ...] = ()  #: slurm only
    kill_wait: float = DEFAULT_KILL_WAIT
    backoff: float = FIRST  #: seconds of the first crash-loop backoff (it doubles, up to 30x)

    def check(self) -> None:
        """Refuse bad settings with one clear error before anything is opened or written."""
        dispatcher_id(self.name, "sqlite://")
        check_runner_args(self.runner_args)
        if self.policy.idle_exit is not None and self.policy.mode == "static":
            raise ConfigError(
                "--idle-exit is for on-demand pilots: a static dispatcher would replace every "
                "pilot that leaves."
            )
        if self.backend == "slurm":
            make_backend(self, "check", Path("."))


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


def make_backend(options: DispatcherOptions, ident: str, directory: Path) -> Backend:
    """The backend `options` name, holding the pilots called `bt-pilot-<ident>`."""
    name = f"bt-pilot-{ident}"
    if options.backend == "local":
        return LocalBackend(directory, name, kill_wait=options.kill_wait)
    return SlurmBackend(
        name,
        log_dir=directory / "logs",
        work_dir=directory,
        partition=options.partition,
        time_limit=options.time_limit,
        sbatch_args=options.sbatch_args,
        kill_wait=options.kill_wait,
    )


def build_dispatcher(options: DispatcherOptions, app: Brownthrower) -> Dispatcher:
    """The dispatcher `options` describe, on `app`'s database. Building it submits nothing, so
    `look()` at it is safe; with `url_file`, the URL file is written now."""
    url = normalize_url(app.db.url)
    ident = dispatcher_id(options.name, url)
    directory = state_dir(ident, options.state_dir)
    runner = options.runner or default_runner()
    policy = options.policy
    command = runner_command(
        runner, options.tasks, options.runner_args, loop=policy.loop, idle_exit=policy.idle_exit
    )
    url_file = directory / "database.toml" if options.url_file else None
    env = pilot_environment(url, config_file=url_file)
    return Dispatcher(
        app,
        make_backend(options, ident, directory),
        policy,
        dispatcher_id=ident,
        patterns=options.tasks,
        command=command,
        env=env,
        database=f"{mask_url(url)} (pilots get it via {', '.join(env)})",
        state_dir=directory,
        backoff=options.backoff,
    )
