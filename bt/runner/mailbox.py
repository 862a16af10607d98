"""How the runner's threads and signals talk to its main loop: events in a `Mailbox`.

The main loop owns every job; threads only post events into its `Mailbox`, which wakes the loop's
`select()` through a pipe (SIGTERM and SIGINT wake it through the same pipe).
"""

from __future__ import annotations

import contextlib
import enum
import os
import queue
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bt.values import RunnerInfo

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)  #: the signals that stop the runner


class EventKind(enum.StrEnum):
    """What happened, for the main loop."""

    WORK = "work"  #: new runnable work may exist
    RESYNC = "resync"  #: notifications may have been lost: look for work and aborts now
    ABORT = "abort"  #: job `job_id` was aborted
    CHANGED = "changed"  #: another connection wrote to the database (SQLite): check the claims
    STOP = "stop"  #: a stop of this runner was requested
    LOST = "lost"  #: the runner lost its lease (`detail` says why): its jobs must die
    JOINED = "joined"  #: a lost runner registered again, as `info`: it may claim again


@dataclass(frozen=True)
class Event:
    """Something for the main loop: its kind, the job it is about, and why."""

    kind: EventKind
    job_id: int | None = None
    detail: str = ""
    info: RunnerInfo | None = None


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
