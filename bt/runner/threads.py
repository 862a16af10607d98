"""The runner's helper threads: the heartbeat (`bt.runner.heartbeat`) and, on PostgreSQL, the
listener, which turns NOTIFYs on `bt_abort` and `bt_work` into events for the main loop, on its
own connection, reconnecting when it is lost; notifications are only hints, the main loop polls
as well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bt.errors import first_line
from bt.notify import RECONNECT_DELAY, Listener, Notice, Notification
from bt.runner.health import Health
from bt.runner.heartbeat import Heartbeat, Lease
from bt.runner.mailbox import Event, EventKind, Mailbox
from bt.services import RunnerService
from bt.values import RunnerInfo

log = logging.getLogger("bt.runner")

LISTENER_READY = 5.0  #: seconds to wait for LISTEN before claiming (aborts arrive by NOTIFY)


class Helpers:
    """The runner's helper threads: the heartbeat and, on PostgreSQL, the listener."""

    def __init__(self, mailbox: Mailbox, health: Health) -> None:
        self.mailbox, self.health = mailbox, health
        self.threads: list[Heartbeat | Listener] = []

    def start(
        self,
        runners: RunnerService,
        runner_id: int,
        lease: Lease,
        listen_url: str | None,
        *,
        rejoin: Callable[[], RunnerInfo] | None,
        sweeper: Callable[[], int],
    ) -> None:
        """Start them, then recover lost runners' jobs (once LISTEN is in place, if any) and
        kill what runs that are over left on this host."""
        heartbeat = Heartbeat(
            runners, runner_id, lease, self.mailbox,
            health=self.health, rejoin=rejoin, sweeper=sweeper,
        )  # fmt: skip
        heartbeat.start()
        self.threads.append(heartbeat)
        if listen_url is not None:
            listener = QuietListener(listen_url, lambda n: self.mailbox.post(event_of(n)))
            listener.start()
            self.threads.append(listener)
            listener.ready.wait(LISTENER_READY)
        heartbeat.recover()
        heartbeat.sweep()

    def stop(self) -> None:
        """Tell every thread to end (they are daemon threads: nobody waits for them)."""
        for thread in self.threads:
            thread.stopped.set()


class QuietListener(Listener):
    """The core `Listener`, logging a lost connection once, not at every reconnection try."""

    def run(self) -> None:
        import psycopg

        delay, first = RECONNECT_DELAY[0], True
        while not self.stopped.is_set():
            self.ready.clear()
            try:
                self._listen(resync=not first)
            except psycopg.Error as exc:
                if self.ready.is_set() or first:  # it was connected: a new outage
                    log.warning("listener_lost: %s; reconnecting", first_line(exc))
                    delay = RECONNECT_DELAY[0]
                self.stopped.wait(delay)
                delay, first = min(delay * 2, RECONNECT_DELAY[1]), False


_KIND_OF = {
    Notice.WORK: EventKind.WORK,
    Notice.ABORT: EventKind.ABORT,
    Notice.RESYNC: EventKind.RESYNC,
}


def event_of(notification: Notification) -> Event:
    """The main loop's event for a database notification."""
    return Event(_KIND_OF[notification.notice], job_id=notification.job_id)
