"""Tasks that spend known resources, for the tests of what each run cost (`bt.usage`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bt import Task, TaskContext

MB = 1 << 20
PAGE = 4096


def burn(seconds: float) -> None:
    """Spend `seconds` of this process's CPU time (what the kernel counts, however busy the host
    is) in a loop."""
    end = time.process_time() + seconds
    while time.process_time() < end:  # a system call: check it between user-mode work
        for _ in range(100_000):
            pass


def _config(ctx: TaskContext, name: str, default: float) -> float:
    return float((ctx.config or {}).get(name, default))


def _write_pid() -> None:
    Path("pid.tmp").write_text(str(os.getpid()))
    Path("pid.tmp").rename("pid")


class Burn(Task):
    """Write the pid to `pid`, then burn config `seconds` (default 1) of CPU time in a loop;
    return the CPU seconds and wall seconds the loop took, as this process saw them."""

    def run(self, ctx: TaskContext) -> dict[str, float]:
        _write_pid()
        wall, cpu = time.monotonic(), time.process_time()
        burn(_config(ctx, "seconds", 1.0))
        return {"cpu": time.process_time() - cpu, "wall": time.monotonic() - wall}


class BurnInChild(Task):
    """Run a grandchild that burns config `seconds` (default 1) of CPU time; wait for it."""

    def run(self, ctx: TaskContext) -> None:
        code = f"from bt_test_tasks.usage import burn; burn({_config(ctx, 'seconds', 1.0)})"
        subprocess.run([sys.executable, "-c", code], check=True)


class Allocate(Task):
    """Allocate config `mb` MB (default 200) and write to every page of it."""

    def run(self, ctx: TaskContext) -> int:
        size = int(_config(ctx, "mb", 200) * MB)
        block = bytearray(size)
        block[::PAGE] = b"\1" * len(range(0, size, PAGE))
        return sum(block[::PAGE])


class Write(Task):
    """Write config `mb` MB (default 10) to a file `data` in the work dir, then remove it."""

    def run(self, ctx: TaskContext) -> None:
        chunk = b"x" * MB
        with open("data", "wb") as file:
            for _ in range(int(_config(ctx, "mb", 10))):
                file.write(chunk)
        os.remove("data")
