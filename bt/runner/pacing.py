"""When the runner next looks for work: again at once while it finds some, less often while not.

Finding nothing backs off, doubling from `FIRST_BACKOFF` up to the poll interval; finding work
resets the backoff. A slot becoming free or a notification of new work makes the next look due
at once (`wake`) without resetting the backoff. Each wait may be shifted at random by up to
`jitter` of itself, so that a farm of pilots started together does not poll in step.
"""

from __future__ import annotations

import random
from collections.abc import Callable

FIRST_BACKOFF = 0.05  #: seconds before the first re-poll when no work was found
JITTER = 0.25  #: the part of each wait shifted at random, on PostgreSQL (±)


class ClaimPacer:
    """The claim timer of one runner, on the `time.monotonic()` clock."""

    def __init__(
        self,
        poll: float,
        *,
        jitter: float = 0.0,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.poll = poll  #: the longest backoff
        self.jitter, self.uniform = jitter, uniform
        self.backoff = FIRST_BACKOFF  #: the wait after the next look that finds nothing
        self.next_claim = 0.0  #: when looking for work is due
        self.idle = False  #: the last look found nothing

    def due(self, now: float) -> bool:
        """Whether looking for work is due at `now`."""
        return now >= self.next_claim

    def wake(self) -> None:
        """Make the next look due at once (work was announced, or a slot became free)."""
        self.next_claim = 0.0

    def after_claim(self, *, found: bool, now: float) -> None:
        """Note what a look at `now` found: work resets the backoff, nothing doubles it."""
        if found:
            self.idle, self.backoff = False, FIRST_BACKOFF
            return
        self.idle = True
        self.next_claim = now + self.backoff * (1 + self.uniform(-self.jitter, self.jitter))
        self.backoff = min(self.backoff * 2, self.poll)

    def retry_due_in(self, seconds: float, now: float) -> None:
        """A delayed retry becomes runnable `seconds` from `now`: look then at the latest."""
        self.next_claim = min(self.next_claim, now + seconds)
