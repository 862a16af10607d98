"""The runner's main loop: claim jobs into free slots, follow their processes, record their end.

One thread owns every job. It waits in `select()` on the fork server's socket, the jobs' pipes
and the `Mailbox` (thread events and signals), and acts on timers: flushing captured output into
tags, polling for aborts, escalating kills, ending the shutdown grace period.
"""

from __future__ import annotations

import itertools
import logging
import os
import selectors
import signal
import time
from collections.abc import Callable
from typing import Any

from bt import errors, tagnames
from bt.cli.common import RET_ERROR, RET_OK
from bt.client import Brownthrower
from bt.notify import Listener
from bt.runner.forkserver import EXITED, STARTED, ForkServer
from bt.runner.launch import Launcher, Spare
from bt.runner.options import FLUSH_INTERVAL, PG_POLL_FACTOR, RunnerOptions
from bt.runner.record import ClaimNext, record
from bt.runner.running import ABANDONED, ABORTED, PREEMPTED, RunningJob
from bt.runner.threads import Event, Heartbeat, Mailbox, event_of
from bt.status import Status
from bt.values import Claim, RunnerInfo

log = logging.getLogger("bt.runner")

FIRST_BACKOFF = 0.05  #: seconds before the first re-poll when no work was found
PIPE_DRAIN = 1.0  #: seconds to wait for a job's pipes to close once its process has exited
LISTENER_READY = 5.0  #: seconds to wait for LISTEN before claiming (aborts arrive by NOTIFY)
PREEMPTION_HOLD = 2.0  #: seconds a job SIGTERMed from outside waits for the runner's own signal

Callback = Callable[[int], None]


