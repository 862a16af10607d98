"""The runner's main loop: claim jobs into free slots, follow their processes, record their end.

One thread owns every job. It waits in `select()` on the fork server's socket, the jobs' pipes
(`Slots`) and the `Mailbox` (thread events and signals), and acts on timers: flushing captured
output into tags, polling for aborts, escalating kills, ending the shutdown grace period. When
to look for work and claiming it are the `Claimer`'s business (`bt.runner.claiming`); the
database writes about held jobs are `bt.runner.record`'s.
"""

from __future__ import annotations

import logging
import os
import selectors
import time
from typing import Any

from bt import errors
from bt.client import Brownthrower
from bt.runner.claiming import Claimer
from bt.runner.forkserver import ForkServer
from bt.runner.launch import Launcher
from bt.runner.options import (
    FLUSH_INTERVAL,
    PG_POLL_FACTOR,
    RunnerOptions,
    RunOutcome,
    StopReason,
)
from bt.runner.record import Recorded, flush, give_back, kill_released, record
from bt.runner.running import KillReason, RunningJob
from bt.runner.slots import Slots
from bt.runner.threads import Event, EventKind, Helpers, Mailbox
from bt.status import Status
from bt.values import RunnerInfo

log = logging.getLogger("bt.runner")

PREEMPTION_HOLD = 2.0  #: seconds a job SIGTERMed from outside waits for the runner's own signal
RECORD_RETRY = 1.0  #: seconds between attempts to record the jobs whose recording failed
_JOB_OK = (Status.DONE, Status.STAND_BY)  #: how the job of `--job` ends for the run to succeed


