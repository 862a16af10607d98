"""The hub: one look for a change per interval for every viewer, a cache computed once per
version and key, and an awaitable change for the server-sent events (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from bt import Brownthrower, JobSpec
from bt.db import Database
from tests import factories
from web.hub import Hub

WAIT = 10.0  #: seconds a test waits for what must happen (it fails past this, never sleeps)


@pytest.fixture
def writer(db_url: str) -> Iterator[Brownthrower]:
    """Another client of the same database: its commits are another connection's."""
    client = Brownthrower(Database(db_url))
    yield client
    client.close()


@pytest.fixture
def hub(app: Brownthrower) -> Iterator[Hub]:
    """A hub looking every 10 ms, with no periodic bump (a bump means a change was seen)."""
    made = Hub(app, interval=0.01, refresh=None)
    yield made
    made.stop()


def hub_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name in {"web-hub", "bt-listener"}]


def test_a_commit_by_another_client_bumps_the_version(hub: Hub, writer: Brownthrower) -> None:
    hub.start()
    before = hub.version
    factories.job(writer, submit=True)
    assert hub.wait_version(before, WAIT) > before


def test_on_sqlite_the_next_look_after_a_commit_sees_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/bt.db"
    with Brownthrower.open(url, auto_upgrade=True) as viewer, Brownthrower.open(url) as writer:
        hub = Hub(viewer, refresh=None)
        hub.watcher.start()
        factories.job(writer)  # STASHED: no NOTIFY anywhere, data_version sees it all the same
        assert hub.tick() and hub.version == 2
        hub.stop()


def test_no_commit_no_bump_even_while_pages_read(hub: Hub, app: Brownthrower) -> None:
    factories.job(app, submit=True)
    hub.watcher.start()
    for _ in range(5):
        app.jobs.list([])
        app.jobs.counts()
        assert not hub.tick()
    assert hub.version == 1


def test_refresh_bumps_even_without_a_change(app: Brownthrower) -> None:
    hub = Hub(app, refresh=0.0)
    hub.watcher.start()
    assert hub.tick() and hub.tick() and hub.version == 3
    hub.stop()


@pytest.mark.postgresql
def test_through_a_pooler_a_commit_is_seen_by_the_snapshot(pg_url: str) -> None:
    with Brownthrower(Database(pg_url, pooled=True)) as pooled:
        hub = Hub(pooled, refresh=None)
        hub.watcher.start()
        hub.tick()
        pooled.jobs.create(JobSpec("noop"))
        assert hub.watcher.exact and hub.tick()
        hub.stop()


def test_cached_computes_once_for_concurrent_callers(hub: Hub) -> None:
    callers = 16
    calls: list[int] = []
    arrived = threading.Semaphore(0)
    start = threading.Barrier(callers)

    def compute() -> object:
        calls.append(1)
        for _ in range(callers - 1):  # every other caller is at `cached` before this ends
            assert arrived.acquire(timeout=WAIT)
        return object()

    def view() -> object:
        start.wait(WAIT)
        arrived.release()
        return hub.cached("overview", compute)

    results = run_threads(view, callers)
    assert len(calls) == 1
    assert len({id(r) for r in results}) == 1


def run_threads(target: object, count: int) -> list[object]:
    results: list[object] = []
    threads = [
        threading.Thread(target=lambda: results.append(target()))  # type: ignore[operator]
        for _ in range(count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert len(results) == count
    return results


def test_one_key_computing_does_not_hold_up_another(hub: Hub) -> None:
    other_done = threading.Event()

    def slow() -> str:
        assert other_done.wait(WAIT), "the other key waited for this one"
        return "slow"

    thread = threading.Thread(target=hub.cached, args=("slow", slow))
    thread.start()
    assert hub.cached("fast", lambda: "fast") == "fast"
    other_done.set()
    thread.join(WAIT)
    assert hub.cached("slow", lambda: "again") == "slow"


def test_a_bump_drops_the_cache_and_the_next_call_recomputes(hub: Hub) -> None:
    class Value:
        pass

    calls: list[Value] = []

    def compute() -> Value:
        calls.append(Value())
        return calls[-1]

    first = hub.cached("k", compute)
    assert hub.cached("k", compute) is first and len(calls) == 1
    hub.bump()
    assert hub.cached("k", compute) is not first and len(calls) == 2
    old = weakref.ref(first)
    del first, calls[0]
    gc.collect()
    assert old() is None, "the old version's value is still held"


def test_an_exception_is_not_cached(hub: Hub) -> None:
    def broken() -> int:
        raise RuntimeError("database away")

    with pytest.raises(RuntimeError):
        hub.cached("k", broken)
    assert hub.cached("k", lambda: 7) == 7


def test_wait_change_returns_on_a_bump(hub: Hub) -> None:
    async def watch() -> int:
        waiting = asyncio.create_task(hub.wait_change(hub.version, timeout=3600))
        await asyncio.sleep(0)  # the task runs up to its wait
        await asyncio.to_thread(hub.bump)
        return await asyncio.wait_for(waiting, WAIT)

    assert asyncio.run(watch()) == 2


def test_wait_change_returns_on_a_commit(hub: Hub, writer: Brownthrower) -> None:
    hub.start()

    async def watch() -> int:
        waiting = asyncio.create_task(hub.wait_change(hub.version, timeout=3600))
        await asyncio.sleep(0)
        await asyncio.to_thread(factories.job, writer, submit=True)
        return await asyncio.wait_for(waiting, WAIT)

    assert asyncio.run(watch()) > 1


def test_wait_change_returns_at_once_for_an_older_version_and_at_timeout(hub: Hub) -> None:
    hub.bump()
    assert asyncio.run(hub.wait_change(1, timeout=3600)) == 2
    assert asyncio.run(hub.wait_change(2, timeout=0.01)) == 2


def test_stop_ends_the_threads_and_wakes_waiters(hub: Hub) -> None:
    hub.start()
    assert "web-hub" in hub_threads()

    async def watch() -> int:
        waiting = asyncio.create_task(hub.wait_change(hub.version + 100, timeout=3600))
        await asyncio.sleep(0)
        await asyncio.to_thread(hub.stop)
        return await asyncio.wait_for(waiting, WAIT)

    assert asyncio.run(watch()) >= 1
    assert hub_threads() == []