class Runner:
    """One runner daemon on one database, over a fork server started before it."""

    def __init__(
        self, app: Brownthrower, server: ForkServer, options: RunnerOptions, tasks: list[str]
    ) -> None:
        self.app, self.claims, self.server = app, app.claims, server
        self.options, self.tasks = options, tasks
        self.mailbox = Mailbox()
        self.selector = selectors.DefaultSelector()
        self.jobs: dict[int, RunningJob] = {}
        self.fd_jobs: dict[int, RunningJob] = {}
        self.unrecorded: list[RunningJob] = []
        self.keys = itertools.count(1)
        self.stopping: str | None = None
        self.exit_code = RET_OK
        self.idle = False
        self.claimed_single = False
        self.last_status: Status | None = None
        self.poll = options.poll * (PG_POLL_FACTOR if app.db.is_postgresql else 1.0)
        self.backoff = FIRST_BACKOFF
        self.next_claim = self.next_flush = self.next_abort_poll = 0.0
        self.grace_end: float | None = None
        self.signals = self.signals_seen = 0
        self.info = RunnerInfo(0, "")
        self.spare: Spare | None = None
        self.heartbeat: Heartbeat | None = None
        self.listener: Listener | None = None

    # -- life cycle -----------------------------------------------------------------------

    def run(self) -> int:
        """Run until drained, stopped or (with `--job`) the job is done; the exit status."""
        try:
            self._start()
            self._loop()
        finally:
            self._shutdown()
        if self.options.job_id is not None and self.exit_code == RET_OK:
            ok = self.last_status in (Status.DONE, Status.STAND_BY)
            return RET_OK if ok else RET_ERROR
        return self.exit_code

    def _start(self) -> None:
        o = self.options
        self.info = self.app.runners.register(
            host=os.uname().nodename,
            pid=os.getpid(),
            slots=o.slots,
            tasks=self.tasks,
            lease=o.lease,
        )
        self.launcher = Launcher(self.server, o, self.info.id, self.app.db.url)
        self._watch(self.mailbox.read_fd, self._on_mail)
        self._watch(self.server.fileno(), self._on_server)
        signal.set_wakeup_fd(self.mailbox.write_fd, warn_on_full_buffer=False)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        self.heartbeat = Heartbeat(self.app.runners, self.info.id, o.lease, self.mailbox)
        self.heartbeat.start()
        if self.app.db.is_postgresql:
            self.listener = Listener(self.app.db.url, lambda n: self.mailbox.post(event_of(n)))
            self.listener.start()
            self.listener.ready.wait(LISTENER_READY)
        self.heartbeat.recover()
        mode = "job" if o.job_id is not None else ("loop" if o.loop else "drain")
        log.info(
            "runner_started runner=%d pid=%d slots=%d mode=%s tasks=%s db=%s",
            self.info.id, os.getpid(), o.slots, mode, ",".join(self.tasks), self.app.db.masked_url,
        )  # fmt: skip

    def _shutdown(self) -> None:
        for job in list(self.jobs.values()):
            job.kill(PREEMPTED, now=True)
        for thread in (self.heartbeat, self.listener):
            if thread is not None:
                thread.stopped.set()
        self._requeue_left()
        if self.spare is not None:
            self.spare.close()
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        self.server.stop()
        if self.info.id and self.stopping != "lost":
            try:
                self.app.runners.unregister(self.info.id)
            except errors.BrownthrowerError as exc:
                log.warning("unregister_failed runner=%d: %s", self.info.id, exc)
        self.mailbox.close()
        log.info("runner_stopped runner=%d reason=%s", self.info.id, self.stopping or "drained")

    def _requeue_left(self) -> None:
        """Jobs still held when the loop ends abnormally go back to the queue."""
        for job in list(self.jobs.values()) + self.unrecorded:
            try:
                if job in self.unrecorded:
                    record(self.claims, job)
                else:
                    self.claims.requeue(job.claim, clear_tags=True)
                    log.info("job_requeued job=%d", job.job_id)
            except errors.BrownthrowerError as exc:
                log.error("job_record_failed job=%d: %s", job.job_id, exc)
            job.close()
        self.jobs.clear()

    # -- the loop ---------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            self._handle_signals()
            self._fill()
            if self._finished():
                return
            for key, _mask in self.selector.select(self._timeout()):
                key.data(key.fd)
            self._tick(time.monotonic())

    def _finished(self) -> bool:
        if self.jobs or self.unrecorded:
            return False
        if self.stopping is not None:
            return True
        if self.options.job_id is not None:
            return self.claimed_single
        return self.idle and not self.options.loop

    def _timeout(self) -> float:
        clock = time.monotonic()
        moments = [clock + self.poll]
        if self._may_claim():
            moments.append(self.next_claim)
        if self.jobs:
            moments += [self.next_flush, self.next_abort_poll]
            moments += [j.kill_at for j in self.jobs.values() if j.kill_at is not None]
            moments += [j.exited_at + PIPE_DRAIN for j in self.jobs.values() if j.exited_at]
        if self.grace_end is not None:
            moments.append(self.grace_end)
        if self.unrecorded:
            moments.append(clock + 1.0)
        return max(0.0, min(moments) - clock)

    def _may_claim(self) -> bool:
        free = len(self.jobs) < self.options.slots
        return free and self.stopping is None and self.options.job_id is None

    def _fill(self) -> None:
        if self.options.job_id is not None:
            if not self.claimed_single and self.stopping is None:
                self.claimed_single = True
                self._begin(self._claim_single(self.options.job_id))
            return
        while self._may_claim() and time.monotonic() >= self.next_claim:
            if self._claim() is None:
                return

    def _claim(self) -> Claim | None:
        try:
            claim = self.claims.claim(self.info.id, self.tasks)
        except errors.BrownthrowerError as exc:
            log.warning("claim_failed: %s", exc)
            claim = None
        return self._after_claim(claim)

    def _after_claim(self, claim: Claim | None) -> Claim | None:
        """Note whether work was found; start the claimed job, if any."""
        if claim is None:
            self.idle = True
            self.next_claim = time.monotonic() + self.backoff
            self.backoff = min(self.backoff * 2, self.poll)
            return None
        self.idle, self.backoff = False, FIRST_BACKOFF
        self._begin(claim)
        return claim

    def _claim_single(self, job_id: int) -> Claim:
        name = self.app.jobs.info(job_id).name
        if name not in self.tasks:
            raise errors.InvalidOperation(
                f"Job {job_id} runs task {name!r}, which this runner does not run "
                "(not installed here, or not matching --tasks)."
            )
        return self.claims.claim_job(job_id, self.info.id, submit=self.options.submit)

    def _begin(self, claim: Claim) -> None:
        spare, self.spare = self.spare, None
        if spare is None or spare.exit_code is not None:
            if spare is not None:
                spare.close()
            spare = self.launcher.spawn(next(self.keys))
        job = self.launcher.assign(spare, claim)
        self.jobs[job.key] = job
        assert job.order_fd is not None
        for fd in [*job.fds, job.order_fd]:
            self.fd_jobs[fd] = job
        for fd in job.fds:
            self._watch(fd, self._on_pipe)
        self._send_order(job)
        if self.stopping is None and self.options.job_id is None:
            self.spare = self.launcher.spawn(next(self.keys))
        log.info(
            "job_claimed job=%d task=%s attempt=%d phase=%s",
            claim.job_id, claim.name, claim.attempt, "epilog" if claim.epilog else "run",
        )  # fmt: skip

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
                self.selector.register(job.order_fd, selectors.EVENT_WRITE, self._on_order)
            return
        if job.order_fd in self.selector.get_map():
            self.selector.unregister(job.order_fd)
        self.fd_jobs.pop(job.order_fd, None)
        os.close(job.order_fd)
        job.order_fd = job.order = None

    # -- events -----------------------------------------------------------------------------

    def _watch(self, fd: int, callback: Callback) -> None:
        self.selector.register(fd, selectors.EVENT_READ, callback)

    def _job_of(self, fd: int) -> RunningJob:
        return self.fd_jobs[fd]

    def _on_order(self, fd: int) -> None:
        self._send_order(self._job_of(fd))

    def _on_pipe(self, fd: int) -> None:
        job = self._job_of(fd)
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

    def _on_server(self, _fd: int) -> None:
        for message in self.server.receive():
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
                job.on_exited(int(message["code"]))
                self._maybe_done(job)

    def _on_spare(self, message: dict[str, Any]) -> None:
        assert self.spare is not None
        if message["op"] == STARTED:
            self.spare.pid = int(message["pid"])
        elif message["op"] == EXITED:
            self.spare.exit_code = int(message["code"])

    def _maybe_done(self, job: RunningJob, *, force: bool = False) -> None:
        if not (job.done or force):
            return
        for fd in [*job.fds, job.order_fd]:
            if fd is not None and fd in self.selector.get_map():
                self.selector.unregister(fd)
            self.fd_jobs.pop(fd, None)  # type: ignore[arg-type]
        job.close()
        del self.jobs[job.key]
        self.next_claim = 0.0
        self._record(job, claim_next=self._may_claim())

    def _held_for_preemption(self, job: RunningJob) -> bool:
        """A job SIGTERMed from outside is pre-empted, not failed, when the runner is being
        stopped by a signal too (`scancel`, a walltime kill signals every process of the pilot):
        wait briefly for the runner's own signal before deciding."""
        if not job.terminated_from_outside:
            return False
        if self.signals:
            job.kill_reason = PREEMPTED
            return False
        if job.held_until is None:
            job.held_until = time.monotonic() + PREEMPTION_HOLD
        return time.monotonic() < job.held_until

    def _record(self, job: RunningJob, *, claim_next: bool = False) -> None:
        if self._held_for_preemption(job):
            if job not in self.unrecorded:
                self.unrecorded.append(job)
            return
        following = ClaimNext(self.info.id, self.tasks) if claim_next else None
        try:
            recorded = record(self.claims, job, following)
        except errors.BrownthrowerError as exc:
            log.error("job_record_failed job=%d: %s (will retry)", job.job_id, exc)
            if job not in self.unrecorded:
                self.unrecorded.append(job)
            return
        self.last_status = recorded.status
        if job in self.unrecorded:
            self.unrecorded.remove(job)
        if recorded.tried:
            self._after_claim(recorded.next)

    def _on_mail(self, _fd: int) -> None:
        for event in self.mailbox.take():
            self._on_event(event)

    def _on_event(self, event: Event) -> None:
        if event.kind in ("work", "resync"):
            self.next_claim = 0.0
            if event.kind == "resync":
                self.next_abort_poll = 0.0
        elif event.kind == "abort":
            self._check_aborts([j for j in self.jobs.values() if j.job_id == event.job_id])
        elif event.kind == "stop":
            self._begin_stop(event.detail, grace=None)
        elif event.kind == "lost":
            log.error("runner_lost runner=%d: %s; killing its jobs", self.info.id, event.detail)
            self.exit_code = RET_ERROR
            self._begin_stop("lost", grace=None)
            for job in self.jobs.values():
                job.kill(ABANDONED, now=True)

    def _on_signal(self, signum: int, _frame: Any) -> None:
        self.signals += 1

    def _handle_signals(self) -> None:
        if self.signals == self.signals_seen:
            return
        first = self.signals_seen == 0
        self.signals_seen = self.signals
        if first:
            self._begin_stop("signal", grace=self.options.grace)
            return
        log.warning("runner_stopping_now: second signal, killing %d job(s)", len(self.jobs))
        for job in self.jobs.values():
            job.kill(PREEMPTED, now=True)

    def _begin_stop(self, reason: str, *, grace: float | None) -> None:
        if self.stopping is None:
            self.stopping = reason
            log.info("runner_stopping reason=%s jobs=%d grace=%s", reason, len(self.jobs), grace)
        if grace is not None:
            self.grace_end = time.monotonic() + grace

    # -- timers -----------------------------------------------------------------------------

    def _tick(self, clock: float) -> None:
        if self.jobs and clock >= self.next_flush:
            self.next_flush = clock + FLUSH_INTERVAL
            for job in list(self.jobs.values()):
                self._flush(job, clock)
        if self.jobs and clock >= self.next_abort_poll:
            self.next_abort_poll = clock + self.poll
            self._check_aborts(list(self.jobs.values()))
        for job in list(self.jobs.values()):
            job.escalate(clock)
            if job.exited_at is not None and clock >= job.exited_at + PIPE_DRAIN:
                self._maybe_done(job, force=True)
        if self.grace_end is not None and clock >= self.grace_end:
            self.grace_end = None
            for job in self.jobs.values():
                job.kill(PREEMPTED)
        for job in list(self.unrecorded):
            self._record(job)

    def _flush(self, job: RunningJob, clock: float) -> None:
        if job.kill_reason is not None or clock - job.started < FLUSH_INTERVAL / 2:
            return
        tags = job.live_tags()
        if not job.runner_info.get("flushed"):
            tags[tagnames.RUNNER] = job.runner_tag()
            job.runner_info["flushed"] = True
        try:
            self.claims.put_tags(job.claim, tags)
        except errors.TokenMismatch:
            self._kill_aborted(job)
        except errors.BrownthrowerError as exc:
            log.warning("flush_failed job=%d: %s", job.job_id, exc)

    def _check_aborts(self, jobs: list[RunningJob]) -> None:
        candidates = [j for j in jobs if j.kill_reason is None]
        if not candidates:
            return
        try:
            released = set(self.claims.released([j.claim for j in candidates]))
        except errors.BrownthrowerError as exc:
            log.warning("abort_check_failed: %s", exc)
            return
        for job in candidates:
            if job.job_id in released:
                self._kill_aborted(job)

    def _kill_aborted(self, job: RunningJob) -> None:
        log.info("job_abort job=%d: no longer held by this run; killing it", job.job_id)
        job.kill(ABORTED)
