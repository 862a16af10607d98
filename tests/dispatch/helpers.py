"""Helpers of the dispatcher tests: backends, waiting, and driving real dispatchers."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from bt import Brownthrower
from bt.config import load_settings
from bt.dispatch import Dispatcher, Snapshot, build_dispatcher, options
from bt.dispatch.backend import Backend, BatchError
from bt.dispatch.local import LocalBackend
from bt.dispatch.slurm import SlurmBackend
from shell.dispatcher.cli import build_parser
from shell.dispatcher.options import options_from

#: Pilots in tests: short leases (lost jobs come back fast), short grace, quick polls.
RUNNER_ARGS = "--lease 3 --grace 1 --poll 0.2"
NAME = "t"
PROGRAM = str(Path(sys.executable).with_name("bt-dispatcher"))
T = TypeVar("T")


def argv(state: Path, backend: str, *more: str) -> list[str]:
    """Dispatcher arguments shared by every test (state dir, name, backend, runner args)."""
    return [
        "--state-dir", str(state), "--name", NAME, "--backend", backend,
        f"--runner-args={RUNNER_ARGS}", "--kill-wait", "5", *more,
    ]  # fmt: skip


def build(app: Brownthrower, url: str, state: Path, backend: str, *more: str) -> Dispatcher:
    """An in-process dispatcher, exactly as `bt-dispatcher` would build it."""
    args = build_parser().parse_args(argv(state, backend, *more))
    return build_dispatcher(options_from(args), app)


def backend_of(url: str, state: Path, backend: str) -> Backend:
    """The batch system's view of the test dispatcher's pilots (what a restart would see)."""
    chosen = options_from(build_parser().parse_args(argv(state, backend)))
    ident = options.dispatcher_id(NAME, load_settings(url).database_url)
    return options.make_backend(chosen, ident, options.state_dir(ident, state))


def live_ids(backend: Backend) -> set[str]:
    return {p.batch_id for p in backend.status() if p.live}


def running(snapshot: Snapshot) -> int:
    return snapshot.batch_counts.get("RUNNING", 0)


def drive(
    dispatcher: Dispatcher,
    until: Callable[[Snapshot], bool],
    timeout: float = 60.0,
    interval: float = 0.5,
    seen: list[Snapshot] | None = None,
) -> Snapshot:
    """Run passes until `until(snapshot)`; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        snapshot = dispatcher.step()
        if seen is not None:
            seen.append(snapshot)
        if until(snapshot):
            return snapshot
        if time.monotonic() > deadline:
            pytest.fail(f"timed out: {snapshot.summary()} warnings={snapshot.warnings}")
        time.sleep(interval)


def pilot_name() -> str:
    return f"bt-pilot-test-{uuid.uuid4().hex[:8]}"


def make_local(state: Path, name: str | None = None) -> LocalBackend:
    return LocalBackend(state, name or pilot_name(), kill_wait=2)


def make_slurm(state: Path, name: str | None = None, **options: object) -> SlurmBackend:
    return SlurmBackend(
        name or pilot_name(),
        log_dir=state / "logs",
        work_dir=state,
        **options,  # type: ignore[arg-type]
    )


def cancel_everything(backend: Backend, timeout: float = 20.0) -> None:
    """Cancel every live pilot of `backend` and wait until none is left."""
    with contextlib.suppress(BatchError):
        for pilot in backend.status():
            if pilot.live:
                with contextlib.suppress(BatchError):
                    backend.cancel(pilot.batch_id)
        deadline = time.monotonic() + timeout
        while any(not p.final for p in backend.status()) and time.monotonic() < deadline:
            time.sleep(0.2)


def wait_for(
    what: Callable[[], T],
    timeout: float = 30.0,
    every: float = 0.2,
    process: subprocess.Popen[str] | None = None,
) -> T:
    """Poll `what` until it returns something truthy; fail the test after `timeout` seconds
    (with the output of `process`, a dispatcher being waited on, if given)."""
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if value:
            return value
        if process is not None and process.poll() is not None:
            pytest.fail(f"the dispatcher exited {process.returncode}: {_output(process)}")
        if time.monotonic() > deadline:
            output = _output(process) if process is not None else ""
            pytest.fail(f"timed out after {timeout} s waiting for {what} {output}")
        time.sleep(every)


def _output(process: subprocess.Popen[str]) -> str:
    if process.poll() is None:
        process.kill()
    out, err = process.communicate(timeout=30)
    return out + err


class Dispatchers:
    """Dispatchers a test built or started; all pilots are cancelled when the test ends."""

    def __init__(self, app: Brownthrower, url: str, state: Path) -> None:
        self.app, self.url, self.state = app, url, state
        self.built: list[Dispatcher] = []
        self.processes: list[subprocess.Popen[str]] = []

    def build(self, backend: str, *more: str) -> Dispatcher:
        dispatcher = build(self.app, self.url, self.state, backend, *more)
        self.built.append(dispatcher)
        return dispatcher

    def start(
        self, backend: str, *more: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[str]:
        """A `bt-dispatcher --no-ui` process, the URL in its environment."""
        environ = {**os.environ, "BT_DATABASE_URL": self.url, **(env or {})}
        command = [PROGRAM, "--no-ui", "--interval", "0.5", *argv(self.state, backend, *more)]
        process = subprocess.Popen(
            command, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.processes.append(process)
        return process

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
            process.communicate(timeout=30)
        for dispatcher in self.built:
            dispatcher.shutdown(timeout=30, poll=0.3)
