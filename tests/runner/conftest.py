"""Runners as real processes: start them, wait for what they do, look at jobs and processes.

Every test here runs on SQLite, PostgreSQL and PostgreSQL through PgBouncer (pooled mode)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from bt import Brownthrower, Status
from bt.sqltypes import db_now as sql_now
from bt.values import JobSpec
from tests.conftest import is_pooled

TIMEOUT = 60.0  #: seconds any wait may take before the test fails

#: for what a runner does only when NOTIFY can wake it: not through PgBouncer (pooled mode polls)
LISTENING_ONLY = pytest.mark.parametrize(
    "farm_db_url",
    ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)],
    indirect=True,
)


PROGRAM = [sys.executable, "-m", "bt.cli.runner"]
INSTALLED = [str(Path(sys.executable).with_name("bt-runner"))]  #: the console script


@dataclass
class Runners:
    """Starts `bt-runner` processes on the test database, with files under `tmp`.

    The URL goes on the command line, or with `url_in_env` in `BT_DATABASE_URL`; `env` adds to
    the environment, `cwd` is where they run, `program` how they are started."""

    url: str
    tmp: Path
    started: list[subprocess.Popen[str]] = field(default_factory=list)
    url_in_env: bool = False
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    program: list[str] = field(default_factory=lambda: list(PROGRAM))
    pooled: bool = False  #: through PgBouncer: runners get `--pooled`

    def command(self, *args: str) -> list[str]:
        url = [] if self.url_in_env else ["-u", self.url]
        url += ["--pooled"] if self.pooled else []
        return [
            *self.program, *url,
            "--log-dir", str(self.logs), "--work-dir", str(self.work), *args,
        ]  # fmt: skip

    def environment(self) -> dict[str, str]:
        url = {"BT_DATABASE_URL": self.url} if self.url_in_env else {}
        return {**os.environ, **url, **self.env}

    @property
    def logs(self) -> Path:
        return self.tmp / "logs"

    @property
    def work(self) -> Path:
        return self.tmp / "work"

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a runner to its end (drain mode unless `args` say otherwise)."""
        done = subprocess.run(
            self.command(*args),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
            env=self.environment(),
            cwd=self.cwd,
        )
        if check:
            assert done.returncode == 0, done.stderr
        return done

    def start(self, *args: str) -> subprocess.Popen[str]:
        """Start a runner in the background, its output going to `runner-<n>.log`."""
        log = self.tmp / f"runner-{len(self.started)}.log"
        with log.open("w") as output:
            process = subprocess.Popen(
                self.command(*args),
                stdout=output,
                stderr=subprocess.STDOUT,
                text=True,
                env=self.environment(),
                cwd=self.cwd,
            )
        self.started.append(process)
        return process

    def job_file(self, job_id: int, name: str) -> Path:
        return self.work / str(job_id) / name

    def release(self, job_id: int) -> None:
        """Let a `progress` job finish, once its working directory exists."""
        wait_for(self.job_file(job_id, "").exists, f"job {job_id}'s working directory")
        self.job_file(job_id, "release").touch(exist_ok=True)

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
            process.communicate(timeout=TIMEOUT)


@pytest.fixture
def db_url(farm_db_url: str) -> str:
    """The runner tests' databases: SQLite, PostgreSQL, and PostgreSQL through PgBouncer."""
    return farm_db_url


RUNNERS = pytest.StashKey["Runners"]()
LOG_TAIL = 6000  #: characters of each runner's log shown when a test fails


@pytest.fixture
def runners(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Runners]:
    started = Runners(db_url, tmp_path, pooled=is_pooled(db_url))
    request.node.stash[RUNNERS] = started
    yield started
    started.stop_all()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed runner test shows the end of each background runner's log."""
    report = yield
    started = item.stash.get(RUNNERS, None)
    if report.when == "call" and report.failed and started is not None:
        for log in sorted(started.tmp.glob("runner-*.log")):
            report.sections.append((f"bt: {log.name}", log.read_text()[-LOG_TAIL:]))
    return report


def wait_for(condition: Callable[[], object], what: str, timeout: float = TIMEOUT) -> object:
    """Poll `condition` until it is truthy; its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def submit(app: Brownthrower, task: str, **spec: object) -> int:
    """A new QUEUED job of `task`; its id."""
    return app.jobs.create(JobSpec(task, **spec), submit=True).id  # type: ignore[arg-type]


def status(app: Brownthrower, job_id: int) -> Status:
    return app.jobs.info(job_id).status


def tags(app: Brownthrower, job_id: int) -> dict[str, str]:
    return {tag.name: tag.value for tag in app.tags.list(job_id)}


def alive(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def read_pids(path: Path) -> list[int]:
    """The pids a task wrote to `path`, once it exists."""
    wait_for(path.exists, f"{path}")
    return [int(pid) for pid in path.read_text().split()]


def gone(pids: list[int]) -> bool:
    return not any(alive(pid) for pid in pids)


def kill(process: subprocess.Popen[str], sig: int) -> None:
    os.kill(process.pid, sig)


def parent_of(pid: int) -> int:
    """The parent pid of process `pid` (for a job process: its fork server)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def db_now(app: Brownthrower) -> dt.datetime:
    """The database's clock, which leases are measured on."""
    with app.db.read() as session:
        return session.scalar(select(sql_now()))  # type: ignore[no-any-return]


def wait_for_lease_expiry(app: Brownthrower) -> None:
    """Until every registered runner's jobs may be recovered."""
    expired = lambda: all(r.expires_at < db_now(app) for r in app.runners.list())  # noqa: E731
    wait_for(expired, "lease expiry")
