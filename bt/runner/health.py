"""Whether the runner's database answers, and how long to wait before asking it again.

Every call of the runner that finds the database unreachable reports it here; the first report
of an outage is logged as a warning, the others only at debug level, and the heartbeat's next
success logs the end of it: one line per change of state, however many tries an outage takes.
The runner keeps its jobs through an outage (they die only if its lease lapses meanwhile,
`bt.runner.forkserver`) and reconnects by retrying, with `Backoff` between the heartbeat's tries.
"""

from __future__ import annotations

import logging
import threading
import time

from bt import errors

log = logging.getLogger("bt.runner")

#: the errors that mean "the database does not answer now", as opposed to a refused change
OUTAGE = (errors.DatabaseUnavailable, errors.Contention)
FIRST_RETRY = 0.1  #: seconds before the heartbeat's first retry after a failure


class Health:
    """The runner's view of its database: up, or down since a moment (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.down_since: float | None = None

    def failed(self, what: str, exc: errors.BrownthrowerError, detail: str = "") -> None:
        """`what` failed with `exc` (`detail`: e.g. ` job=3`): an outage is logged when it
        starts, anything else every time."""
        if not isinstance(exc, OUTAGE):
            log.warning("%s_failed%s: %s", what, detail, exc)
            return
        with self._lock:
            starts, self.down_since = self.down_since is None, self.down_since or time.monotonic()
        if starts:
            log.warning("database_unreachable (%s%s): %s; retrying", what, detail, exc)
        else:
            log.debug("%s_failed%s: %s", what, detail, exc)

    def answered(self) -> bool:
        """The database answered; whether that ends an outage (logged once)."""
        with self._lock:
            since, self.down_since = self.down_since, None
        if since is not None:
            log.warning("database_reachable after %.1f s", time.monotonic() - since)
        return since is not None


class Backoff:
    """Capped exponential waits: `FIRST_RETRY`, doubling up to `cap`; `reset` after a success."""

    def __init__(self, cap: float) -> None:
        self.cap = cap
        self.wait = min(FIRST_RETRY, cap)

    def next(self) -> float:
        """The wait before the next try (and doubles the one after)."""
        wait, self.wait = self.wait, min(self.wait * 2, self.cap)
        return wait

    def reset(self) -> None:
        self.wait = min(FIRST_RETRY, self.cap)
