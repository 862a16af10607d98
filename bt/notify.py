"""Database notifications: the few events that need a push (new runnable work, an abort).

Writers ask for a NOTIFY with `notify_later`; `bt.db.Database.write` sends what was asked at
commit (`send_pending`), once per channel and payload. `Listener` is the other end: a thread
that LISTENs on its own PostgreSQL connection, reconnects when it is lost, and hands every
notification to a callback. Notifications are hints only: every reader polls as well, and after
a reconnection the listener reports `RESYNC` because what was sent meanwhile is lost. SQLite has
no NOTIFY; there, `send_pending` only forgets what was asked.
"""

from __future__ import annotations

import enum
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bt.errors import first_line

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bt.db import Database

log = logging.getLogger("bt.notify")

WORK_CHANNEL = "bt_work"  #: NOTIFY channel: new runnable work may exist
ABORT_CHANNEL = "bt_abort"  #: NOTIFY channel: payload is the id of a job aborted while RUNNING
RECONNECT_DELAY = (0.2, 5.0)  #: seconds: the listener's first and longest wait to reconnect
_PENDING = "bt_notify"  #: the session.info key of the NOTIFYs asked for in a transaction


class Notice(enum.StrEnum):
    """What a notification means to a listener."""

    WORK = "work"  #: new runnable work may exist
    ABORT = "abort"  #: job `job_id` was aborted while RUNNING
    RESYNC = "resync"  #: the connection was lost and is back: anything may have happened


@dataclass(frozen=True)
class Notification:
    """One notification as a listener's callback receives it."""

    notice: Notice
    job_id: int | None = None


def notify_later(session: Session, channel: str, payload: str = "") -> None:
    """Ask for a NOTIFY at commit; duplicates in one transaction are sent once."""
    session.info.setdefault(_PENDING, set()).add((channel, payload))


def notify_work(session: Session) -> None:
    """Tell runners at commit that new runnable work may exist."""
    notify_later(session, WORK_CHANNEL)


def notify_abort(session: Session, job_id: int) -> None:
    """Tell the runner holding `job_id` at commit that the job was aborted."""
    notify_later(session, ABORT_CHANNEL, str(job_id))


def send_pending(session: Session, *, is_postgresql: bool) -> None:
    """Emit the NOTIFYs asked for in this transaction; PostgreSQL delivers them at commit."""
    from sqlalchemy import text

    pending = session.info.pop(_PENDING, set())
    if is_postgresql:
        for channel, payload in sorted(pending):
            session.execute(text("SELECT pg_notify(:c, :p)"), {"c": channel, "p": payload})


class Listener(threading.Thread):
    """LISTEN on `bt_work` and `bt_abort` on a dedicated PostgreSQL connection.

    `ready` is set once LISTEN is in place; set `stopped` to end the thread within half a second.
    """

    def __init__(self, url: str, on_notification: Callable[[Notification], None]) -> None:
        from sqlalchemy.engine import make_url

        super().__init__(name="bt-listener", daemon=True)
        self.conninfo = make_url(url).set(drivername="postgresql").render_as_string(False)
        self.on_notification = on_notification
        self.stopped = threading.Event()
        self.ready = threading.Event()

    def run(self) -> None:
        import psycopg

        delay, first = RECONNECT_DELAY[0], True
        while not self.stopped.is_set():
            try:
                self._listen(resync=not first)
            except psycopg.Error as exc:
                log.warning("listener_lost: %s; reconnecting in %.1f s", first_line(exc), delay)
                self.stopped.wait(delay)
                delay, first = min(delay * 2, RECONNECT_DELAY[1]), False

    def _listen(self, *, resync: bool) -> None:
        import psycopg

        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute(f"LISTEN {ABORT_CHANNEL}")
            conn.execute(f"LISTEN {WORK_CHANNEL}")
            self.ready.set()
            if resync:
                log.info("listener_reconnected")
                self.on_notification(Notification(Notice.RESYNC))
            while not self.stopped.is_set():
                for note in conn.notifies(timeout=0.5):
                    self.on_notification(_notification(note.channel, note.payload))


