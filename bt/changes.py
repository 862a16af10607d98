"""Has the database changed since the last look? A cheap answer for live readers (the web
dashboard), one look for all of their viewers.

- SQLite: `PRAGMA data_version` on a dedicated connection of the watcher's own. SQLite changes
  it when another connection commits, and only then, so the look itself costs no I/O.
- PostgreSQL: the server's current snapshot (`pg_current_snapshot()`: the next transaction id
  and those in progress), one tiny query a look, direct or through a pooler. It changes when a
  transaction that writes begins or ends, and never for reads (which get no transaction id),
  so a commit is seen by the next look (as are writes to other databases of the cluster: a few
  needless refreshes). Directly, a `bt.notify.Listener` on its own connection also counts any
  notification (new runnable work, an abort, a resync) as a change. Should the snapshot be
  unreadable, every look says "changed" (`exact` is False).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from bt.errors import first_line
from bt.notify import Listener, Notification

if TYPE_CHECKING:
    from bt.client import Brownthrower

log = logging.getLogger("bt.changes")

SNAPSHOT = "SELECT pg_current_snapshot()::text"
LISTEN_WAIT = 5.0  #: seconds `start` waits for the listener's LISTEN to be in place


class ChangeWatcher:
    """Tells whether the database of `app` changed since the previous `changed()`.

    `exact`: whether "no change" can be trusted (False once the WAL position could not be
    read: then every look is a change).
    Call `start()` once before looking and `close()` when done; both are idempotent.
    """

    def __init__(self, app: Brownthrower) -> None:
        self.app = app
        self.exact = True
        self._position: str | None = None  #: PostgreSQL: the snapshot at the previous look
        self._connection: Any = None  #: SQLite: the dedicated DBAPI connection
        self._last: int | None = None  #: SQLite: the data_version seen by the previous look
        self._listener: Listener | None = None
        self._noticed = threading.Event()  #: PostgreSQL direct: a notification since the look

    def start(self) -> None:
        """Open what the watcher looks through; PostgreSQL waits a little for LISTEN."""
        if self.app.db.is_sqlite:
            self._data_version()
            return
        self._snapshot_moved()  # the first look: what later looks compare with
        if self.app.has_notifications and self._listener is None:
            self._listener = Listener(self.app.url, self._on_notification)
            self._listener.start()
            if not self._listener.ready.wait(LISTEN_WAIT):
                log.warning("change_listener_not_ready after %.0f s", LISTEN_WAIT)

    def changed(self) -> bool:
        """Whether another client changed the database since the previous call (True when it
        cannot tell: through a pooler, or when the look failed)."""
        if self.app.db.is_sqlite:
            return self._sqlite_changed()
        noticed = self._noticed.is_set()
        self._noticed.clear()
        return self._snapshot_moved() or noticed

    def _snapshot_moved(self) -> bool:
        before = self._position
        try:
            with self.app.db.read() as session:
                self._position = str(session.scalar(text(SNAPSHOT)))
        except Exception as exc:  # noqa: BLE001 - the server is away
            if self.exact:
                log.warning("snapshot_unreadable: %s", first_line(exc))
            self.exact = False
            return True
        return self._position != before

    def close(self) -> None:
        """Close the dedicated connection, stop the listener."""
        if self._listener is not None:
            self._listener.stopped.set()
            self._listener.join()
            self._listener = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _on_notification(self, _note: Notification) -> None:
        self._noticed.set()

    def _sqlite_changed(self) -> bool:
        before = self._last
        try:
            now = self._data_version()
        except Exception as exc:  # noqa: BLE001 - a lost file is seen by every page anyway
            log.warning("data_version_failed: %s", first_line(exc))
            self._forget_connection()
            return True
        return before is not None and now != before

    def _data_version(self) -> int:
        if self._connection is None:
            proxy = self.app.db.engine.raw_connection()
            proxy.detach()  # the watcher's own, for as long as it lives: never back to the pool
            self._connection, self._last = proxy, None
        cursor = self._connection.cursor()
        try:
            cursor.execute("PRAGMA data_version")
            self._last = int(cursor.fetchone()[0])
        finally:
            cursor.close()
        return self._last

    def _forget_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - it is gone either way
                log.debug("data_version connection already closed")
