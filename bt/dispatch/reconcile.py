"""The reconciliation pass: desired pilots against the batch system's view, and the difference.

Each pass asks the backend for this dispatcher's pilots, learns from the database what their
runners do (`probe`), judges the pilots that ended (`watch.verdict`: a crash before any claim is
a failure of the target, `backoff`), works out how many pilots should exist (a fixed number, or
what the demand asks, `sizing`), and submits or cancels the difference, fewer or none while the
target fails. Errors from the batch system become warnings in the pass report (and failures,
for a refused submission); the next pass tries again. What the shell must see goes into the
dispatcher's `journal`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from bt.dispatch.backend import FAILED_STATES, AtCapacity, Backend, BatchError, Pilot
from bt.dispatch.backoff import Backoff, Failure, duration
from bt.dispatch.journal import Entry, FailedPilot, Journal
from bt.dispatch.sizing import Caps, Demand, Sizing, Work, size
from bt.dispatch.watch import Ending, PilotWatch, Tracked, tail, verdict
from bt.errors import BrownthrowerError

log = logging.getLogger(__name__)

Mode = Literal["static", "on-demand"]
TAIL = 10  #: lines of a failed pilot's output kept


@dataclass(frozen=True)
class Policy:
    """How many pilots a dispatcher keeps.

    static: `pilots` looping pilots, always. on-demand: as many as the runnable and soon-runnable
    work asks (`bt.dispatch.sizing`), within `max_pilots`, `max_pending` and `max_submit` per
    pass; pilots drain (exit when nothing is runnable), or with `idle_exit` loop and exit after
    that many idle seconds, which lets them wait for work about to open.
    """

    mode: Mode = "static"
    pilots: int = 1
    max_pilots: int = 10
    jobs_per_pilot: int = 1
    max_pending: int | None = None
    max_submit: int = 20
    idle_exit: float | None = None

    @property
    def loop(self) -> bool:
        """Whether pilots wait for work (static, or on-demand with `idle_exit`) or drain."""
        return self.mode == "static" or self.idle_exit is not None

    @property
    def caps(self) -> Caps:
        """The bounds of on-demand sizing; soon-runnable work counts only for waiting pilots."""
        return Caps(
            self.max_pilots, self.max_pending, self.max_submit, self.jobs_per_pilot, self.loop
        )

    def describe(self) -> str:
        """The policy in words, for the screen."""
        if self.mode == "static":
            return f"static: keep {_pilots(self.pilots)}, looping"
        bounds = [f"at most {_pilots(self.max_pilots)}"]
        if self.max_pending is not None:
            bounds.append(f"{self.max_pending} pending")
        bounds.append(f"{self.max_submit} submitted per pass")
        if self.idle_exit is None:
            how = "draining"
        else:
            how = f"looping, exit after {self.idle_exit:g} s idle"
        work = "runnable or soon-runnable" if self.loop else "runnable"
        return (
            f"on-demand: one pilot per {self.jobs_per_pilot} {work} job(s), "
            f"{', '.join(bounds)}, {how}"
        )


@dataclass
class PassReport:
    """What one pass saw and did."""

    pilots: list[Pilot] | None = None  #: None when the batch system could not be asked
    desired: int | None = None
    submitted: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)  #: pilots that ended, for the log
    warnings: list[str] = field(default_factory=list)
    demand: Demand | None = None  #: on-demand: what the sizing saw
    sizing: Sizing | None = None
    held: int = 0  #: pilots wanted but not submitted because of failures (see `backoff`)
    backoff: str = "ok"  #: the crash-loop state in words

    @property
    def live(self) -> int:
        """How many pilots are queued or running."""
        return sum(1 for p in self.pilots or () if p.live)

    def batch_counts(self) -> dict[str, int]:
        """Pilots per batch state."""
        return dict(sorted(Counter(p.state for p in self.pilots or ()).items()))


class Probe(Protocol):
    """Fills in what the pilots' runners do (`bt.dispatch.probe.RunnerProbe`)."""

    def update(self, records: Sequence[Tracked]) -> None: ...


