"""Tasks brownthrower's tests run, shipped as a plugin distribution like a task author would."""

from __future__ import annotations

from typing import Any

from bt import Task, TaskContext


class Noop(Task):
    """Do nothing and return nothing."""

    def run(self, ctx: TaskContext) -> None:
        return None


class Echo(Task):
    """Return the input."""

    def run(self, ctx: TaskContext) -> Any:
        return ctx.input


class Picky(Task):
    """Accept only a config with a positive `n`."""

    config_sample = "# n: a positive number\nn: 1\n"

    def validate(self, config: Any, input: Any) -> None:
        if config is not None and not (isinstance(config, dict) and config.get("n", 0) > 0):
            raise ValueError("config needs a positive n")

    def run(self, ctx: TaskContext) -> Any:
        return ctx.config


class Patient(Task):
    """Do nothing, but allow seven runs before a lost runner fails it."""

    max_attempts = 7

    def run(self, ctx: TaskContext) -> None:
        return None


class Flaky(Task):
    """Fail on the first two runs (counted in the file named by config `path`), then succeed."""

    retries = 2
    retry_delay = 0.5

    def run(self, ctx: TaskContext) -> Any:
        import os

        path = (ctx.config or {}).get("path")
        if path is None:
            return None
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.write(fd, b"x")
        os.close(fd)
        if os.path.getsize(path) <= 2:
            raise RuntimeError(f"run {os.path.getsize(path)} fails on purpose")
        return os.path.getsize(path)
