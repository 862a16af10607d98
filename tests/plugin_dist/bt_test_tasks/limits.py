"""Tasks the concurrency-limit and lease tests run: a journal of runs held open by barriers, and
a job that freezes its own runner."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from bt import Task, TaskContext

LONG = 300.0  #: seconds a task waits at most (tests release or kill it long before)


def _append(path: Path, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, f"{line}\n".encode())
    os.close(fd)


class Turnstile(Task):
    """Journal `start <job> <attempt> <time>` to `<config dir>/journal`, wait until the file
    `<dir>/release-<job>` or `<dir>/release-all` exists, journal `end <job> <attempt> <time>`
    (times: `time.time()`; one line per write, so the journal is in the order things happened)."""

    def run(self, ctx: TaskContext) -> int:
        folder, attempt = Path(ctx.config["dir"]), os.environ.get("BT_ATTEMPT", "?")
        journal = folder / "journal"
        _append(journal, f"start {ctx.job_id} {attempt} {time.time():.6f}")
        mine, everyone = folder / f"release-{ctx.job_id}", folder / "release-all"
        deadline = time.monotonic() + LONG
        while not (mine.exists() or everyone.exists()) and time.monotonic() < deadline:
            time.sleep(0.01)
        _append(journal, f"end {ctx.job_id} {attempt} {time.time():.6f}")
        return ctx.job_id


class LimitedTurnstile(Turnstile):
    """A turnstile whose jobs hold a unit of limit `bt_test_turnstile` (a task attribute)."""

    limits = {"bt_test_turnstile": 1}


class Freezer(Task):
    """Freeze the runner that runs it (SIGSTOP to its fork server's parent), as a job that
    stalls its own node would, after journalling `frozen <runner pid> <own pid> <attempt>` to
    `<config dir>/frozen`; then wait to be killed."""

    def run(self, ctx: TaskContext) -> None:
        folder, attempt = Path(ctx.config["dir"]), os.environ.get("BT_ATTEMPT", "?")
        fork_server = os.getppid()
        stat = Path(f"/proc/{fork_server}/stat").read_text()
        runner = int(stat.rsplit(")", 1)[1].split()[1])
        _append(folder / "frozen", f"frozen {runner} {os.getpid()} {attempt}")
        os.kill(runner, signal.SIGSTOP)
        time.sleep(LONG)
