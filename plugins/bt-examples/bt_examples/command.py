"""Run an external program as a job."""

from __future__ import annotations

import shlex
import subprocess
import sys
from typing import Any

from bt import Task, TaskContext


class Command(Task):
    """Run an external program; a non-zero exit status fails the job.

    Config: `argv` (a list of strings, or one string split like a shell would), optional `cwd`
    and `env` (extra environment variables). The program's standard output and error are
    captured like any job's. The output is {"returncode": 0, "stdout": last 4 kB of stdout}.
    """

    config_sample = (
        "# the program and its arguments\n"
        "argv: [echo, hello]\n"
        "# cwd: /tmp          # optional working directory\n"
        "# env: {FOO: bar}    # optional extra environment\n"
    )

    def validate(self, config: Any, input: Any) -> None:
        """Refuse a config without a usable `argv`."""
        _argv(config)

    def run(self, ctx: TaskContext) -> dict[str, Any]:
        """Run the program in the job's work dir; fail on a non-zero exit status."""
        import os

        config = ctx.config or {}
        env = {**os.environ, **{str(k): str(v) for k, v in (config.get("env") or {}).items()}}
        result = subprocess.run(
            _argv(config),
            cwd=config.get("cwd") or ctx.work_dir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=None,
            text=True,
            check=False,
        )
        sys.stdout.write(result.stdout)
        if result.returncode != 0:
            raise RuntimeError(f"{_argv(config)[0]} exited with status {result.returncode}")
        return {"returncode": result.returncode, "stdout": result.stdout[-4096:]}


def _argv(config: Any) -> list[str]:
    argv = (config or {}).get("argv") if isinstance(config, dict) else None
    if isinstance(argv, str):
        argv = shlex.split(argv)
    if not argv or not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        raise ValueError("config needs `argv`: the program and its arguments")
    return argv
