"""Starting a claimed job: its pipes, its order, its environment, and the fork server's fork."""

from __future__ import annotations

import functools
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from bt.config import mask_url
from bt.runner.capture import LogFiles
from bt.runner.environ import database_scope, run_mark
from bt.runner.forkserver import ForkServer
from bt.runner.options import RunnerOptions
from bt.runner.protocol import MARK, JobOrder, Message
from bt.runner.running import CTL, ERR, OUT, RunningJob, work_dir_of
from bt.usage import Pilot
from bt.values import Claim

#: the environment variables every job process gets (documented in the README)
JOB_ENVIRONMENT = (
    "BT_JOB_ID",
    "BT_TASK",
    "BT_ATTEMPT",
    "BT_WORK_DIR",
    "BT_LOG_DIR",
    "BT_RUNNER_ID",
    "BT_DATABASE_URL",
)


@dataclass
class Spare:
    """A forked job process still waiting for its order."""

    key: int
    order_fd: int
    fds: dict[int, str]
    pid: int | None = None
    exit_code: int | None = None
    exited: Message | None = None  #: the fork server's report of its exit (with its figures)

    def close(self) -> None:
        for fd in [self.order_fd, *self.fds]:
            os.close(fd)


@dataclass(frozen=True)
class Launcher:
    """What every job of one runner shares."""

    server: ForkServer
    options: RunnerOptions
    runner_id: int
    database_url: str
    host: str = socket.gethostname()

    def spawn(self, key: int) -> Spare:
        """Fork a job process that waits for its order (off the critical path of the next job)."""
        ours, theirs = _pipes(self.options.capture)
        try:
            self.server.spawn(key, theirs, own_group=not self.options.pdb)
        except BaseException:
            for fd in ours:
                os.close(fd)
            raise
        finally:
            for fd in theirs:
                os.close(fd)
        order_fd, *reads = ours
        return Spare(key, order_fd, dict(zip(reads, (CTL, OUT, ERR), strict=False)))

    def assign(self, spare: Spare, claim: Claim) -> RunningJob:
        """Make `spare` the process of `claim`: the job, with its order ready to be sent."""
        files = LogFiles(self.options.log_dir.absolute(), claim.job_id, claim.attempt)
        job = RunningJob(spare.key, claim, files, own_group=not self.options.pdb, pilot=self.pilot)
        work_dir = work_dir_of(self.options.work_dir, claim.job_id)
        job.runner_info = {
            "host": self.host,
            "runner": self.runner_id,
            "runner_pid": os.getpid(),
            "job_pid": None,
            "work_dir": work_dir,
        }
        job.order_fd, job.fds = spare.order_fd, spare.fds
        job.order = memoryview(self.order(claim, work_dir, files).to_json())
        if spare.pid is not None:
            job.on_started(spare.pid)
        if spare.exit_code is not None:
            job.on_exited(spare.exit_code, spare.exited)
        return job

    def order(self, claim: Claim, work_dir: Path, files: LogFiles) -> JobOrder:
        return JobOrder(
            job_id=claim.job_id,
            task=claim.name,
            attempt=claim.attempt,
            epilog=claim.epilog,
            config=claim.config,
            input=claim.input,
            parents=list(claim.parents),
            subjobs=list(claim.subjobs),
            work_dir=str(work_dir),
            environ=self.environment(claim, work_dir),
            profile=str(files.path("pstats")) if self.options.profile else None,
            pdb=self.options.pdb,
            debugpy=self.options.debugpy,
        )

    def environment(self, claim: Claim, work_dir: Path) -> dict[str, str]:
        values = (claim.job_id, claim.name, claim.attempt, work_dir)
        env = {name: str(value) for name, value in zip(JOB_ENVIRONMENT, values, strict=False)}
        env.update(self._shared_environment)
        env[MARK] = run_mark(self._scope, claim)
        return env

    @functools.cached_property
    def _shared_environment(self) -> dict[str, str]:
        """The variables every job of this runner gets alike."""
        values = (self.options.log_dir.absolute(), self.runner_id, mask_url(self.database_url))
        env = {name: str(value) for name, value in zip(JOB_ENVIRONMENT[4:], values, strict=True)}
        return {**env, "PYTHONUNBUFFERED": "1"}

    @functools.cached_property
    def pilot(self) -> Pilot:
        """Where this runner's jobs run (what each run's figures say about it)."""
        return Pilot(self.host, os.environ.get("SLURM_JOB_ID") or None, self.options.slots)

    @functools.cached_property
    def _scope(self) -> str:
        return database_scope(self.database_url)


def _pipes(capture: bool) -> tuple[list[int], list[int]]:
    """(runner's ends, job's ends): order, control[, stdout, stderr]."""
    order_r, order_w = os.pipe()
    ctl_r, ctl_w = os.pipe()
    ours, theirs = [order_w, ctl_r], [order_r, ctl_w]
    if capture:
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        ours += [out_r, err_r]
        theirs += [out_w, err_w]
    for fd in ours:
        os.set_blocking(fd, False)
    return ours, theirs
