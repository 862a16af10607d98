"""A stand-in for a runner with one job process, to see who a cancel signals.

`standin_runner.py DIR`: starts a "job" child in its own session (as the runner does), writes
DIR/ready, and on SIGTERM writes DIR/runner-term, kills the child with SIGKILL and exits 0. The
child writes DIR/job-term if a SIGTERM ever reaches it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def job(out: Path) -> None:
    signal.signal(signal.SIGTERM, lambda *_: (out.joinpath("job-term").touch(), sys.exit(3)))
    out.joinpath("job-ready").touch()
    time.sleep(300)


def runner(out: Path) -> None:
    child = subprocess.Popen([sys.executable, __file__, str(out), "--job"], start_new_session=True)

    def stop(*_: Any) -> None:
        out.joinpath("runner-term").touch()
        child.kill()
        child.wait()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    while not out.joinpath("job-ready").exists():
        time.sleep(0.05)
    out.joinpath("ready").touch()
    time.sleep(300)


if __name__ == "__main__":
    (job if sys.argv[2:] == ["--job"] else runner)(Path(sys.argv[1]))