def _notification(channel: str, payload: str) -> Notification:
    if channel == ABORT_CHANNEL and payload.isdigit():
        return Notification(Notice.ABORT, int(payload))
    return Notification(Notice.WORK)


SHARED_LOOK = 0.5  #: seconds between a shared listener's looks when its connection stays quiet


class SharedListener(threading.Thread):
    """LISTEN on the one connection of a daemon's `Database` (`single=True`; direct PostgreSQL
    only: a pooler drops LISTEN), so a runner holds one connection, not two.

    Every connection the pool makes LISTENs as it is made. A notification that arrives while
    another thread uses the connection is kept by psycopg; this thread hands it over between
    uses: it waits until the connection's socket is readable (or `SHARED_LOOK` passes), takes
    the connection in turn, and reads what arrived. A new connection after the first reports
    `RESYNC`, as what was sent meanwhile is lost.
    """

    def __init__(self, db: Database, on_notification: Callable[[Notification], None]) -> None:
        from sqlalchemy import event

        if not db.single:  # with several connections, a new one is no sign of a lost one
            raise ValueError("a SharedListener needs a database of one connection (single)")
        super().__init__(name="bt-listener", daemon=True)
        self.db, self.on_notification = db, on_notification
        self.stopped = threading.Event()
        self.ready = threading.Event()
        self._socket: Any = None  #: the psycopg connection listening now
        self._connected_before = False
        self._wake_r, self._wake_w = os.pipe()  #: `stop` ends the wait on the socket at once
        self._pipe_open = True
        event.listen(db.engine, "connect", self._on_connect)
        db.release()  # connections made before were not listening

    def _on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"LISTEN {ABORT_CHANNEL}")
        dbapi_connection.execute(f"LISTEN {WORK_CHANNEL}")
        dbapi_connection.commit()
        self._socket = dbapi_connection
        if self._connected_before:
            log.info("listener_reconnected")
            self.on_notification(Notification(Notice.RESYNC))
        self._connected_before = True
        self.ready.set()

    def stop(self, timeout: float) -> None:
        """End the thread and wait (up to `timeout` seconds) until it has: then it holds no
        connection, and the database may be disposed."""
        self.stopped.set()
        if not self._pipe_open:
            return
        os.write(self._wake_w, b"x")
        if self.is_alive():
            self.join(timeout)
        if not self.is_alive():  # else it may still look at the pipe: leave it open
            os.close(self._wake_r)
            os.close(self._wake_w)
            self._pipe_open = False

    def run(self) -> None:
        import select

        self._hand_over()  # connects, and so LISTENs, at once
        while not self.stopped.is_set():
            fd = self._fileno()
            if fd is None:
                self.stopped.wait(SHARED_LOOK)
            else:
                select.select([fd, self._wake_r], [], [], SHARED_LOOK)
            if not self.stopped.is_set():
                self._hand_over()

    def _fileno(self) -> int | None:
        try:
            return int(self._socket.fileno()) if self._socket is not None else None
        except Exception:  # noqa: BLE001 - a closed connection has no file descriptor
            return None

    def _hand_over(self) -> None:
        """Take the connection in turn and pass on what arrived (reconnecting if it is lost:
        the pool makes a new, listening one)."""
        import psycopg

        try:
            proxy = self.db.engine.raw_connection()
        except Exception:  # noqa: BLE001 - the database is away: the next look tries again
            self.stopped.wait(2 * SHARED_LOOK)
            return
        try:
            for note in proxy.driver_connection.notifies(timeout=0):  # type: ignore[union-attr]
                self.on_notification(_notification(note.channel, note.payload))
        except psycopg.Error as exc:  # the runner's health logs the outage
            log.debug("listener_lost: %s", first_line(exc))
            self._socket = None
            proxy.invalidate()
        finally:
            proxy.close()
