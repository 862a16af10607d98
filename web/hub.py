"""The hub: one look at the database per second for all viewers, and what they share.

A thread looks every `interval` seconds whether the database changed (`bt.changes`: SQLite's
`data_version`, PostgreSQL's NOTIFY, or always through a pooler) and bumps `version` when it did,
and at least every `refresh` seconds anyway, so heartbeat ages and "running for" clocks move.
Pages and API answers are computed through `cached`: at most once per version and key, however
many viewers ask at once. The server-sent events endpoint awaits `wait_change`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar

from bt.changes import ChangeWatcher

if TYPE_CHECKING:
    from bt import Brownthrower

log = logging.getLogger("web.hub")

T = TypeVar("T")

INTERVAL = 1.0  #: seconds between two looks for a change
REFRESH = 5.0  #: seconds after which the version is bumped even when nothing changed


class _Slot:
    """One cached value: computed once, under its own lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done = False
        self.value: Any = None


class Hub:
    """The shared change detector and per-version cache of one web server."""

    def __init__(
        self,
        app: Brownthrower,
        *,
        interval: float = INTERVAL,
        refresh: float | None = REFRESH,
        watcher: ChangeWatcher | None = None,
    ) -> None:
        self.app = app
        self.interval = interval
        self.refresh = refresh  #: None: bump only on a change seen
        self.watcher = watcher if watcher is not None else ChangeWatcher(app)
        self._version = 1
        self._bumped_at = time.monotonic()
        self._lock = threading.Lock()  #: guards the version, the slots and the waiters
        self._bumped = threading.Condition(self._lock)
        self._slots: dict[Hashable, _Slot] = {}  #: the current version's values by key
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def version(self) -> int:
        """Bumped whenever the database changed (or `refresh` passed) since the previous look."""
        return self._version

    def start(self) -> None:
        """Start looking for changes in a background thread."""
        if self._thread is not None:
            return
        self.watcher.start()
        self._stopped.clear()
        self._thread = threading.Thread(target=self._run, name="web-hub", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (joined), close the watcher, wake every waiter."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.watcher.close()
        self._wake_all()

    def tick(self) -> bool:
        """One look (what the thread does every `interval`); whether the version was bumped."""
        try:
            changed = self.watcher.changed()
        except Exception:  # a failed look counts as a change: the pages show the outage
            log.exception("change_look_failed")
            changed = True
        due = self.refresh is not None and time.monotonic() - self._bumped_at >= self.refresh
        if changed or due:
            self.bump()
        return changed or due

    def bump(self) -> None:
        """A new version: the cache is dropped and every waiter woken."""
        with self._lock:
            self._version += 1
            self._bumped_at = time.monotonic()
            self._slots = {}
        self._wake_all()

    def cached(self, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()`'s value for `key` at the current version, computed once for all callers
        (concurrent callers of one key wait for the first); an exception is not cached."""
        with self._lock:
            slot = self._slots.setdefault(key, _Slot())
        with slot.lock:
            if not slot.done:
                slot.value, slot.done = compute(), True
            return slot.value  # type: ignore[no-any-return]

    def wait_version(self, after_version: int, timeout: float) -> int:
        """Block until the version is past `after_version` or `timeout` passed; the version."""
        with self._bumped:
            self._bumped.wait_for(lambda: self._version > after_version, timeout)
            return self._version

    async def wait_change(self, after_version: int, timeout: float) -> int:
        """Await a version past `after_version` (or `timeout` seconds, or `stop`); the version."""
        woken = asyncio.Event()
        waiter = (asyncio.get_running_loop(), woken)
        with self._lock:
            if self._version > after_version:
                return self._version
            self._waiters.add(waiter)
        try:
            await asyncio.wait_for(woken.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiters.discard(waiter)
        return self._version

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            self.tick()

    def _wake_all(self) -> None:
        with self._lock:
            waiters = list(self._waiters)
            self._bumped.notify_all()
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # its loop is closed: that viewer is gone
                log.debug("waiter_loop_closed")
