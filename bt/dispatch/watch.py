"""What each pilot of a dispatcher did: when it started, which runner it became, whether that
runner holds or ever claimed a job, and, once it ends, whether the end was a failure.

A pilot's script prints a banner with the pid and host of the runner it `exec`s; with those the
dispatcher finds the runner's row (its id), then whether the runner holds a job (busy) and
whether it claimed any (`bt.dispatch.probe`). Records live as long as the batch system lists
the pilot; a pilot that ends between two passes is still judged, because submitted pilots are
tracked from their submission on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from bt.dispatch.backend import Pilot

TRIAL = 60.0  #: seconds a started pilot stays on trial unless it claims a job first
#: Ends that count as a failure of the target when the pilot claimed nothing (a walltime, a
#: pre-emption or a cancel by someone else does not say the pilot is broken).
CRASH_STATES = frozenset({"FAILED", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL"})
BANNER = re.compile(r"^brownthrower pilot \S+ pid (\d+) on (\S+)")

Verdict = Literal["failure", "success", "neutral"]


@dataclass
class Tracked:
    """One pilot as this dispatcher knows it."""

    batch_id: str
    submitted: float | None = None  #: when this dispatcher submitted it; None: adopted
    started: float | None = None  #: when a pass first saw it live and not pending
    where: tuple[str, int] | None = None  #: (host, pid) of its runner, from its banner
    runners: set[int] = field(default_factory=set)  #: runner ids it registered as
    registered: bool = False  #: its runner is registered now
    busy: bool = False  #: its runner holds a job now
    claimed: bool = False  #: its runner claimed a job (once true, stays true)
    cancelled: bool = False  #: this dispatcher cancelled it
    state: str = "PENDING"  #: its batch state at the last pass

    def on_trial(self, now: float) -> bool:
        """Submitted by this dispatcher and not yet shown to work: queued, starting, or started
        less than `TRIAL` seconds ago without claiming a job."""
        if self.claimed or self.cancelled or self.submitted is None:
            return False
        return self.started is None or now - self.started < TRIAL


@dataclass(frozen=True)
class Ending:
    """A pilot that ended (`pilot` None: it vanished from the batch system)."""

    tracked: Tracked
    pilot: Pilot | None


class PilotWatch:
    """The records of one dispatcher's pilots, updated at each pass."""

    def __init__(self) -> None:
        self.pilots: dict[str, Tracked] = {}

    def submitted(self, batch_id: str, now: float) -> None:
        self.pilots[batch_id] = Tracked(batch_id, submitted=now)

    def cancelled(self, batch_id: str) -> None:
        if batch_id in self.pilots:
            self.pilots[batch_id].cancelled = True

    def observe(self, pilots: list[Pilot], now: float) -> list[Ending]:
        """Take the batch system's list: adopt pilots not known yet, note starts, and return
        the known pilots that ended (or vanished) since the last pass (forgotten once judged)."""
        listed = {p.batch_id: p for p in pilots}
        ended = []
        for batch_id, tracked in list(self.pilots.items()):
            pilot = listed.get(batch_id)
            if pilot is None or pilot.final:
                ended.append(Ending(tracked, pilot))
            elif pilot.live:
                tracked.state = pilot.state
                if not pilot.pending and tracked.started is None:
                    tracked.started = now
        for pilot in pilots:
            if pilot.live and pilot.batch_id not in self.pilots:
                self.pilots[pilot.batch_id] = Tracked(pilot.batch_id, state=pilot.state)
                if not pilot.pending:
                    self.pilots[pilot.batch_id].started = now
        return ended

    def forget(self, endings: list[Ending]) -> None:
        for ending in endings:
            self.pilots.pop(ending.tracked.batch_id, None)

    def live(self) -> list[Tracked]:
        """The records of pilots still live (ended ones are forgotten at the end of a pass)."""
        return [t for t in self.pilots.values() if not t.cancelled]

    def count(self, now: float) -> dict[str, int]:
        """Live pilots not cancelled by this dispatcher, by what they do: `pending`,
        `starting` (no runner registered yet), `idle`, `busy` (a pilot whose runner has gone
        but which is still listed is none of them), and `on_trial`."""
        counts = dict.fromkeys(("pending", "starting", "idle", "busy", "on_trial"), 0)
        for tracked in self.live():
            if tracked.state == "PENDING":
                counts["pending"] += 1
            elif tracked.registered:
                counts["busy" if tracked.busy else "idle"] += 1
            elif not tracked.runners:
                counts["starting"] += 1
            counts["on_trial"] += tracked.on_trial(now)
        return counts


def verdict(ending: Ending, *, looping: bool) -> Verdict:
    """What a pilot's end says of the target: a job claimed is a success; a crash before any
    claim is a failure, and so is a clean exit of a `looping` pilot never seen registered (a
    looping runner does not leave by itself that soon); anything else (a draining pilot with
    nothing to do, a cancel, a walltime) says nothing."""
    tracked, pilot = ending.tracked, ending.pilot
    if tracked.claimed:
        return "success"
    if tracked.cancelled or pilot is None:
        return "neutral"
    if pilot.state in CRASH_STATES:
        return "failure"
    unregistered = pilot.state == "COMPLETED" and not tracked.runners
    return "failure" if looping and unregistered else "neutral"


def banner(first_line: str) -> tuple[str, int] | None:
    """(host, pid) of the runner, from the first line a pilot prints; None if not there yet."""
    found = BANNER.match(first_line)
    return (found.group(2), int(found.group(1))) if found else None


def tail(path: Path | None, lines: int = 10, limit: int = 64 * 1024) -> list[str]:
    """The last `lines` lines of a pilot's log (its stdout and stderr), at most `limit` bytes."""
    if path is None:
        return []
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - limit))
            data = handle.read().decode(errors="replace")
    except OSError:
        return []
    return data.splitlines()[-lines:]
