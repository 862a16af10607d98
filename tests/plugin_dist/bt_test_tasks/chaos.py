"""Tasks of the fault-injection bench (bench/faults.py): journalled runs that detect overlap."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import Any

from bt import Task, TaskContext


def _journal(folder: Path, line: str) -> None:
    fd = os.open(folder / "journal", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, f"{time.time():.3f} {line}\n".encode())
    os.close(fd)


class Journal(Task):
    """Hold `<dir>/<job>.lock` for config `sleep` seconds, journalling `start`/`end` (or
    `overlap` when another run of the same job still holds the lock) to `<dir>/journal`."""

    retries = 3
    retry_delay = 0.5

    def run(self, ctx: TaskContext) -> Any:
        folder, attempt = Path(ctx.config["dir"]), os.environ.get("BT_ATTEMPT", "?")
        lock = os.open(folder / f"{ctx.job_id}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _journal(folder, f"overlap {ctx.job_id} {attempt}")
            raise RuntimeError(f"job {ctx.job_id} is already running elsewhere") from None
        _journal(folder, f"start {ctx.job_id} {attempt} {os.getpid()}")
        time.sleep(float(ctx.config.get("sleep", 0.2)))
        _journal(folder, f"end {ctx.job_id} {attempt}")
        return ctx.job_id


class Scatter(Task):
    """Declare config `subjobs` journal subjobs (same `dir` and `sleep`); return their count."""

    retries = 3
    retry_delay = 0.5

    def prolog(self, ctx: TaskContext) -> None:
        for _ in range(int(ctx.config.get("subjobs", 10))):
            ctx.subjob("journal", config={"dir": ctx.config["dir"], "sleep": ctx.config["sleep"]})

    def epilog(self, ctx: TaskContext) -> Any:
        return len(ctx.subjobs)
