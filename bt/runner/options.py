"""The runner's settings, as `bt-runner` parses them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_LEASE = 30.0  #: seconds a runner's jobs stay its own without a heartbeat
DEFAULT_GRACE = 10.0  #: seconds running jobs get to finish after SIGTERM/SIGINT
DEFAULT_POLL = 1.0  #: longest wait between checks for work and aborts (SQLite)
KILL_TIMEOUT = 2.0  #: seconds between SIGTERM and SIGKILL when a job is killed
FLUSH_INTERVAL = 1.0  #: seconds between writes of a running job's captured output
PG_POLL_FACTOR = 5.0  #: on PostgreSQL, LISTEN/NOTIFY wakes the runner; polls are this much rarer


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
    pdb: bool = False
    debugpy: str | None = None
    profile: bool = False

    @property
    def heartbeat_interval(self) -> float:
        """Four beats per lease: three can be missed before the lease runs out."""
        return self.lease / 4

    @property
    def capture(self) -> bool:
        """Whether job output is captured (not with --pdb, where the job uses the terminal)."""
        return not self.pdb
