"""The runner's two helper threads and how they talk to its main loop.

The main loop owns every job; threads only post events into its `Mailbox`, which wakes the loop's
`select()` through a pipe. The heartbeat thread renews the lease (and fences the runner when it
cannot), and recovers the jobs of lost runners. The listener thread (PostgreSQL) turns NOTIFYs on
`bt_abort` and `bt_work` into events, on its own connection, reconnecting when it is lost;
notifications are only hints, the main loop polls as well.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass

from bt import errors
from bt.notify import Notice, Notification
from bt.services import RunnerService

log = logging.getLogger("bt.runner")

FENCE_FRACTION = 0.9  #: without a renewal for this part of the lease, the runner kills its jobs


@dataclass(frozen=True)
class Event:
    """Something for the main loop: `work`, `abort` (job_id), `stop`, `lost` (why)."""

    kind: str
    job_id: int | None = None
    detail: str = ""


class Mailbox:
    """Events for the main loop, with a pipe whose read end wakes its `select()`."""

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)
        os.set_blocking(self.write_fd, False)
        self._events: queue.SimpleQueue[Event] = queue.SimpleQueue()

    def post(self, event: Event) -> None:
        self._events.put(event)
        self.wake()

    def wake(self) -> None:
        with contextlib.suppress(BlockingIOError):
            os.write(self.write_fd, b"\0")

    def take(self) -> list[Event]:
        """Every event posted so far (and empties the wake-up pipe)."""
        try:
            while os.read(self.read_fd, 4096):
                pass
        except BlockingIOError:
            pass
        events = []
        while True:
            try:
                events.append(self._events.get_nowait())
            except queue.Empty:
                return events

    def close(self) -> None:
        os.close(self.read_fd)
        os.close(self.write_fd)


class Heartbeat(threading.Thread):
    """Renews the runner's lease every quarter lease; recovers lost runners' jobs."""

    def __init__(
        self, runners: RunnerService, runner_id: int, lease: float, mailbox: Mailbox
    ) -> None:
        super().__init__(name="bt-heartbeat", daemon=True)
        self.runners, self.runner_id, self.lease, self.mailbox = runners, runner_id, lease, mailbox
        self.stopped = threading.Event()
        self.last_renewal = time.monotonic()
        self._stop_seen = False

    def run(self) -> None:
        while not self.stopped.wait(self.lease / 4):
            if not self.beat():
                return
            self.recover()

    def beat(self) -> bool:
        """Renew the lease; False once the runner has lost it (its jobs must die)."""
        try:
            stop = self.runners.heartbeat(self.runner_id, self.lease)
        except errors.TokenMismatch as exc:
            self.mailbox.post(Event("lost", detail=str(exc)))
            return False
        except errors.BrownthrowerError as exc:
            log.warning("heartbeat_failed runner=%d: %s", self.runner_id, exc)
            silent = time.monotonic() - self.last_renewal
            if silent > self.lease * FENCE_FRACTION:
                detail = f"no lease renewal for {silent:.1f} s (lease {self.lease:g} s)"
                self.mailbox.post(Event("lost", detail=detail))
                return False
            return True
        self.last_renewal = time.monotonic()
        if stop and not self._stop_seen:
            self._stop_seen = True
            self.mailbox.post(Event("stop", detail="stop requested"))
        return True

    def recover(self) -> None:
        """Requeue (or fail) the jobs of runners whose lease expired."""
        try:
            recovered = self.runners.recover_lost()
        except errors.BrownthrowerError as exc:
            log.warning("recovery_failed: %s", exc)
            return
        for job_id, status in recovered:
            log.warning("job_recovered job=%d status=%s (its runner was lost)", job_id, status)
        if recovered:
            self.mailbox.post(Event("work"))


def event_of(notification: Notification) -> Event:
    """The main loop's event for a database notification."""
    if notification.notice is Notice.ABORT:
        return Event("abort", job_id=notification.job_id)
    return Event(notification.notice.value)
