"""The runner's helper threads: the heartbeat (`bt.runner.heartbeat`) and, on PostgreSQL, the
listener, which turns NOTIFYs on `bt_abort` and `bt_work` into events for the main loop, on its
own connection, reconnecting when it is lost; on SQLite, the change watcher
(`bt.runner.watcher`), which turns other connections' commits into `CHANGED` events while jobs
run. Both are only hints: the main loop polls as well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from bt.errors import first_line
from bt.notify import RECONNECT_DELAY, Listener, Notice, Notification
from bt.runner.health import Health
from bt.runner.heartbeat import Heartbeat, Lease
from bt.runner.mailbox import Event, EventKind, Mailbox
from bt.runner.watcher import ChangeWatcher
from bt.services import RunnerService
from bt.values import RunnerInfo

log = logging.getLogger("bt.runner")

LISTENER_READY = 5.0  #: seconds to wait for LISTEN (or the watcher's first look) before claiming


class Helpers:
    """The runner's helper threads: the heartbeat and, on PostgreSQL, the listener or, on
    SQLite, the change watcher."""

    def __init__(self, mailbox: Mailbox, health: Health) -> None:
        self.mailbox, self.health = mailbox, health
        self.threads: list[Heartbeat | Listener | ChangeWatcher] = []

    def start(
        self,
        runners: RunnerService,
        runner_id: int,
        lease: Lease,
        url: str | None,
        *,
        rejoin: Callable[[], RunnerInfo] | None,
        sweeper: Callable[[], int],
        busy: Callable[[], bool] | None = None,
    ) -> None:
        """Start them, then recover lost runners' jobs (once LISTEN or the watcher is in place) and
        kill what runs that are over left on this host. `url` is the database's (None: neither
        listener nor watcher); `busy` says whether jobs run (the watcher looks only then)."""
        heartbeat = Heartbeat(
            runners, runner_id, lease, self.mailbox,
            health=self.health, rejoin=rejoin, sweeper=sweeper,
        )  # fmt: skip
        heartbeat.start()
        self.threads.append(heartbeat)
        if url is not None and make_url(url).get_backend_name() == "postgresql":
            self._listen(url)
        elif url is not None and (path := sqlite_file(url)) is not None:
            self._watch(path, busy)
        heartbeat.recover()
        heartbeat.sweep()

    def _listen(self, url: str) -> None:
        listener = QuietListener(url, lambda n: self.mailbox.post(event_of(n)))
        listener.start()
        self.threads.append(listener)
        listener.ready.wait(LISTENER_READY)

    def _watch(self, path: Path, busy: Callable[[], bool] | None) -> None:
        changed = lambda: self.mailbox.post(Event(EventKind.CHANGED))  # noqa: E731
        watcher = ChangeWatcher(path, changed, busy=busy or (lambda: True))
        watcher.start()
        self.threads.append(watcher)
        watcher.ready.wait(LISTENER_READY)

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


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for another database or an in-memory one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


def event_of(notification: Notification) -> Event:
    """The main loop's event for a database notification."""
    return Event(_KIND_OF[notification.notice], job_id=notification.job_id)
