"""The heartbeat thread: renews the runner's lease, hands it to the fork server, recovers others.

After each renewal the fork server learns until when the runner's jobs may run (`Lease`): the
lease less the safety margin, counted from the moment the renewal began (`bt.runners` has the
rule). The lease is renewed every quarter lease while the runner holds jobs, every half lease
while it is idle (nothing of it is at stake then: a farm of idle pilots costs half as much), and
only while the main loop makes progress: a runner whose loop hangs (in a black-holed query, say)
lets its lease lapse, so its jobs are fenced and recovered rather than kept forever. A failed
renewal is retried with capped exponential backoff, however long the database stays away; when
it answers again the main loop resyncs (claims, and kills the jobs whose tokens no longer hold).
A runner found lost (its row deleted: others recovered its jobs) kills its jobs and, unless it
runs a single `--job`, registers again and carries on.

Lost-runner recovery is a cluster chore: each renewal also tries to take it, and one runner of
the cluster per quarter lease wins and does it (`bt.runners.take_recovery`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from bt import errors
from bt.runner import osutil
from bt.runner.forkserver import ForkServer
from bt.runner.health import Backoff, Health
from bt.runner.mailbox import Event, EventKind, Mailbox
from bt.runners import fence_margin
from bt.services import RunnerService
from bt.values import Beat, RunnerInfo

log = logging.getLogger("bt.runner")


class Lease:
    """The runner's lease of `seconds`, as its fork server enforces it."""

    def __init__(self, seconds: float, server: ForkServer) -> None:
        self.seconds, self.server = seconds, server
        self.interval = seconds / 4  #: between renewals while jobs run: three may be missed
        self.idle_interval = seconds / 2  #: between renewals while the runner holds no job
        self.until = 0.0  #: jobs may run until then (`osutil.clock()`)
        self.began = 0.0  #: when the last successful renewal began (`osutil.clock()`)
        self._lock = threading.Lock()  #: renewals come from the heartbeat and the main loop

    def valid(self) -> bool:
        """Whether jobs may run now (a job claimed while the lease has lapsed would be killed)."""
        return osutil.clock() < self.until

    def renewed(self, began: float) -> bool:
        """A renewal that began at `began` (`osutil.clock()`) succeeded: jobs may run until the
        lease less the margin from then. Whether the lease had lapsed."""
        with self._lock:
            lapsed = not self.valid()
            if began < self.began:
                return lapsed  # a later renewal got in first
            until = began + self.seconds - fence_margin(self.seconds)
            self.server.renew(until)  # first: a job started under the new lease must live
            self.began, self.until = began, until
        return lapsed


