"""The runner's main loop: claim jobs into free slots, follow their processes, record their end.

One thread owns every job. It waits in `select()` on the fork server's socket, the jobs' pipes
(`Slots`) and the `Mailbox` (thread events and signals), and acts on timers. Claiming is the
`Claimer`'s (`bt.runner.claiming`), recording and the writes about running jobs are the
`Recorder`'s and the `Upkeep`'s (`bt.runner.recording`), stopping is `Stopping`'s, and the lease
is the heartbeat's (`bt.runner.heartbeat`) and, when the runner stalls, the fork server's.
"""

from __future__ import annotations

import functools
import logging
import os
import selectors
import time

from bt import errors
from bt.client import Brownthrower
from bt.runner import osutil
from bt.runner.claiming import Claimer
from bt.runner.environ import database_scope
from bt.runner.forkserver import ForkServer
from bt.runner.health import Health
from bt.runner.heartbeat import Lease
from bt.runner.launch import Launcher
from bt.runner.mailbox import Event, EventKind, Mailbox
from bt.runner.options import PG_POLL_FACTOR, RunnerOptions, RunOutcome, StopReason
from bt.runner.pacing import JITTER
from bt.runner.recording import RECORD_RETRY, Recorder, Upkeep
from bt.runner.running import KillReason, RunningJob
from bt.runner.slots import Slots
from bt.runner.stopping import Stopping
from bt.runner.sweep import sweep
from bt.runner.threads import Helpers
from bt.status import Status
from bt.values import RunnerInfo

log = logging.getLogger("bt.runner")

_JOB_OK = (Status.DONE, Status.STAND_BY)  #: how the job of `--job` ends for the run to succeed


