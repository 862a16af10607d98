"""The SQLite change watcher: one call per look that finds another connection's commit, no look
while the runner is idle, one warning per outage, and a thread that ends when stopped.

The watcher is SQLite's alone (PostgreSQL has LISTEN/NOTIFY); the last test, of the runner's
helpers, and the end-to-end test of an abort seen before the poll (test_abort.py) run on both.
"""

from __future__ import annotations

import logging
import os
import queue
import select
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest

from bt import Brownthrower
from bt.db import Database
from bt.runner.health import Health
from bt.runner.heartbeat import Lease
from bt.runner.mailbox import Event, EventKind, Mailbox
from bt.runner.threads import Helpers
from bt.runner.watcher import ChangeWatcher
from bt.values import JobSpec
from tests.runner.conftest import LISTENING_ONLY, TIMEOUT


def make_database(path: Path) -> Path:
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x)")
    return path


def commit(path: Path) -> None:
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("INSERT INTO t VALUES (1)")


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return make_database(tmp_path / "watched.db")


@pytest.fixture
def changes() -> list[int]:
    return []


def looked(path: Path, changes: list[int]) -> ChangeWatcher:
    """A watcher that has had its first look (the one that reports nothing)."""
    watcher = ChangeWatcher(path, lambda: changes.append(1))
    assert watcher.step()
    return watcher


def test_a_commit_by_another_connection_is_reported_once(
    database: Path, changes: list[int]
) -> None:
    watcher = looked(database, changes)
    commit(database)
    watcher.step()
    watcher.step()
    assert changes == [1]


def test_nothing_is_reported_without_a_commit(database: Path, changes: list[int]) -> None:
    watcher = looked(database, changes)
    watcher.step()
    assert changes == []


def test_an_idle_runner_is_not_watched(database: Path, changes: list[int]) -> None:
    busy = [True]
    watcher = ChangeWatcher(database, lambda: changes.append(1), busy=lambda: busy[0])
    watcher.step()
    busy[0] = False
    commit(database)
    watcher.step()
    assert changes == []


def test_a_commit_while_idle_is_reported_once_busy(database: Path, changes: list[int]) -> None:
    busy = [False]
    watcher = ChangeWatcher(database, lambda: changes.append(1), busy=lambda: busy[0])
    watcher.step()
    commit(database)
    busy[0] = True
    watcher.step()
    assert changes == [1]


def test_a_missing_database_is_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    watcher = ChangeWatcher(tmp_path / "gone" / "bt.db", lambda: None)
    with caplog.at_level(logging.INFO, logger="bt.runner"):
        assert [watcher.step() for _ in range(3)] == [False] * 3
    assert [r.message.split(":")[0] for r in caplog.records] == ["watcher_lost"]


def test_a_database_back_after_an_outage_counts_as_changed(
    tmp_path: Path, changes: list[int]
) -> None:
    path = tmp_path / "later.db"
    watcher = ChangeWatcher(path, lambda: changes.append(1))
    assert not watcher.step()
    make_database(path)
    assert watcher.step()
    assert changes == [1]


def test_the_thread_reports_a_commit(database: Path) -> None:
    calls: queue.SimpleQueue[None] = queue.SimpleQueue()
    watcher = ChangeWatcher(database, lambda: calls.put(None))
    watcher.start()
    assert watcher.ready.wait(10)
    commit(database)
    calls.get(timeout=10)
    watcher.stopped.set()


def test_the_thread_ends_when_stopped(database: Path) -> None:
    watcher = ChangeWatcher(database, lambda: None, interval=0.01)
    watcher.start()
    watcher.stopped.set()
    watcher.join(10)
    assert not watcher.is_alive()


@LISTENING_ONLY
def test_a_runner_hears_of_work_submitted_elsewhere(app: Brownthrower) -> None:
    """Its helpers: on SQLite the watcher (`CHANGED`), on PostgreSQL the listener (`WORK`)."""
    mailbox = Mailbox()
    helpers = Helpers(mailbox, Health())
    runner = Brownthrower(Database(app.db.url, single=True))  # the runner's one connection
    info = runner.runners.register(host="h", pid=os.getpid(), slots=1, tasks=["noop"], lease=3600)
    lease = Lease(3600, server=None)  # type: ignore[arg-type]  # never renewed in this test
    helpers.start(runner.runners, info.id, lease, runner.db, rejoin=None, sweeper=lambda: 0)
    try:
        app.jobs.create(JobSpec("noop"), submit=True)
        assert select.select([mailbox.read_fd], [], [], 10)[0]
        assert {e.kind for e in mailbox.take()} & {EventKind.CHANGED, EventKind.WORK}
    finally:
        helpers.stop()
        mailbox.close()
        runner.close()


class HeldMailbox(Mailbox):
    """A mailbox whose helper threads block in `post` until `release` is set, as if the main
    loop were slow to take their events: a listener then holds the runner's connection."""

    def __init__(self) -> None:
        super().__init__()
        self.entered, self.release = threading.Event(), threading.Event()

    def post(self, event: Event) -> None:
        if threading.current_thread() is not threading.main_thread():
            self.entered.set()
            self.release.wait(TIMEOUT)
        super().post(event)


@LISTENING_ONLY
def test_stopping_the_helpers_waits_until_none_holds_the_database(app: Brownthrower) -> None:
    mailbox, runner = HeldMailbox(), Brownthrower(Database(app.db.url, single=True))
    helpers = Helpers(mailbox, Health())
    info = runner.runners.register(host="h", pid=os.getpid(), slots=1, tasks=["noop"], lease=3600)
    lease = Lease(3600, server=None)  # type: ignore[arg-type]  # never renewed in this test
    helpers.start(runner.runners, info.id, lease, runner.db, rejoin=None, sweeper=lambda: 0)
    app.jobs.create(JobSpec("noop"), submit=True)
    assert mailbox.entered.wait(TIMEOUT)  # a helper is handing the news over
    threading.Timer(0.2, mailbox.release.set).start()
    helpers.stop()
    alive = [t.name for t in helpers.threads if t.is_alive()]
    checked_out = runner.db.engine.pool.checkedout()
    runner.close()
    mailbox.close()
    assert (alive, checked_out) == ([], 0)
