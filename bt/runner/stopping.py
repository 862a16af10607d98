"""When and why the runner stops: a signal, a stop request, a lost lease, and the grace period.

SIGTERM or SIGINT (what a batch system sends before its walltime kill) stops claiming and gives
the running jobs `--grace` seconds before they are killed and requeued; a second signal kills
them at once. The signal handler only counts; the main loop acts on the count (`handle`).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from bt.runner.options import StopReason
from bt.runner.running import KillReason
from bt.runner.slots import Slots

log = logging.getLogger("bt.runner")


class Stopping:
    """The runner's stop: its reason once it began, the end of the grace, signals seen."""

    def __init__(self, slots: Slots, grace: float) -> None:
        self.slots, self.grace = slots, grace
        self.reason: StopReason | None = None  #: None while the runner is not stopping
        self.grace_end: float | None = None  #: when the jobs still running are killed
        self.signals = self.signals_seen = 0

    def __bool__(self) -> bool:
        """Whether the runner is stopping (it claims nothing more)."""
        return self.reason is not None

    def on_signal(self, signum: int, _frame: Any) -> None:
        """The handler of the stop signals: counted here, acted on in `handle`."""
        self.signals += 1

    def handle(self) -> None:
        """Act on new signals: the first begins the grace, the next ones kill at once."""
        if self.signals == self.signals_seen:
            return
        first = self.signals_seen == 0
        self.signals_seen = self.signals
        if first:
            self.begin(StopReason.SIGNAL, grace=self.grace)
            return
        log.warning("runner_stopping_now: second signal, killing %d job(s)", len(self.slots))
        self.slots.kill_all(KillReason.PREEMPTED, now=True)

    def begin(self, reason: StopReason, *, grace: float | None) -> None:
        """Stop for `reason`; with `grace`, kill what still runs after that many seconds."""
        if self.reason is None:
            self.reason = reason
            jobs = len(self.slots)
            log.info("runner_stopping reason=%s jobs=%d grace=%s", reason, jobs, grace)
        if grace is not None:
            self.grace_end = time.monotonic() + grace

    def tick(self, clock: float) -> None:
        """At the end of the grace, kill (and so requeue) the jobs still running."""
        if self.grace_end is not None and clock >= self.grace_end:
            self.grace_end = None
            self.slots.kill_all(KillReason.PREEMPTED)