class Runner:
    """One runner daemon on one database, over a fork server started before it."""

    def __init__(
        self, app: Brownthrower, server: ForkServer, options: RunnerOptions, tasks: list[str]
    ) -> None:
        self.app, self.claims, self.server = app, app.claims, server
        self.options, self.tasks = options, tasks
        self.mailbox, self.health = Mailbox(), Health()
        self.lease = Lease(options.lease, server)
        self.helpers = Helpers(self.mailbox, self.health)
        self.selector = selectors.DefaultSelector()
        self.slots = Slots(self.selector, self._on_done)
        self.stopping = Stopping(self.slots, options.grace)
        self.lost = False
        db = app.db
        self.poll = options.idle_poll if db.is_postgresql else options.poll  #: idle looks
        self.check_every = options.poll * (PG_POLL_FACTOR if db.listens else 1.0)  #: aborts
        self.claimer = Claimer(
            app, self.slots, options, tasks, poll=self.poll, is_stopping=self.stopping.__bool__,
            health=self.health, leased=self.lease.valid,
            jitter=JITTER if db.is_postgresql else 0.0,
        )  # fmt: skip
        signalled = lambda: self.stopping.signals > 0  # noqa: E731
        self.recorder = Recorder(self.claims, self.claimer, self.health, signalled)
        self.upkeep = Upkeep(self.claims, self.claimer, self.health, self.check_every)
        self.info = RunnerInfo(0, "")
        self.went_round = time.monotonic()  #: when the main loop last went round
        self.idle_since: float | None = None  #: since when it holds no job and finds none

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
        if self.options.job_id is not None and self.recorder.last_status not in _JOB_OK:
            return RunOutcome.JOB_FAILED
        return RunOutcome.STOPPED if self.stopping else RunOutcome.DRAINED

    def _start(self) -> None:
        o, lease = self.options, self.lease
        began = osutil.clock()
        self._joined(self._register())
        lease.renewed(began)
        self.selector.register(self.mailbox.read_fd, selectors.EVENT_READ, self._on_mail)
        self.selector.register(self.server.fileno(), selectors.EVENT_READ, self._on_server)
        self.mailbox.catch_signals(self.stopping.on_signal)
        rejoin = self._register if o.job_id is None else None
        sweeper = functools.partial(sweep, self.claims, database_scope(self.app.db.url))
        self.helpers.start(
            self.app.runners, self.info.id, lease, self.app.db,
            rejoin=rejoin, sweeper=sweeper, busy=self._busy, progressing=self._progressing,
        )  # fmt: skip
        self.claimer.heartbeat = self.helpers.heartbeat
        tasks, db = ",".join(self.tasks), self.app.db.masked_url
        log.info(
            "runner_started runner=%d pid=%d slots=%d mode=%s tasks=%s db=%s",
            self.info.id, os.getpid(), o.slots, o.mode, tasks, db,
        )  # fmt: skip

    def _register(self) -> RunnerInfo:
        host, slots, lease = os.uname().nodename, self.options.slots, self.options.lease
        return self.app.runners.register(
            host=host, pid=os.getpid(), slots=slots, tasks=self.tasks, lease=lease
        )

    def _joined(self, info: RunnerInfo) -> None:
        """Claim, and start jobs, as runner `info` from now on."""
        self.info, self.claimer.runner_id = info, info.id
        self.claimer.forget()  # claims of a lost registration: recovered by another runner
        self.slots.launcher = Launcher(self.server, self.options, info.id, self.app.db.url)
        self.claimer.wake()

    def _shutdown(self) -> None:
        self.slots.kill_all(KillReason.PREEMPTED, now=True)
        self.helpers.stop()
        self.recorder.give_back(self.slots.release(), self.claimer.forget())
        self.slots.close()
        self.mailbox.release_signals()
        self.server.stop()
        if self.info.id and self.stopping.reason is not StopReason.LOST:
            try:
                self.app.runners.unregister(self.info.id)
            except errors.BrownthrowerError as exc:
                log.warning("unregister_failed runner=%d: %s", self.info.id, exc)
        self.mailbox.close()
        reason = self.stopping.reason or StopReason.DRAINED
        log.info("runner_stopped runner=%d reason=%s", self.info.id, reason)

    # -- the loop ---------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            self.went_round = time.monotonic()
            self.stopping.handle()
            self.claimer.start_ready()
            self.recorder.settle()
            was_busy = self._busy()
            self.claimer.fill()
            if not was_busy and self._busy():
                self.helpers.poke()  # an idle runner's lease may be low: renew it soon
            if self._finished():
                return
            for key, _mask in self.selector.select(self._timeout()):
                key.data(key.fd)
            self._tick(time.monotonic())

    def _busy(self) -> bool:
        """Whether the runner holds jobs (running, or claimed and waiting for a slot)."""
        return bool(self.slots or self.claimer.ready)

    def _progressing(self) -> bool:
        """Whether the main loop went round within half a lease (it wakes every quarter)."""
        return time.monotonic() - self.went_round < self.options.lease / 2

    def _finished(self) -> bool:
        if self.slots or self.recorder or self.claimer.ready:
            self.idle_since = None
            return False
        if self._idle_too_long():
            self.stopping.begin(StopReason.IDLE, grace=None)
        return bool(self.stopping) or self.claimer.done()

    def _idle_too_long(self) -> bool:
        """`--idle-exit`: whether the looping runner found no work for that long."""
        if not self.claimer.pacer.idle:
            self.idle_since = None
            return False
        now = time.monotonic()
        self.idle_since = now if self.idle_since is None else self.idle_since
        limit = self.options.idle_exit
        return limit is not None and not self.stopping and now - self.idle_since >= limit

    def _timeout(self) -> float:
        clock = time.monotonic()
        moments = [clock + self.poll, clock + self.lease.interval]
        if (claim_at := self.claimer.due_at()) is not None:
            moments.append(claim_at)
        if (hold_end := self.claimer.hold_ends_at()) is not None:
            moments.append(hold_end)
        if self.slots:
            moments += [*self.upkeep.moments(), *self.slots.deadlines()]
        if self.stopping.grace_end is not None:
            moments.append(self.stopping.grace_end)
        if self.idle_since is not None and self.options.idle_exit is not None:
            moments.append(self.idle_since + self.options.idle_exit)
        if self.recorder.unrecorded:
            moments.append(clock + RECORD_RETRY)
        if (record_at := self.recorder.due_at()) is not None:
            moments.append(record_at)
        return max(0.0, min(moments) - clock)

    def _tick(self, clock: float) -> None:
        if self.slots:
            self.upkeep.tick(clock, self.slots.running())
        self.slots.tick(clock)
        self.recorder.give_back_unstarted(self.claimer.overdue(clock))
        self.stopping.tick(clock)
        self.recorder.retry()

    def _on_done(self, job: RunningJob) -> None:
        self.claimer.ran(time.monotonic() - job.started)
        self.claimer.wake()
        self.recorder.add(job)

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
                self.upkeep.check_soon()
            case EventKind.ABORT:
                self.upkeep.check(self.slots.with_id(event.job_id))
            case EventKind.CHANGED:
                self.upkeep.check(self.slots.running())
            case EventKind.STOP:
                self.stopping.begin(StopReason.REQUESTED, grace=None)
            case EventKind.LOST:
                self._on_lost(event.detail)
            case EventKind.JOINED if event.info is not None:
                log.warning("runner_joined runner=%d (was %d)", event.info.id, self.info.id)
                self._joined(event.info)

    def _on_lost(self, detail: str) -> None:
        log.error("runner_lost runner=%d: %s; killing its jobs", self.info.id, detail)
        self.slots.kill_all(KillReason.ABANDONED, now=True)
        self.claimer.forget()  # another runner recovers them, like the running ones
        self.claimer.runner_id = 0  # claims nothing until it has registered again
        if self.options.job_id is not None:
            self.lost = True
            self.stopping.begin(StopReason.LOST, grace=None)
