"""The runner's helper threads: the heartbeat (`bt.runner.heartbeat`) and, on PostgreSQL reached
directly, the listener, which turns NOTIFYs on `bt_abort` and `bt_work` into events for the main
loop, LISTENing on the runner's one connection (`bt.notify.SharedListener`); on SQLite, the
change watcher (`bt.runner.watcher`), which turns other connections' commits into `CHANGED`
events while jobs run. Both are only hints: the main loop polls as well. Through a pooler
(pooled mode) there is no listener: the main loop polls for work and aborts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from bt.db import Database
from bt.notify import Notice, Notification, SharedListener
from bt.runner.health import Health
from bt.runner.heartbeat import Heartbeat, Lease
from bt.runner.mailbox import Event, EventKind, Mailbox
from bt.runner.watcher import ChangeWatcher
from bt.services import RunnerService
from bt.values import RunnerInfo

log = logging.getLogger("bt.runner")

LISTENER_READY = 5.0  #: seconds to wait for LISTEN (or the watcher's first look) before claiming
STOP_WAIT = 2.0  #: seconds to wait for each helper thread to end (one in a query may take longer)


class Helpers:
    """The runner's helper threads: the heartbeat and, on PostgreSQL, the listener or, on
    SQLite, the change watcher."""

    def __init__(self, mailbox: Mailbox, health: Health) -> None:
        self.mailbox, self.health = mailbox, health
        self.threads: list[Heartbeat | SharedListener | ChangeWatcher] = []
        self.heartbeat: Heartbeat | None = None

    def start(
        self,
        runners: RunnerService,
        runner_id: int,
        lease: Lease,
        db: Database | None,
        *,
        rejoin: Callable[[], RunnerInfo] | None,
        sweeper: Callable[[], int],
        busy: Callable[[], bool] | None = None,
        progressing: Callable[[], bool] | None = None,
    ) -> None:
        """Start them, then recover lost runners' jobs (once LISTEN or the watcher is in place) and
        kill what runs that are over left on this host. `db` is the runner's database (None:
        neither listener nor watcher); `busy` says whether the runner holds jobs (the watcher
        looks only then, the heartbeat renews more often); `progressing`, whether its main loop
        went round lately (the lease is renewed only then)."""
        heartbeat = Heartbeat(
            runners, runner_id, lease, self.mailbox,
            health=self.health, rejoin=rejoin, sweeper=sweeper,
            busy=busy or (lambda: True), progressing=progressing or (lambda: True),
        )  # fmt: skip
        heartbeat.start()
        self.threads.append(heartbeat)
        self.heartbeat = heartbeat
        if db is not None and db.listens:
            self._listen(db)
        elif db is not None and (path := sqlite_file(db.url)) is not None:
            self._watch(path, busy)
        heartbeat.recover()
        heartbeat.sweep()

    def poke(self) -> None:
        """The runner took work: let the heartbeat renew soon if it was idle."""
        if self.heartbeat is not None:
            self.heartbeat.poke()

    def _listen(self, db: Database) -> None:
        listener = SharedListener(db, lambda n: self.mailbox.post(event_of(n)))
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
        """End every thread, and wait (a little) until they have: a thread still using the
        database when the caller disposes of it would leave a connection open."""
        for thread in self.threads:
            if not isinstance(thread, SharedListener):
                thread.stopped.set()
        if self.heartbeat is not None:
            self.heartbeat.stop()
        for thread in self.threads:
            if isinstance(thread, SharedListener):
                thread.stop(STOP_WAIT)  # wakes it from its wait on the socket, then joins
            elif thread.is_alive():
                thread.join(STOP_WAIT)


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
