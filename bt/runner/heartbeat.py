"""The heartbeat thread: renews the runner's lease, hands it to the fork server, recovers others.

After each renewal the fork server learns until when the runner's jobs may run (`Lease`): the
lease less the safety margin, counted from the moment the renewal began (`bt.runners` has the
rule). A failed renewal is retried with capped exponential backoff, however long the database
stays away; when it answers again the main loop resyncs (claims, and kills the jobs whose
tokens no longer hold). A runner found lost (its row deleted: others recovered its jobs) kills
its jobs and, unless it runs a single `--job`, registers again and carries on.
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
from bt.values import RunnerInfo

log = logging.getLogger("bt.runner")


class Lease:
    """The runner's lease of `seconds`, as its fork server enforces it."""

    def __init__(self, seconds: float, server: ForkServer) -> None:
        self.seconds, self.server = seconds, server
        self.interval = seconds / 4  #: between renewals: three may be missed
        self.until = 0.0  #: jobs may run until then (`osutil.clock()`)

    def valid(self) -> bool:
        """Whether jobs may run now (a job claimed while the lease has lapsed would be killed)."""
        return osutil.clock() < self.until

    def renewed(self, began: float) -> bool:
        """A renewal that began at `began` (`osutil.clock()`) succeeded: jobs may run until the
        lease less the margin from then. Whether the lease had lapsed."""
        lapsed = not self.valid()
        self.until = began + self.seconds - fence_margin(self.seconds)
        self.server.renew(self.until)
        return lapsed


class Heartbeat(threading.Thread):
    """Renews the lease every quarter lease, retrying while the database is away; recovers lost
    runners' jobs and kills their leftover processes on this host."""

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
    ) -> None:
        super().__init__(name="bt-heartbeat", daemon=True)
        self.runners, self.sweeper = runners, sweeper  #: sweeper: `bt.runner.sweep.sweep`
        self.runner_id: int | None = runner_id  #: None: lost, not registered again yet
        self.lease, self.mailbox, self.health = lease, mailbox, health
        self.rejoin = rejoin  #: registers the runner again once lost (None: it stops instead)
        self.stopped = threading.Event()
        self._stop_seen = False

    def run(self) -> None:
        backoff, delay = Backoff(self.lease.interval), self.lease.interval
        while not self.stopped.wait(delay):
            if self.beat():
                backoff.reset()
                delay = self.lease.interval
                self.recover()
            elif self.runner_id is None and self.rejoin is None:
                return
            else:
                delay = backoff.next()

    def beat(self) -> bool:
        """Renew the lease (or register again, once lost); whether that worked."""
        began = osutil.clock()
        try:
            if self.runner_id is None:
                return self._join(began)
            stop = self.runners.heartbeat(self.runner_id, self.lease.seconds)
        except errors.TokenMismatch as exc:
            self.runner_id = None
            self.mailbox.post(Event(EventKind.LOST, detail=str(exc)))
            return False
        except errors.BrownthrowerError as exc:
            self.health.failed("heartbeat", exc)
            return False
        self._renewed(began)
        if stop and not self._stop_seen:
            self._stop_seen = True
            self.mailbox.post(Event(EventKind.STOP))
        return True

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
