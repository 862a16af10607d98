"""The runner's two helper threads and how they talk to its main loop.

The main loop owns every job; threads only post events into its `Mailbox`, which wakes the loop's
`select()` through a pipe (SIGTERM and SIGINT wake it through the same pipe). The heartbeat
thread renews the lease (and fences the runner when it cannot), and recovers the jobs of lost
runners. The listener thread (PostgreSQL) turns NOTIFYs on `bt_abort` and `bt_work` into events,
on its own connection, reconnecting when it is lost; notifications are only hints, the main loop
polls as well.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bt import errors
from bt.notify import Listener, Notice, Notification
from bt.services import RunnerService

log = logging.getLogger("bt.runner")

FENCE_FRACTION = 0.9  #: without a renewal for this part of the lease, the runner kills its jobs
LISTENER_READY = 5.0  #: seconds to wait for LISTEN before claiming (aborts arrive by NOTIFY)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)  #: the signals that stop the runner


class EventKind(enum.StrEnum):
    """What happened, for the main loop."""

    WORK = "work"  #: new runnable work may exist
    RESYNC = "resync"  #: notifications may have been lost: look for work and aborts now
    ABORT = "abort"  #: job `job_id` was aborted
    STOP = "stop"  #: a stop of this runner was requested
    LOST = "lost"  #: the runner lost its lease (`detail` says why): its jobs must die


@dataclass(frozen=True)
class Event:
    """Something for the main loop: its kind, the job it is about, and why."""

    kind: EventKind
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

    def catch_signals(self, handler: Callable[[int, Any], None]) -> None:
        """Call `handler` on each of `STOP_SIGNALS`, waking the loop for them."""
        signal.set_wakeup_fd(self.write_fd, warn_on_full_buffer=False)
        for sig in STOP_SIGNALS:
            signal.signal(sig, handler)

    def release_signals(self) -> None:
        signal.set_wakeup_fd(-1)
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)

    def close(self) -> None:
        os.close(self.read_fd)
        os.close(self.write_fd)


class Helpers:
    """The runner's helper threads: the heartbeat and, on PostgreSQL, the listener."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox
        self.threads: list[Heartbeat | Listener] = []

    def start(
        self, runners: RunnerService, runner_id: int, lease: float, listen_url: str | None
    ) -> None:
        """Start them, then recover lost runners' jobs (once LISTEN is in place, if any)."""
        heartbeat = Heartbeat(runners, runner_id, lease, self.mailbox)
        heartbeat.start()
        self.threads.append(heartbeat)
        if listen_url is not None:
            listener = Listener(listen_url, lambda n: self.mailbox.post(event_of(n)))
            listener.start()
            self.threads.append(listener)
            listener.ready.wait(LISTENER_READY)
        heartbeat.recover()

    def stop(self) -> None:
        """Tell every thread to end (they are daemon threads: nobody waits for them)."""
        for thread in self.threads:
            thread.stopped.set()


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
            self.mailbox.post(Event(EventKind.LOST, detail=str(exc)))
            return False
        except errors.BrownthrowerError as exc:
            log.warning("heartbeat_failed runner=%d: %s", self.runner_id, exc)
            silent = time.monotonic() - self.last_renewal
            if silent > self.lease * FENCE_FRACTION:
                detail = f"no lease renewal for {silent:.1f} s (lease {self.lease:g} s)"
                self.mailbox.post(Event(EventKind.LOST, detail=detail))
                return False
            return True
        self.last_renewal = time.monotonic()
        if stop and not self._stop_seen:
            self._stop_seen = True
            self.mailbox.post(Event(EventKind.STOP))
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
            self.mailbox.post(Event(EventKind.WORK))


_KIND_OF = {
    Notice.WORK: EventKind.WORK,
    Notice.ABORT: EventKind.ABORT,
    Notice.RESYNC: EventKind.RESYNC,
}


def event_of(notification: Notification) -> Event:
    """The main loop's event for a database notification."""
    return Event(_KIND_OF[notification.notice], job_id=notification.job_id)
