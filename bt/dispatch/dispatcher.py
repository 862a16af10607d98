"""The dispatcher: job counts for the eligible tasks, one reconciliation pass, a snapshot to show.

Front ends (the `bt-dispatcher` program, the shell's `dispatcher status`) call `step()` or
`look()` and render the `Snapshot`; nothing here knows about terminals or threads.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bt.client import Brownthrower
from bt.dispatch import journal
from bt.dispatch.backend import Backend, BatchError
from bt.dispatch.backoff import FIRST, Backoff
from bt.dispatch.journal import Journal
from bt.dispatch.reconcile import PassReport, Policy, Reconciler
from bt.dispatch.script import mask_argv
from bt.dispatch.sizing import Work, describe
from bt.errors import BrownthrowerError
from bt.status import QUEUED_PARTS, RUNNABLE, Status

log = logging.getLogger(__name__)

#: The job counts the BT status box shows, in this order.
BT_STATUSES: tuple[str, ...] = (
    Status.DONE,
    Status.FAILED,
    Status.QUEUED,
    *QUEUED_PARTS,
    Status.RUNNING,
    Status.STAND_BY,
)


@dataclass(frozen=True)
class Snapshot:
    """Everything a screen shows after a pass."""

    settings: list[tuple[str, str]]
    bt_counts: dict[str, int] | None  #: None when the database could not be read
    report: PassReport
    at: dt.datetime
    #: what the running dispatcher recorded (for `look()`: read from its state directory,
    #: None if it never ran there)
    journal: Journal | None = None

    @property
    def batch_counts(self) -> dict[str, int]:
        """Pilots per batch state (what the batch status box shows)."""
        return self.report.batch_counts()

    @property
    def warnings(self) -> list[str]:
        """What went wrong in this pass (database or batch system), one line each."""
        return self.report.warnings

    def summary(self) -> str:
        """One log line: desired and live pilots, what was done, the job counts."""
        batch = " ".join(f"{k} {v}" for k, v in self.batch_counts.items()) or "none"
        parts = [
            f"pilots: desired {'?' if self.report.desired is None else self.report.desired}, "
            f"live {self.report.live} ({batch})"
        ]
        if self.report.submitted:
            parts.append("submitted " + " ".join(self.report.submitted))
        if self.report.cancelled:
            parts.append("cancelled " + " ".join(self.report.cancelled))
        if self.report.demand is not None and self.report.sizing is not None:
            parts.append("demand: " + describe(self.report.demand, self.report.sizing))
        if self.report.backoff != "ok":
            held = f" ({self.report.held} held back)" if self.report.held else ""
            parts.append(f"{self.report.backoff}{held}")
        counts = self.bt_counts
        jobs = " ".join(f"{s} {counts[s]}" for s in BT_STATUSES) if counts else "unavailable"
        return "; ".join([*parts, f"jobs: {jobs}"])


class Dispatcher:
    """One dispatcher (identified by `dispatcher_id`) over a database and a backend."""

    def __init__(
        self,
        app: Brownthrower,
        backend: Backend,
        policy: Policy,
        *,
        dispatcher_id: str,
        patterns: Sequence[str],
        command: Sequence[str],
        env: Mapping[str, str],
        database: str,
        state_dir: Path,
        backoff: float = FIRST,
    ) -> None:
        self.app = app
        self.backend = backend
        self.policy = policy
        self.dispatcher_id = dispatcher_id
        self.patterns = list(patterns)
        self.command = list(command)
        self.database = database  #: masked, for display
        self.state_dir = state_dir  #: pilot records, logs, the URL file, the journal
        self.journal = _restored(state_dir, dispatcher_id)
        failures = Backoff(first=backoff)
        failures.restore(self.journal.backoff)
        from bt.dispatch.probe import RunnerProbe  # SQLAlchemy: not at the shell's start

        self.reconciler = Reconciler(
            backend,
            policy,
            command,
            env,
            probe=RunnerProbe(app, backend.log),
            backoff=failures,
            journal=self.journal,
        )
        self._tasks = app.registry.matching(patterns) if patterns else None

    def settings(self) -> list[tuple[str, str]]:
        """What the screen's header shows (secrets masked)."""
        return [
            ("Dispatcher", self.dispatcher_id),
            ("Pilots", self.policy.describe()),
            ("Runner command", mask_argv(self.command)),
            ("Database", self.database),
            ("Batch system", self.backend.description),
            ("Eligible tasks", " ".join(self.patterns) or "*"),
        ]

    def job_counts(self, warnings: list[str]) -> dict[str, int] | None:
        """Job counts of the eligible tasks, or None (with a warning) if the database fails."""
        try:
            return self.app.jobs.counts(tasks=self._tasks)
        except BrownthrowerError as exc:
            warnings.append(f"cannot count jobs: {exc}")
            return None

    def work(self, counts: dict[str, int] | None, warnings: list[str]) -> Work | None:
        """The runnable and (on-demand) soon-runnable jobs of the eligible tasks; None (with a
        warning) if the database fails."""
        if counts is None:
            return None
        if self.policy.mode == "static":
            return Work(counts.get(RUNNABLE, 0))
        from bt.dispatch.probe import soon_runnable

        try:
            with self.app.db.read() as session:
                soon = soon_runnable(session, self._tasks)
        except BrownthrowerError as exc:
            warnings.append(f"cannot count soon-runnable jobs: {exc}")
            return None
        return Work(counts.get(RUNNABLE, 0), soon)

    def step(self) -> Snapshot:
        """Count jobs, reconcile pilots once, record the pass, and log what happened."""
        warnings: list[str] = []
        counted: list[dict[str, int] | None] = []

        def work() -> Work | None:  # counted after the probe: a fresh claim is not demand
            counted.append(self.job_counts(warnings))
            return self.work(counted[-1], warnings)

        report = self.reconciler.reconcile(work)
        counts = counted[-1] if counted else self.job_counts(warnings)
        report.warnings[:0] = warnings
        self.journal.dispatcher_id = self.dispatcher_id
        try:
            journal.save(self.state_dir, self.journal)
        except OSError as exc:
            report.warnings.append(f"cannot write the journal: {exc}")
        for event in report.events:
            log.info(event)
        for warning in report.warnings:
            log.warning(warning)
        return Snapshot(self.settings(), counts, report, _now(), self.journal)

    def look(self) -> Snapshot:
        """Counts and pilots as they are, with what the running dispatcher last recorded,
        changing nothing (`dispatcher status`)."""
        report = PassReport()
        counts = self.job_counts(report.warnings)
        try:
            report.pilots = self.backend.status()
        except BatchError as exc:
            report.warnings.append(f"cannot list pilots: {exc}")
        recorded = journal.load(self.state_dir)
        return Snapshot(self.settings(), counts, report, _now(), recorded)

    def shutdown(self, timeout: float = 60.0, poll: float = 1.0) -> Snapshot:
        """Cancel every pilot and wait (up to `timeout`) until the batch system shows none live."""
        report = self.reconciler.cancel_all()
        for warning in report.warnings:
            log.warning(warning)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            snapshot = self.look()
            if snapshot.report.pilots is not None and snapshot.report.live == 0:
                return snapshot
            time.sleep(poll)
        snapshot = self.look()
        log.warning("pilots still live after %.0f s: %s", timeout, snapshot.batch_counts)
        return snapshot


def _restored(state_dir: Path, dispatcher_id: str) -> Journal:
    """The journal this dispatcher left in its state directory (a restart keeps its backoff
    and history), or a new one."""
    found = journal.load(state_dir)
    if found is None or found.dispatcher_id != dispatcher_id:
        return Journal(dispatcher_id=dispatcher_id)
    return found


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
