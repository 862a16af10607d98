"""The runner's settings, as `bt-runner` parses them, and how a run ends."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_LEASE = 30.0  #: seconds a runner's jobs stay its own without a heartbeat
DEFAULT_GRACE = 10.0  #: seconds running jobs get to finish after SIGTERM/SIGINT
DEFAULT_POLL = 1.0  #: longest wait between checks for work and aborts (SQLite)
DEFAULT_IDLE_POLL = 15.0  #: longest wait between looks for work of an idle runner (PostgreSQL)
KILL_TIMEOUT = 2.0  #: seconds between SIGTERM and SIGKILL when a job is killed
FLUSH_INTERVAL = 1.0  #: seconds between writes of a running job's captured output
PG_POLL_FACTOR = 5.0  #: with LISTEN/NOTIFY, aborts wake the runner: it checks this much rarer


@dataclass(frozen=True)
class RunnerOptions:
    """How one runner behaves: what it claims, how many at once, where files go, how to debug."""

    tasks: tuple[str, ...] = ()  #: glob patterns of task names; empty = every installed task
    slots: int = 1
    job_id: int | None = None  #: run exactly this job, then exit
    submit: bool = False  #: with `job_id`: submit it first
    loop: bool = False  #: keep waiting for work instead of exiting when none is runnable
    log_dir: Path = field(default_factory=lambda: Path("bt-logs"))
    work_dir: Path = field(default_factory=lambda: Path("bt-work"))
    lease: float = DEFAULT_LEASE
    grace: float = DEFAULT_GRACE
    poll: float = DEFAULT_POLL
    idle_poll: float = DEFAULT_IDLE_POLL
    idle_exit: float | None = None  #: with `loop`: exit after this many seconds without work
    pdb: bool = False
    debugpy: str | None = None
    profile: bool = False

    @property
    def mode(self) -> str:
        """`job` (with `job_id`), `loop` or `drain`, as the runner's first log line says."""
        return "job" if self.job_id is not None else ("loop" if self.loop else "drain")

    @property
    def capture(self) -> bool:
        """Whether job output is captured (not with --pdb, where the job uses the terminal)."""
        return not self.pdb


class StopReason(enum.StrEnum):
    """Why the runner stopped (as its `runner_stopping` and `runner_stopped` lines say)."""

    SIGNAL = "signal"  #: SIGTERM or SIGINT
    REQUESTED = "stop requested"  #: a stop was requested in the database
    LOST = "lost"  #: the runner lost its lease
    IDLE = "idle"  #: `--idle-exit`: no work for that long
    DRAINED = "drained"  #: it did not stop early: nothing was left to run


class RunOutcome(enum.Enum):
    """How `Runner.run()` ended; `bt-runner` turns it into its exit status."""

    DRAINED = "drained"  #: nothing left to run (with `job_id`: the job ended DONE or STAND-BY)
    STOPPED = "stopped"  #: stopped by a signal or a stop request; unfinished jobs were requeued
    LOST = "lost"  #: the runner lost its lease; its jobs were killed for another to recover
    JOB_FAILED = "job failed"  #: with `job_id`: the job did not end DONE or STAND-BY
