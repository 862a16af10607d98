"""Crash-loop backoff of one dispatcher's target: failures in a row stop submissions for a while.

A failure is a pilot that ended badly before claiming any job, or a submission the batch system
refused (a quota is "at capacity", not a failure). After `threshold` failures in a row,
submissions stop for `first` seconds, doubling at each further failure up to `cap`; the first
pilot that claims a job ends the backoff and clears the count. While failures are counted but
no backoff runs, fewer new pilots go out at once, so a broken pilot command costs at most
`threshold` submissions before the first pause. Pure: the caller gives the time (seconds since
the epoch) of everything.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Literal

THRESHOLD = 3  #: failures in a row before submissions stop
FIRST = 60.0  #: seconds of the first backoff
CAP_FACTOR = 30  #: the longest backoff is this many times the first (1 min → 30 min)

Kind = Literal["pilot", "submit"]


@dataclass(frozen=True)
class Failure:
    """One failure of the target."""

    at: float
    kind: Kind
    text: str  #: one line: what failed and why
    ran: float | None = None  #: seconds the pilot ran, when known


@dataclass
class Backoff:
    """The failure count and backoff of one dispatcher's target."""

    threshold: int = THRESHOLD
    first: float = FIRST
    streak: list[Failure] = field(default_factory=list)  #: failures since the last claim
    level: int = 0  #: backoffs taken since the last claim
    until: float | None = None  #: submissions stop until then
    reason: str = ""  #: why the current (or last) backoff started

    @property
    def cap(self) -> float:
        return self.first * CAP_FACTOR

    def failed(self, failure: Failure) -> bool:
        """Count `failure`; True when it starts a backoff."""
        self.streak.append(failure)
        if len(self.streak) < self.threshold or self.blocked(failure.at):
            return False
        self.until = failure.at + min(self.cap, self.first * 2**self.level)
        self.level += 1
        self.reason = summary(self.streak[-self.threshold :])
        return True

    def succeeded(self) -> bool:
        """A pilot claimed a job: no more backoff, count from zero. True if that changed
        anything."""
        changed = bool(self.streak or self.until)
        self.streak, self.level, self.until, self.reason = [], 0, None, ""
        return changed

    def blocked(self, now: float) -> bool:
        """Whether submissions stop at `now`."""
        return self.until is not None and now < self.until

    def allowance(self, now: float, on_trial: int) -> int | None:
        """How many more pilots may be submitted at `now` while `on_trial` pilots have not yet
        shown they work; None: as many as wanted (no failure counted)."""
        if self.blocked(now):
            return 0
        if not self.streak:
            return None
        return max(0, max(1, self.threshold - len(self.streak)) - on_trial)

    def state(self, now: float) -> str:
        """In words: `backing off until 14:32:10: 3 pilots exited within 2 s`, or the count."""
        if self.blocked(now) and self.until is not None:
            return f"backing off until {clock(self.until)}: {self.reason}"
        if not self.streak:
            return "ok"
        count = len(self.streak)
        line = f"{count} failure{'s' if count > 1 else ''} in a row ({summary(self.streak)})"
        if self.until is not None:
            line += f"; the last backoff ended at {clock(self.until)}, one pilot at a time"
        return line

    def to_dict(self) -> dict[str, Any]:
        """The state, for the dispatcher's journal."""
        return {
            "streak": [vars(f) for f in self.streak],
            "level": self.level,
            "until": self.until,
            "reason": self.reason,
        }

    def restore(self, data: dict[str, Any]) -> None:
        """Take the state back from the journal (a restarted dispatcher keeps its backoff)."""
        self.streak = [Failure(**f) for f in data.get("streak", [])]
        self.level = int(data.get("level", 0))
        self.until = data.get("until")
        self.reason = str(data.get("reason", ""))


def summary(failures: list[Failure]) -> str:
    """`3 pilots exited within 2 s`, `2 submissions failed`, or both, joined."""
    pilots = [f for f in failures if f.kind == "pilot"]
    parts = []
    if pilots:
        ran = [f.ran for f in pilots if f.ran is not None]
        noun = "pilot" if len(pilots) == 1 else "pilots"
        if len(ran) == len(pilots):
            parts.append(f"{len(pilots)} {noun} exited within {duration(max(ran))}")
        else:
            parts.append(f"{len(pilots)} {noun} failed before claiming a job")
    submits = len(failures) - len(pilots)
    if submits:
        parts.append(f"{submits} submission{'s' if submits > 1 else ''} failed")
    return ", ".join(parts)


def duration(seconds: float) -> str:
    """`2 s`, `5 min`, `3 h`: rounded up, so "within" stays true."""
    if seconds < 120:
        return f"{max(1, math.ceil(seconds))} s"
    if seconds < 7200:
        return f"{math.ceil(seconds / 60)} min"
    return f"{math.ceil(seconds / 3600)} h"


def clock(at: float) -> str:
    """`14:32:10`: the local time of day of `at`."""
    return dt.datetime.fromtimestamp(at).astimezone().strftime("%H:%M:%S")
