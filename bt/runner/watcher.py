"""The SQLite change watcher: aborts seen within a fraction of a second where there is no NOTIFY.

On SQLite a runner would see an abort only at its next poll. This helper thread keeps its own
connection, reads `PRAGMA data_version` once at start (`ready`: the runner claims only then) and
then every `WATCH_INTERVAL` while the runner has running jobs. The value changes whenever another
connection has committed (another process, or one of the runner's own connections); each look
that finds a change calls back once, and the runner's main loop then checks its running jobs'
claims (`EventKind.CHANGED`). The pragma reads the WAL index, not a table, so a look costs a few
microseconds, and the claims are checked at most once an interval.

A database that fails is logged once per outage (`watcher_lost`, then `watcher_back`) and tried
again with capped backoff. After an outage a change is assumed: what was committed meanwhile is
unknown, and a new connection's versions cannot be compared with the old ones.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from bt.errors import first_line
from bt.runner.health import Backoff

log = logging.getLogger("bt.runner")

WATCH_INTERVAL = 0.05  #: seconds between two looks (an abort is seen within about this)
RETRY_CAP = 1.0  #: seconds: the longest wait between tries while the database fails


def _always() -> bool:
    return True


class ChangeWatcher(threading.Thread):
    """Calls `on_change()` after another connection committed to the SQLite file `path`,
    looking every `interval` while `busy()`; `ready` is set once it has its first look; set
    `stopped` to end it within an interval."""

    def __init__(
        self,
        path: Path,
        on_change: Callable[[], None],
        *,
        busy: Callable[[], bool] = _always,
        interval: float = WATCH_INTERVAL,
    ) -> None:
        super().__init__(name="bt-watcher", daemon=True)
        self.path, self.on_change, self.busy, self.interval = path, on_change, busy, interval
        self.stopped = threading.Event()
        self.ready = threading.Event()
        self._conn: sqlite3.Connection | None = None
        self._version: int | None = None
        self._failing = False

    def run(self) -> None:
        backoff = Backoff(RETRY_CAP)
        delay = 0.0  # the first look at once
        try:
            while not self.stopped.wait(delay):
                if self.step():
                    backoff.reset()
                    delay = self.interval
                else:
                    delay = backoff.next()
        finally:
            self.close()

    def step(self) -> bool:
        """One look (after the first, only when busy); whether the database answered or was not
        asked."""
        if self.ready.is_set() and not self.busy():
            return True
        try:
            version = self._read()
        except sqlite3.Error as exc:
            self._lost(exc)
            return False
        previous, self._version = self._version, version
        if self._back() or previous not in (None, version):
            self.on_change()
        self.ready.set()
        return True

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _read(self) -> int:
        if self._conn is None:
            # mode=rw: never create a missing database; timeout: a lock waits at most a look
            uri = f"{self.path.resolve().as_uri()}?mode=rw"
            self._conn = sqlite3.connect(
                uri, uri=True, timeout=self.interval, isolation_level=None, check_same_thread=False
            )
            self._version = None  # a new connection: its versions start afresh
        row = self._conn.execute("PRAGMA data_version").fetchone()
        return int(row[0])

    def _lost(self, exc: sqlite3.Error) -> None:
        self.close()
        if not self._failing:
            self._failing = True
            log.warning("watcher_lost: %s; retrying", first_line(exc))
        else:
            log.debug("watcher_failed: %s", first_line(exc))

    def _back(self) -> bool:
        """Whether this look ends an outage (logged once)."""
        if self._failing:
            self._failing = False
            log.info("watcher_back")
            return True
        return False
