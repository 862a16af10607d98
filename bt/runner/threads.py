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

import psycopg
from sqlalchemy.engine import make_url

from bt import errors
from bt.lifecycle import ABORT_CHANNEL, WORK_CHANNEL
from bt.services import WorkService

log = logging.getLogger("bt.runner")

FENCE_FRACTION = 0.9  #: without a renewal for this part of the lease, the runner kills its jobs
RECONNECT_DELAY = (0.2, 5.0)  #: listener's first and longest wait before reconnecting


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

    def __init__(self, work: WorkService, runner_id: int, lease: float, mailbox: Mailbox) -> None:
        super().__init__(name="bt-heartbeat", daemon=True)
        self.work, self.runner_id, self.lease, self.mailbox = work, runner_id, lease, mailbox
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
            stop = self.work.heartbeat(self.runner_id, self.lease)
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
            recovered = self.work.recover_lost()
        except errors.BrownthrowerError as exc:
            log.warning("recovery_failed: %s", exc)
            return
        for job_id, status in recovered:
            log.warning("job_recovered job=%d status=%s (its runner was lost)", job_id, status)
        if recovered:
            self.mailbox.post(Event("work"))


class Listener(threading.Thread):
    """LISTEN on `bt_abort` and `bt_work` on a dedicated PostgreSQL connection."""

    def __init__(self, url: str, mailbox: Mailbox) -> None:
        super().__init__(name="bt-listener", daemon=True)
        self.conninfo = make_url(url).set(drivername="postgresql").render_as_string(False)
        self.mailbox = mailbox
        self.stopped = threading.Event()
        self.ready = threading.Event()

    def run(self) -> None:
        delay = RECONNECT_DELAY[0]
        first = True
        while not self.stopped.is_set():
            try:
                self.listen(resync=not first)
            except psycopg.Error as exc:
                log.warning("listener_lost: %s; reconnecting in %.1f s", _first_line(exc), delay)
                self.stopped.wait(delay)
                delay = min(delay * 2, RECONNECT_DELAY[1])
                first = False

    def listen(self, *, resync: bool) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute(f"LISTEN {ABORT_CHANNEL}")
            conn.execute(f"LISTEN {WORK_CHANNEL}")
            self.ready.set()
            if resync:  # what was notified while disconnected is lost: look again
                log.info("listener_reconnected")
                self.mailbox.post(Event("resync"))
            while not self.stopped.is_set():
                for note in conn.notifies(timeout=0.5):
                    self.mailbox.post(_event(note.channel, note.payload))


def _event(channel: str, payload: str) -> Event:
    if channel == ABORT_CHANNEL and payload.isdigit():
        return Event("abort", job_id=int(payload))
    return Event("work")


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
