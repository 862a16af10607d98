"""Tasks the runner's tests run: crashes, hangs, grandchildren, streaming output, declarations."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bt import Task, TaskContext

LONG = 300.0  #: seconds a hanging task waits (tests kill it long before)


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.rename(path)


def _append(path: str | Path, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, f"{line}\n".encode())
    os.close(fd)


class Record(Task):
    """Sleep config `sleep` seconds (default none), then append the job id to the file named
    by config `path` (one line per execution)."""

    def run(self, ctx: TaskContext) -> None:
        time.sleep(float(ctx.config.get("sleep", 0)))
        _append(ctx.config["path"], str(ctx.job_id))


class Progress(Task):
    """Print, warn, log and tag; wait for a file `release` in the work dir; print again."""

    def run(self, ctx: TaskContext) -> str:
        print("step 1")
        print("warning 1", file=sys.stderr)
        ctx.logger.info("logged 1")
        ctx.tag("progress", "1")
        deadline = time.monotonic() + LONG
        while not Path("release").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        print("step 2")
        return "done"


class Hang(Task):
    """Write the pid to `pid` in the work dir (and a line to config `path`, if given), then
    sleep (until killed)."""

    def run(self, ctx: TaskContext) -> None:
        if ctx.config and "path" in ctx.config:
            _append(ctx.config["path"], str(os.getpid()))
        _write_atomically(Path("pid"), str(os.getpid()))
        time.sleep(LONG)


class Solo(Task):
    """Hold an exclusive lock on `<config dir>/<job>.lock` while running, journalling to
    `<config dir>/journal` `start <attempt> <pid>`, or `overlap <attempt>` when another run of
    the job still holds the lock; attempt 1 then hangs, later attempts end."""

    def run(self, ctx: TaskContext) -> int:
        folder, attempt = Path(ctx.config["dir"]), int(os.environ["BT_ATTEMPT"])
        lock = os.open(folder / f"{ctx.job_id}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _append(folder / "journal", f"overlap {attempt}")
            raise
        _append(folder / "journal", f"start {attempt} {os.getpid()}")
        if attempt == 1:
            time.sleep(LONG)
        return attempt


class SpawnFirst(Task):
    """On attempt 1, start a grandchild process, write both pids to `pids` and hang; later
    attempts return the attempt."""

    def run(self, ctx: TaskContext) -> int:
        attempt = int(os.environ["BT_ATTEMPT"])
        if attempt == 1:
            child = subprocess.Popen(["sleep", str(LONG)])
            _write_atomically(Path("pids"), f"{os.getpid()} {child.pid}")
            time.sleep(LONG)
        return attempt


class ProcView(Task):
    """Copy what /proc shows of this process, the fork server (its parent) and the runner (the
    fork server's parent) into the work dir: `<who>.environ`, `<who>.cmdline`."""

    def run(self, ctx: TaskContext) -> None:
        server = os.getppid()
        runner = int(Path(f"/proc/{server}/stat").read_text().rsplit(")", 1)[1].split()[1])
        for who, pid in (("job", os.getpid()), ("server", server), ("runner", runner)):
            for what in ("environ", "cmdline"):
                Path(f"{who}.{what}").write_bytes(Path(f"/proc/{pid}/{what}").read_bytes())


class Stubborn(Task):
    """Ignore SIGTERM, write the pid to `pid`, then sleep: only SIGKILL ends it."""

    def run(self, ctx: TaskContext) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _write_atomically(Path("pid"), str(os.getpid()))
        time.sleep(LONG)


class Spawner(Task):
    """Start two grandchild processes, write every pid to `pids`, then sleep."""

    def run(self, ctx: TaskContext) -> None:
        sleeper = subprocess.Popen(["sleep", str(LONG)])
        python = subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({LONG})"])
        pids = [os.getpid(), sleeper.pid, python.pid]
        _write_atomically(Path("pids"), " ".join(map(str, pids)))
        time.sleep(LONG)


class SlowFirst(Task):
    """On attempt 1, write the pid to `pid` and hang; later attempts return the attempt."""

    def run(self, ctx: TaskContext) -> int:
        attempt = int(os.environ["BT_ATTEMPT"])
        if attempt == 1:
            _write_atomically(Path("pid"), str(os.getpid()))
            time.sleep(LONG)
        return attempt


class Segfault(Task):
    """Crash the job process with SIGSEGV."""

    def run(self, ctx: TaskContext) -> None:
        print("about to crash", flush=True)
        os.kill(os.getpid(), signal.SIGSEGV)


class Exit3(Task):
    """Leave with os._exit(3), reporting nothing."""

    def run(self, ctx: TaskContext) -> None:
        os._exit(3)


class Raiser(Task):
    """Raise ValueError("boom")."""

    def run(self, ctx: TaskContext) -> None:
        raise ValueError("boom")


class Unyaml(Task):
    """Return an object YAML cannot represent."""

    def run(self, ctx: TaskContext) -> Any:
        return {"value": object()}


class Environ(Task):
    """Return the BT_* environment and the working directory."""

    def run(self, ctx: TaskContext) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k.startswith("BT_")}
        return {**env, "cwd": os.getcwd(), "work_dir": str(ctx.work_dir)}


class Chatty(Task):
    """Print config `lines` numbered lines of 100 characters."""

    def run(self, ctx: TaskContext) -> None:
        for n in range(int(ctx.config["lines"])):
            print(f"{n:08d} " + "x" * 91)


class Fanout(Task):
    """Prolog: two echo subjobs (inputs 1 and 2). Epilog: their sum, and an echo child."""

    def prolog(self, ctx: TaskContext) -> None:
        ctx.subjob("echo", input=1)
        ctx.subjob("echo", input=2)

    def epilog(self, ctx: TaskContext) -> int:
        ctx.child("echo", input="after")
        return sum(sub.output for sub in ctx.subjobs)


class Lean(Task):
    """Tag the job, then return the database layer's modules the job process has loaded."""

    def run(self, ctx: TaskContext) -> list[str]:
        ctx.tag("checked", "yes")
        return sorted(m for m in sys.modules if m.split(".")[0] in ("sqlalchemy", "psycopg"))
