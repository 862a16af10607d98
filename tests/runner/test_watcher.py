"""The SQLite change watcher: one call per look that finds another connection's commit, nothing
while the runner is idle, one warning per outage, and a thread that ends when stopped.

SQLite only by design: on PostgreSQL LISTEN/NOTIFY does this (the end-to-end test of an abort
seen before the poll, in test_abort.py, runs on both).
"""

from __future__ import annotations

import logging
import queue
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bt.runner.watcher import ChangeWatcher


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
    """A watcher that has had its first look (which assumes a change) and forgot it."""
    watcher = ChangeWatcher(path, lambda: changes.append(1))
    watcher.step()
    changes.clear()
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
    watcher = ChangeWatcher(database, lambda: changes.append(1), busy=lambda: False)
    commit(database)
    assert watcher.step()
    assert changes == []


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
    calls.get(timeout=10)  # the first look
    commit(database)
    calls.get(timeout=10)
    watcher.stopped.set()


def test_the_thread_ends_when_stopped(database: Path) -> None:
    watcher = ChangeWatcher(database, lambda: None, interval=0.01)
    watcher.start()
    watcher.stopped.set()
    watcher.join(10)
    assert not watcher.is_alive()