class Heartbeat(threading.Thread):
    """Renews the lease while the main loop makes progress, retrying while the database is
    away; takes its turn at recovering lost runners' jobs and kills their leftover processes
    on this host."""

    def __init__(
        self,
        runners: RunnerService,
        runner_id: int,
        lease: Lease,
        mailbox: Mailbox,
        *,
        health: Health,
        rejoin: Callable[[], RunnerInfo] | None,
        sweeper: Callable[[], int],
        busy: Callable[[], bool] = lambda: True,
        progressing: Callable[[], bool] = lambda: True,
    ) -> None:
        super().__init__(name="bt-heartbeat", daemon=True)
        self.runners, self.sweeper = runners, sweeper  #: sweeper: `bt.runner.sweep.sweep`
        self.runner_id: int | None = runner_id  #: None: lost, not registered again yet
        self.lease, self.mailbox, self.health = lease, mailbox, health
        self.rejoin = rejoin  #: registers the runner again once lost (None: it stops instead)
        self.busy = busy  #: whether the runner holds jobs (renew every quarter lease, not half)
        self.progressing = progressing  #: whether the main loop went round lately
        self.stopped = threading.Event()
        self._wake = threading.Event()
        self._stop_seen = self._stalled = False

    def stop(self) -> None:
        """End the thread at its next wake-up (at once if it waits)."""
        self.stopped.set()
        self._wake.set()

    def poke(self) -> None:
        """The runner took work: renew now if the idle interval let the lease run low."""
        self._wake.set()

    def run(self) -> None:
        backoff, delay = Backoff(self.lease.interval), self.lease.interval
        while True:
            self._wake.wait(delay)
            self._wake.clear()
            if self.stopped.is_set():
                return
            if (delay := self._until_due()) > 0:
                continue
            if self.beat():
                backoff.reset()
                delay = self._until_due()
            elif self.runner_id is None and self.rejoin is None:
                return
            else:
                delay = backoff.next()

    def _until_due(self) -> float:
        """Seconds until the next renewal is due (0 or less: now)."""
        interval = self.lease.interval if self.busy() else self.lease.idle_interval
        return self.lease.began + interval - osutil.clock()

    def beat(self) -> bool:
        """Renew the lease (or register again, once lost), and recover lost runners' jobs if
        it is this runner's turn; whether the renewal worked."""
        began = osutil.clock()
        if not self._loop_alive():
            return False
        try:
            if self.runner_id is None:
                return self._join(began)
            beat = self.runners.beat(
                self.runner_id, self.lease.seconds, chore_every=self.lease.interval
            )
        except errors.TokenMismatch as exc:
            self.lost(exc)
            return False
        except errors.BrownthrowerError as exc:
            self.health.failed("heartbeat", exc)
            return False
        self.renewed(began, beat)
        return True

    def renewed(self, began: float, beat: Beat) -> None:
        """A renewal that began at `began` succeeded, by this thread or by the main loop's
        look for work (`may_ride_a_look`): hand the lease on, and act on what it learnt."""
        self._renewed(began)
        if beat.stop and not self._stop_seen:
            self._stop_seen = True
            self.mailbox.post(Event(EventKind.STOP))
        if beat.recover:
            self.recover()

    def lost(self, exc: errors.TokenMismatch) -> None:
        """The runner was declared lost: its jobs are no longer its own."""
        self.runner_id = None
        self.mailbox.post(Event(EventKind.LOST, detail=str(exc)))

    def may_ride_a_look(self) -> bool:
        """Whether the idle runner's next look for work should renew the lease in the same
        transaction (its last renewal is over a quarter lease old): an idle pilot then costs
        one transaction per look, and the heartbeat's own renewal is seldom needed."""
        if self.runner_id is None or self.busy():
            return False
        return osutil.clock() - self.lease.began >= self.lease.interval

    def _loop_alive(self) -> bool:
        """Whether the main loop makes progress (logged once when it stops, and when again)."""
        alive = self.progressing()
        if alive == self._stalled:
            self._stalled = not alive
            if alive:
                log.warning("runner_progressing again: renewing the lease")
            else:
                log.error("runner_stalled: the main loop is stuck; the lease is not renewed")
        return alive

    def _join(self, began: float) -> bool:
        if self.rejoin is None:
            return False
        info = self.rejoin()
        self.runner_id = info.id
        self._renewed(began)
        self.mailbox.post(Event(EventKind.JOINED, info=info))
        return True

    def _renewed(self, began: float) -> None:
        lapsed = self.lease.renewed(began)
        if self.health.answered() or lapsed:
            self.mailbox.post(Event(EventKind.RESYNC))

    def recover(self) -> None:
        """Requeue (or fail) the jobs of runners whose lease expired; kill their leftovers here."""
        try:
            recovered = self.runners.recover_lost()
        except errors.BrownthrowerError as exc:
            self.health.failed("recovery", exc)
            return
        for job_id, status in recovered:
            log.warning("job_recovered job=%d status=%s (its runner was lost)", job_id, status)
        if recovered:
            self.mailbox.post(Event(EventKind.WORK))
            self.sweep()

    def sweep(self) -> None:
        """Kill the processes left on this host by runs that no longer hold their job."""
        try:
            self.sweeper()
        except errors.BrownthrowerError as exc:
            self.health.failed("sweep", exc)