class Runner:
    """One runner daemon on one database, over a fork server started before it."""

    def __init__(
        self, app: Brownthrower, server: ForkServer, options: RunnerOptions, tasks: list[str]
    ) -> None:
        self.app, self.claims, self.server = app, app.claims, server
        self.options, self.tasks = options, tasks
        self.mailbox = Mailbox()
        self.helpers = Helpers(self.mailbox)
        self.selector = selectors.DefaultSelector()
        self.slots = Slots(self.selector, self._on_done)
        self.unrecorded: list[RunningJob] = []  #: done, but not recorded yet
        self.stopping: StopReason | None = None
        self.lost = False
        self.last_status: Status | None = None
        self.poll = options.poll * (PG_POLL_FACTOR if app.db.is_postgresql else 1.0)
        self.claimer = Claimer(
            app, self.slots, options, tasks, poll=self.poll, is_stopping=self._is_stopping
        )
        self.next_flush = self.next_abort_poll = 0.0
        self.grace_end: float | None = None
        self.signals = self.signals_seen = 0
        self.info = RunnerInfo(0, "")

    # -- life cycle -----------------------------------------------------------------------

    def run(self) -> RunOutcome:
        """Run until drained, stopped or (with `--job`) the job is done; how it ended."""
        try:
            self._start()
            self._loop()
        finally:
            self._shutdown()
        if self.lost:
            return RunOutcome.LOST
        if self.options.job_id is not None and self.last_status not in _JOB_OK:
            return RunOutcome.JOB_FAILED
        return RunOutcome.DRAINED if self.stopping is None else RunOutcome.STOPPED

    def _start(self) -> None:
        o = self.options
        self.info = self.app.runners.register(
            host=os.uname().nodename,
            pid=os.getpid(),
            slots=o.slots,
            tasks=self.tasks,
            lease=o.lease,
        )
        self.slots.launcher = Launcher(self.server, o, self.info.id, self.app.db.url)
        self.claimer.runner_id = self.info.id
        self.selector.register(self.mailbox.read_fd, selectors.EVENT_READ, self._on_mail)
        self.selector.register(self.server.fileno(), selectors.EVENT_READ, self._on_server)
        self.mailbox.catch_signals(self._on_signal)
        listen_url = self.app.db.url if self.app.db.is_postgresql else None
        self.helpers.start(self.app.runners, self.info.id, o.lease, listen_url)
        tasks, db = ",".join(self.tasks), self.app.db.masked_url
        log.info(
            "runner_started runner=%d pid=%d slots=%d mode=%s tasks=%s db=%s",
            self.info.id, os.getpid(), o.slots, o.mode, tasks, db,
        )  # fmt: skip

    def _shutdown(self) -> None:
        self.slots.kill_all(KillReason.PREEMPTED, now=True)
        self.helpers.stop()
        give_back(self.claims, self.slots.release(), self.unrecorded)
        self.slots.close()
        self.mailbox.release_signals()
        self.server.stop()
        if self.info.id and self.stopping is not StopReason.LOST:
            try:
                self.app.runners.unregister(self.info.id)
            except errors.BrownthrowerError as exc:
                log.warning("unregister_failed runner=%d: %s", self.info.id, exc)
        self.mailbox.close()
        reason = self.stopping or StopReason.DRAINED
        log.info("runner_stopped runner=%d reason=%s", self.info.id, reason)

    # -- the loop ---------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            self._handle_signals()
            self.claimer.fill()
            if self._finished():
                return
            for key, _mask in self.selector.select(self._timeout()):
                key.data(key.fd)
            self._tick(time.monotonic())

    def _finished(self) -> bool:
        if self.slots or self.unrecorded:
            return False
        return self.stopping is not None or self.claimer.done()

    def _timeout(self) -> float:
        clock = time.monotonic()
        moments = [clock + self.poll]
        if (claim_at := self.claimer.due_at()) is not None:
            moments.append(claim_at)
        if self.slots:
            moments += [self.next_flush, self.next_abort_poll, *self.slots.deadlines()]
        if self.grace_end is not None:
            moments.append(self.grace_end)
        if self.unrecorded:
            moments.append(clock + RECORD_RETRY)
        return max(0.0, min(moments) - clock)

    def _tick(self, clock: float) -> None:
        if self.slots and clock >= self.next_flush:
            self.next_flush = clock + FLUSH_INTERVAL
            for job in self.slots.running():
                flush(self.claims, job, clock)
        if self.slots and clock >= self.next_abort_poll:
            self.next_abort_poll = clock + self.poll
            kill_released(self.claims, self.slots.running())
        self.slots.tick(clock)
        if self.grace_end is not None and clock >= self.grace_end:
            self.grace_end = None
            self.slots.kill_all(KillReason.PREEMPTED)
        for job in list(self.unrecorded):
            self._record(job)

    # -- recording --------------------------------------------------------------------------

    def _on_done(self, job: RunningJob) -> None:
        self.claimer.wake()
        self._record(job, claim_next=self.claimer.may_claim())

    def _record(self, job: RunningJob, *, claim_next: bool = False) -> None:
        if self._held_for_preemption(job):
            self._defer(job)
            return
        following = self.claimer.following() if claim_next else None
        try:
            recorded = record(self.claims, job, following)
        except errors.BrownthrowerError as exc:
            log.error("job_record_failed job=%d: %s (will retry)", job.job_id, exc)
            self._defer(job)
            return
        self._recorded(job, recorded)

    def _recorded(self, job: RunningJob, recorded: Recorded) -> None:
        self.last_status = recorded.status
        if job in self.unrecorded:
            self.unrecorded.remove(job)
        if recorded.tried:
            self.claimer.took(recorded.next)

    def _defer(self, job: RunningJob) -> None:
        if job not in self.unrecorded:
            self.unrecorded.append(job)

    def _held_for_preemption(self, job: RunningJob) -> bool:
        """A job SIGTERMed from outside is pre-empted, not failed, when the runner is being
        stopped by a signal too (`scancel`, a walltime kill signals every process of the pilot):
        wait briefly for the runner's own signal before deciding."""
        if not job.terminated_from_outside:
            return False
        if self.signals:
            job.kill_reason = KillReason.PREEMPTED
            return False
        if job.held_until is None:
            job.held_until = time.monotonic() + PREEMPTION_HOLD
        return time.monotonic() < job.held_until

    # -- events and signals -----------------------------------------------------------------

    def _on_server(self, _fd: int) -> None:
        self.slots.on_server(self.server.receive())

    def _on_mail(self, _fd: int) -> None:
        for event in self.mailbox.take():
            self._on_event(event)

    def _on_event(self, event: Event) -> None:
        match event.kind:
            case EventKind.WORK:
                self.claimer.wake()
            case EventKind.RESYNC:
                self.claimer.wake()
                self.next_abort_poll = 0.0
            case EventKind.ABORT:
                kill_released(self.claims, self.slots.with_id(event.job_id))
            case EventKind.STOP:
                self._begin_stop(StopReason.REQUESTED, grace=None)
            case EventKind.LOST:
                self._on_lost(event.detail)

    def _on_lost(self, detail: str) -> None:
        log.error("runner_lost runner=%d: %s; killing its jobs", self.info.id, detail)
        self.lost = True
        self._begin_stop(StopReason.LOST, grace=None)
        self.slots.kill_all(KillReason.ABANDONED, now=True)

    def _on_signal(self, signum: int, _frame: Any) -> None:
        self.signals += 1

    def _handle_signals(self) -> None:
        if self.signals == self.signals_seen:
            return
        first = self.signals_seen == 0
        self.signals_seen = self.signals
        if first:
            self._begin_stop(StopReason.SIGNAL, grace=self.options.grace)
            return
        log.warning("runner_stopping_now: second signal, killing %d job(s)", len(self.slots))
        self.slots.kill_all(KillReason.PREEMPTED, now=True)

    def _is_stopping(self) -> bool:
        return self.stopping is not None

    def _begin_stop(self, reason: StopReason, *, grace: float | None) -> None:
        if self.stopping is None:
            self.stopping = reason
            log.info("runner_stopping reason=%s jobs=%d grace=%s", reason, len(self.slots), grace)
        if grace is not None:
            self.grace_end = time.monotonic() + grace
