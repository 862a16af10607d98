"""What a pilot runs: the runner command line, the batch script, and how the database URL
reaches it (the environment or a 0600 file, never argv or the script text)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from string import Template

from bt import __version__
from bt.config import CONFIG_VARIABLE, URL_VARIABLE
from bt.errors import ConfigError

_URL_OPTIONS = ("-u", "--database-url")
_SECRET_IN_URL = re.compile(r"(://[^/\s:@]*:)[^@\s/]+(@)")
_SECRET_IN_QUERY = re.compile(r"((?:password|passwd|pwd|secret|token)=)[^&\s]+", re.IGNORECASE)


def default_runner() -> str:
    """`bt-runner` next to this Python (the same virtualenv), else the one on PATH."""
    beside = Path(sys.executable).parent / "bt-runner"
    if beside.exists():
        return str(beside)
    return shutil.which("bt-runner") or "bt-runner"


def runner_command(
    runner: str,
    patterns: Sequence[str],
    extra: Sequence[str],
    *,
    loop: bool,
    idle_exit: float | None = None,
) -> list[str]:
    """The pilot's argv: the runner, its eligible tasks, `--loop` for pilots that wait for work,
    `--idle-exit S` for those that stop waiting after S idle seconds, then `extra`."""
    check_runner_args(extra)
    command = [runner]
    if patterns:
        command += ["--tasks", *patterns]
    if loop:
        command.append("--loop")
    if idle_exit is not None:
        command += ["--idle-exit", f"{idle_exit:g}"]
    return command + list(extra)


def check_runner_args(args: Sequence[str]) -> None:
    """Refuse a database URL among runner arguments: argv is visible to every user."""
    for arg in args:
        url_option = arg in _URL_OPTIONS or arg.startswith(("--database-url=", "-u"))
        if url_option or mask_text(arg) != arg:
            raise ConfigError(
                f"Runner arguments must not carry the database URL or a password "
                f"({mask_text(arg)}): pilots get the URL through their environment."
            )


def mask_text(text: str) -> str:
    """`text` with passwords of URLs (and `password=` style values) replaced by `***`."""
    return _SECRET_IN_QUERY.sub(r"\1***", _SECRET_IN_URL.sub(r"\1***\2", text))


def mask_argv(argv: Sequence[str]) -> str:
    """A command line safe to show: shell-quoted, secrets masked."""
    return mask_text(shlex.join(argv))


def render_script(
    command: Sequence[str], *, dispatcher: str, directives: Sequence[str] = ()
) -> str:
    """The pilot batch script: `#SBATCH`-style `directives`, a guard that the database URL
    arrived through the environment, then `exec` of `command` (so signals reach the runner)."""
    template = Template(resources.files("bt.dispatch").joinpath("pilot.sh").read_text())
    return template.substitute(
        directives="\n".join(directives),
        dispatcher=dispatcher,
        version=__version__,
        command=shlex.join(command),
    )


def pilot_environment(database_url: str, *, config_file: Path | None = None) -> dict[str, str]:
    """The variables that give a pilot its database: the URL itself, or a 0600 config file.

    With `config_file`, the URL is written there (readable by the owner only) and pilots get
    just its path, for sites whose batch systems do not pass the environment along.
    """
    if config_file is None:
        return {URL_VARIABLE: database_url}
    write_private_config(config_file, database_url)
    return {CONFIG_VARIABLE: str(config_file)}


def write_private_config(path: Path, database_url: str) -> None:
    """A TOML config file holding only `database_url`, created 0600 before anything is written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    escaped = database_url.replace("\\", "\\\\").replace('"', '\\"')
    with os.fdopen(fd, "w") as handle:
        handle.write(f'database_url = "{escaped}"\n')


def child_environment(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment with `extra`, where a URL given by file cannot be overridden
    by a stray `BT_DATABASE_URL` (the environment wins over the config file)."""
    env = dict(os.environ)
    if CONFIG_VARIABLE in extra:
        env.pop(URL_VARIABLE, None)
    env.update(extra)
    return env