class Reconciler:
    """Runs passes for one dispatcher over one backend."""

    def __init__(
        self,
        backend: Backend,
        policy: Policy,
        command: Sequence[str],
        env: Mapping[str, str],
        *,
        probe: Probe | None = None,
        backoff: Backoff | None = None,
        journal: Journal | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.backend = backend
        self.policy = policy
        self.command = list(command)
        self.env = dict(env)
        self.probe = probe
        self.backoff = backoff or Backoff()
        self.journal = journal or Journal()
        self.clock = clock  #: seconds since the epoch; tests move it to end a backoff
        self.watch = PilotWatch()

    def reconcile(self, work: Work | Callable[[], Work | None] | None) -> PassReport:
        """One pass: look, learn, judge, compare, act. Never raises for batch-system trouble;
        `work` None (the database could not count it) changes nothing on-demand. A callable
        `work` is counted after the pilots' runners were looked at, so a job claimed between
        the two looks is seen as taken rather than as work still wanting a pilot."""
        now = self.clock()
        report = PassReport()
        try:
            report.pilots = self.backend.status()
        except BatchError as exc:
            report.warnings.append(f"cannot list pilots: {exc}")
            return self._close(report, now)
        endings = self.watch.observe(report.pilots, now)
        self._learn(report)
        for ending in endings:
            self._judge(ending, report, now)
        self.watch.forget(endings)
        if callable(work):
            work = work()
        if self.policy.mode == "static":
            self._keep(report, now)
        elif work is not None:
            self._size(work, report, now)
        if report.submitted or report.cancelled:
            self._refresh(report)
        return self._close(report, now)

    def cancel_all(self) -> PassReport:
        """Cancel every live pilot of this dispatcher (on exit with --cancel-on-exit)."""
        report = PassReport(desired=0)
        try:
            report.pilots = self.backend.status()
        except BatchError as exc:
            report.warnings.append(f"cannot list pilots: {exc}")
            return report
        self._cancel([p for p in report.pilots if p.live], report)
        return report

    # -- learning and judging ---------------------------------------------------------------

    def _learn(self, report: PassReport) -> None:
        """Ask the database what the pilots' runners do; a first claim ends any backoff."""
        if self.probe is None:
            return
        records = list(self.watch.pilots.values())
        before = {t.batch_id for t in records if t.claimed}
        try:
            self.probe.update(records)
        except BrownthrowerError as exc:
            report.warnings.append(f"cannot see the pilots' runners: {exc}")
            return
        claimers = [t.batch_id for t in records if t.claimed and t.batch_id not in before]
        if claimers and self.backoff.succeeded():
            report.events.append(f"pilot {claimers[0]} claimed a job: failure count cleared")

    def _judge(self, ending: Ending, report: PassReport, now: float) -> None:
        pilot, tracked = ending.pilot, ending.tracked
        if pilot is None:
            report.warnings.append(f"pilot {tracked.batch_id} vanished from the batch system")
            return
        _note_end(pilot, tracked.cancelled, report)
        if verdict(ending, looping=self.policy.loop) != "failure":
            return
        ran = f" after {duration(pilot.elapsed)}" if pilot.elapsed is not None else ""
        why = f" ({pilot.reason})" if pilot.reason else ""
        never = "claiming a job"
        if pilot.state == "COMPLETED":  # a looping pilot that left at once
            why, never = " (exit code 0)", "registering"
        text = f"pilot {pilot.batch_id} {pilot.state}{why}{ran} without {never}"
        lines = tail(self.backend.log(pilot.batch_id), TAIL)
        self.journal.failed_pilot = FailedPilot(pilot.batch_id, now, text, lines)
        self._failed(Failure(now, "pilot", text, pilot.elapsed), report)

    def _failed(self, failure: Failure, report: PassReport) -> None:
        self.journal.failed(failure.at, failure.text)
        if self.backoff.failed(failure):
            report.warnings.append(self.backoff.state(failure.at))

    # -- deciding ---------------------------------------------------------------------------

    def _keep(self, report: PassReport, now: float) -> None:
        """static: submit the missing pilots, cancel the surplus."""
        live = self._live(report)
        report.desired = self.policy.pilots
        missing = self.policy.pilots - len(live)
        if missing > 0:
            self._submit(min(missing, self.policy.max_submit), report, now)
        elif missing < 0:
            self._cancel(self._surplus(live, -missing), report)

    def _size(self, work: Work, report: PassReport, now: float) -> None:
        """on-demand: as many pilots as the demand asks, within the caps."""
        live = self._live(report)
        counts = self.watch.count(now)
        demand = Demand(
            work.runnable,
            work.soon_runnable,
            idle=counts["idle"],
            pending=sum(1 for p in live if p.pending),
            starting=counts["starting"],
            live=len(live),
        )
        sizing = size(demand, self.policy.caps)
        report.demand, report.sizing = demand, sizing
        report.desired = len(live) + sizing.submit - sizing.cancel
        if sizing.cancel:
            self._cancel(self._surplus(live, sizing.cancel), report)
        self._submit(sizing.submit, report, now)

    def _live(self, report: PassReport) -> list[Pilot]:
        cancelled = {t.batch_id for t in self.watch.pilots.values() if t.cancelled}
        return [p for p in report.pilots or () if p.live and p.batch_id not in cancelled]

    def _surplus(self, live: list[Pilot], count: int) -> list[Pilot]:
        """Which pilots to cancel: pending ones first; on-demand never cancels a running one,
        which drains by itself instead of dropping the jobs it holds."""
        pending = [p for p in live if p.pending]
        others = [] if self.policy.mode == "on-demand" else [p for p in live if not p.pending]
        ordered = sorted(pending, key=_newest_first) + sorted(others, key=_newest_first)
        return ordered[:count]

    # -- acting -----------------------------------------------------------------------------

    def _submit(self, count: int, report: PassReport, now: float) -> None:
        allowed = self.backoff.allowance(now, self.watch.count(now)["on_trial"])
        if allowed is not None and allowed < count:
            report.held, count = count - allowed, allowed
        for _ in range(count):
            try:
                batch_id = self.backend.submit(self.command, self.env)
            except AtCapacity as exc:
                report.warnings.append(f"at capacity, not submitting: {exc}")
                self.journal.capacity = Entry(now, str(exc))
                return
            except BatchError as exc:
                report.warnings.append(f"cannot submit a pilot: {exc}")
                self.journal.submit_error = Entry(now, str(exc))
                self._failed(Failure(now, "submit", f"submission failed: {exc}"), report)
                return  # the next pass tries again
            self.watch.submitted(batch_id, now)
            self.journal.submitted(now, batch_id)
            report.submitted.append(batch_id)

    def _cancel(self, pilots: list[Pilot], report: PassReport) -> None:
        for pilot in pilots:
            try:
                self.backend.cancel(pilot.batch_id)
            except BatchError as exc:
                report.warnings.append(f"cannot cancel pilot {pilot.batch_id}: {exc}")
                continue
            self.watch.cancelled(pilot.batch_id)
            report.cancelled.append(pilot.batch_id)

    def _refresh(self, report: PassReport) -> None:
        """Show the pilots as they are after this pass's actions (if the batch system answers)."""
        with contextlib.suppress(BatchError):
            report.pilots = self.backend.status()

    def _close(self, report: PassReport, now: float) -> PassReport:
        """The crash-loop state in the report, and the pass in the journal."""
        report.backoff = self.backoff.state(now)
        journal = self.journal
        journal.updated, journal.mode = now, self.policy.mode
        journal.demand, journal.sizing, journal.lookahead = (
            report.demand,
            report.sizing,
            self.policy.loop,
        )
        journal.backoff = self.backoff.to_dict()
        if report.pilots is not None:
            journal.pilots = sorted((p.batch_id for p in report.pilots if p.live), key=_by_id)
        return report


def _note_end(pilot: Pilot, cancelled_by_us: bool, report: PassReport) -> None:
    detail = f" ({pilot.reason})" if pilot.reason else ""
    if not cancelled_by_us and (pilot.state in FAILED_STATES or pilot.state == "CANCELLED"):
        report.warnings.append(f"pilot {pilot.batch_id} ended {pilot.state}{detail}")
    else:
        report.events.append(f"pilot {pilot.batch_id} ended {pilot.state}{detail}")


def _pilots(count: int) -> str:
    return f"{count} pilot" if count == 1 else f"{count} pilots"


def _newest_first(pilot: Pilot) -> tuple[int, str]:
    digits = pilot.batch_id.isdigit()
    return (-int(pilot.batch_id) if digits else 0, pilot.batch_id)


def _by_id(batch_id: str) -> tuple[int, str]:
    return (int(batch_id) if batch_id.isdigit() else 0, batch_id)
