"""The jobs a runner runs at once, from their claim to the end of their process.

`Slots` starts each claimed job in the spare process forked ahead of time (or a new one), writes
the job its order, reads its pipes when the runner's selector finds them readable, and applies
the fork server's reports of starts and exits. A job is done once its process has exited and
its pipes are closed (or `PIPE_DRAIN` after the exit, if a grandchild keeps them open); `Slots`
then forgets it and hands it to `on_done`, which records it. Nothing here touches the database.
"""

from __future__ import annotations

import itertools
import logging
import os
import selectors
from collections.abc import Callable

from bt.runner.forkserver import EXITED, FENCED, STARTED
from bt.runner.launch import Launcher, Spare
from bt.runner.protocol import Message
from bt.runner.running import KillReason, RunningJob
from bt.values import Claim

log = logging.getLogger("bt.runner")

PIPE_DRAIN = 1.0  #: seconds to wait for a job's pipes to close once its process has exited


class Slots:
    """The running jobs of one runner, their pipes in the runner's selector, and the spare."""

    def __init__(
        self, selector: selectors.BaseSelector, on_done: Callable[[RunningJob], None]
    ) -> None:
        self.selector, self.on_done = selector, on_done
        self.launcher: Launcher | None = None  #: set once the runner has registered
        self.jobs: dict[int, RunningJob] = {}  #: by key (the fork server's name of the process)
        self.fd_jobs: dict[int, RunningJob] = {}  #: by the fds of their pipes
        self.spare: Spare | None = None
        self.keys = itertools.count(1)

    def __len__(self) -> int:
        return len(self.jobs)

    def running(self) -> list[RunningJob]:
        """The jobs held now (a copy: callbacks may start and end jobs meanwhile)."""
        return list(self.jobs.values())

    def with_id(self, job_id: int | None) -> list[RunningJob]:
        return [job for job in self.jobs.values() if job.job_id == job_id]

    def kill_all(self, reason: KillReason, *, now: bool = False) -> None:
        for job in self.jobs.values():
            job.kill(reason, now=now)

    def deadlines(self) -> list[float]:
        """When a job times out, a kill escalates to SIGKILL or an exited job stops waiting for
        its pipes."""
        jobs = self.jobs.values()
        limits = [at for job in jobs if (at := job.timeout_at) is not None]
        kills = [job.kill_at for job in jobs if job.kill_at is not None]
        return limits + kills + [job.exited_at + PIPE_DRAIN for job in jobs if job.exited_at]

    def tick(self, clock: float) -> None:
        """Kill jobs past their time limit, escalate due kills, end exited jobs whose pipes have
        had `PIPE_DRAIN` to close."""
        for job in self.running():
            if job.over_time(clock):
                log.info("job_timed_out job=%d limit=%gs", job.job_id, job.claim.time_limit)
                job.kill(KillReason.TIMED_OUT)
            job.escalate(clock)
            if job.exited_at is not None and clock >= job.exited_at + PIPE_DRAIN:
                self._maybe_done(job, force=True)

    # -- starting a job -------------------------------------------------------------------

    def begin(self, claim: Claim, *, keep_spare: bool) -> None:
        """Start `claim`'s job; with `keep_spare`, fork the spare for the next one."""
        job = self._launcher.assign(self._take_spare(), claim)
        self.jobs[job.key] = job
        assert job.order_fd is not None
        for fd in [*job.fds, job.order_fd]:
            self.fd_jobs[fd] = job
        for fd in job.fds:
            self.selector.register(fd, selectors.EVENT_READ, self.on_pipe)
        self._send_order(job)
        if job.exit_code is not None:  # the spare had exited already
            log_usage(job)
        if keep_spare:
            self.spare = self._spawn()
        log.info(
            "job_claimed job=%d task=%s attempt=%d phase=%s",
            claim.job_id, claim.name, claim.attempt, "epilog" if claim.epilog else "run",
        )  # fmt: skip

    def close(self) -> None:
        """Close the spare's pipes (which ends its process)."""
        if self.spare is not None:
            self.spare.close()

    def release(self) -> list[RunningJob]:
        """Forget every job still held (the runner is shutting down); those jobs."""
        jobs = self.running()
        self.jobs.clear()
        return jobs

    @property
    def _launcher(self) -> Launcher:
        assert self.launcher is not None, "no job can start before the runner has registered"
        return self.launcher

    def _spawn(self) -> Spare:
        return self._launcher.spawn(next(self.keys))

    def _take_spare(self) -> Spare:
        spare, self.spare = self.spare, None
        if spare is not None and spare.exit_code is None:
            return spare
        if spare is not None:
            spare.close()
        return self._spawn()

    def _send_order(self, job: RunningJob) -> None:
        assert job.order is not None and job.order_fd is not None
        try:
            job.order = job.order[os.write(job.order_fd, job.order) :]
        except BlockingIOError:
            pass
        except BrokenPipeError:
            job.order = job.order[:0]
        if job.order:
            if job.order_fd not in self.selector.get_map():
                self.selector.register(job.order_fd, selectors.EVENT_WRITE, self.on_order)
            return
        if job.order_fd in self.selector.get_map():
            self.selector.unregister(job.order_fd)
        self.fd_jobs.pop(job.order_fd, None)
        os.close(job.order_fd)
        job.order_fd = job.order = None

    # -- what happens to a running job ----------------------------------------------------

    def on_order(self, fd: int) -> None:
        """The job's order pipe can take more of the order."""
        self._send_order(self.fd_jobs[fd])

    def on_pipe(self, fd: int) -> None:
        """One of the job's pipes (control, stdout, stderr) has data or reached end of file."""
        job = self.fd_jobs[fd]
        try:
            data = os.read(fd, 1 << 16)
        except BlockingIOError:
            return
        if data:
            job.on_data(fd, data)
            return
        self.selector.unregister(fd)
        del self.fd_jobs[fd]
        job.on_eof(fd)
        self._maybe_done(job)

    def on_server(self, messages: list[Message]) -> None:
        """The fork server's reports: a process started (its pid) or exited (its code), or
        the lease lapsed and it killed jobs."""
        for message in messages:
            if message["op"] == FENCED:
                self._on_fenced(message["keys"])
                continue
            key = int(message["key"])
            if self.spare is not None and key == self.spare.key:
                self._on_spare(message)
                continue
            job = self.jobs.get(key)
            if job is None:
                continue
            if message["op"] == STARTED:
                job.on_started(int(message["pid"]))
            elif message["op"] == EXITED:
                job.on_exited(int(message["code"]), message)
                log_usage(job)
                self._maybe_done(job)

    def _on_fenced(self, keys: list[int]) -> None:
        if self.spare is not None and self.spare.key in keys:
            self.spare.close()  # dead, or about to be: its exit report may come after a claim
            self.spare = None
        for job in (self.jobs[key] for key in keys if key in self.jobs):
            log.error("job_fenced job=%d: the lease was not renewed in time; killed", job.job_id)
            if job.kill_reason not in (KillReason.ABORTED, KillReason.ABANDONED):
                job.kill_reason = KillReason.FENCED

    def _on_spare(self, message: Message) -> None:
        assert self.spare is not None
        if message["op"] == STARTED:
            self.spare.pid = int(message["pid"])
        elif message["op"] == EXITED:
            self.spare.exit_code = int(message["code"])
            self.spare.exited = message

    def _maybe_done(self, job: RunningJob, *, force: bool = False) -> None:
        if not (job.done or force):
            return
        for fd in [*job.fds, job.order_fd]:
            if fd is not None and fd in self.selector.get_map():
                self.selector.unregister(fd)
            self.fd_jobs.pop(fd, None)  # type: ignore[arg-type]
        job.close()
        del self.jobs[job.key]
        self.on_done(job)


def log_usage(job: RunningJob) -> None:
    """One line per ended run with what it cost: `job_usage job=N attempt=A realtime=...`."""
    if job.usage is not None:
        attempt = job.claim.attempt
        log.info("job_usage job=%d attempt=%d %s", job.job_id, attempt, job.usage.log_text())
