"""The reconciliation pass: desired pilots against the batch system's view, and the difference.

Nothing is remembered that the batch system cannot tell again: each pass asks the backend for
this dispatcher's pilots, works out how many should exist (a fixed number, or as many as the
RUNNABLE work needs), and submits or cancels the difference. A pilot that ended badly or vanished
simply stops counting, so the next pass replaces it; errors from the batch system become warnings
in the pass report, and the next pass tries again.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bt.dispatch.backend import FAILED_STATES, Backend, BatchError, Pilot
from bt.status import RUNNABLE

log = logging.getLogger(__name__)

Mode = Literal["static", "on-demand"]


@dataclass(frozen=True)
class Policy:
    """How many pilots a dispatcher keeps.

    static: `pilots` looping pilots, always. on-demand: `ceil(RUNNABLE / jobs_per_pilot)` pilots,
    at most `max_pilots`, each draining (it exits when nothing is left to run) — down to zero.
    """

    mode: Mode = "static"
    pilots: int = 1
    max_pilots: int = 10
    jobs_per_pilot: int = 1

    @property
    def loop(self) -> bool:
        """Whether pilots loop forever (static) or drain and exit (on-demand)."""
        return self.mode == "static"

    def desired(self, counts: Mapping[str, int] | None) -> int | None:
        """Pilots wanted now; None when on-demand cannot tell (no job counts this pass)."""
        if self.mode == "static":
            return self.pilots
        if counts is None:
            return None
        wanted = math.ceil(counts.get(RUNNABLE, 0) / max(1, self.jobs_per_pilot))
        return min(self.max_pilots, wanted)

    def describe(self) -> str:
        """The policy in words, for the screen."""
        if self.mode == "static":
            return f"static: keep {_pilots(self.pilots)}, looping"
        return (
            f"on-demand: one pilot per {self.jobs_per_pilot} runnable job(s), "
            f"at most {_pilots(self.max_pilots)}, draining"
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

    @property
    def live(self) -> int:
        """How many pilots are queued or running."""
        return sum(1 for p in self.pilots or () if p.live)

    def batch_counts(self) -> dict[str, int]:
        """Pilots per batch state."""
        return dict(sorted(Counter(p.state for p in self.pilots or ()).items()))


class Reconciler:
    """Runs passes for one dispatcher over one backend."""

    def __init__(
        self, backend: Backend, policy: Policy, command: Sequence[str], env: Mapping[str, str]
    ):
        self.backend = backend
        self.policy = policy
        self.command = list(command)
        self.env = dict(env)
        self._seen: dict[str, Pilot] = {}  #: live pilots of the previous pass
        self._cancelling: set[str] = set()

    def reconcile(self, counts: Mapping[str, int] | None) -> PassReport:
        """One pass: look, compare, act. Never raises for batch-system trouble."""
        report = PassReport(desired=self.policy.desired(counts))
        try:
            report.pilots = self.backend.status()
        except BatchError as exc:
            report.warnings.append(f"cannot list pilots: {exc}")
            return report
        self._note_changes(report.pilots, report)
        live = [p for p in report.pilots if p.live and p.batch_id not in self._cancelling]
        if report.desired is not None and len(live) < report.desired:
            self._submit(report.desired - len(live), report)
        elif report.desired is not None and len(live) > report.desired:
            self._cancel(self._surplus(live, len(live) - report.desired), report)
        if report.submitted or report.cancelled:
            self._refresh(report)
        return report

    def _refresh(self, report: PassReport) -> None:
        """Show the pilots as they are after this pass's actions (if the batch system answers)."""
        with contextlib.suppress(BatchError):
            report.pilots = self.backend.status()
            self._seen.update({p.batch_id: p for p in report.pilots if p.live})

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

    def _surplus(self, live: list[Pilot], count: int) -> list[Pilot]:
        """Which pilots to cancel: pending ones first; on-demand never cancels a running one,
        which drains by itself instead of dropping the jobs it holds."""
        pending = [p for p in live if p.pending]
        others = [] if self.policy.mode == "on-demand" else [p for p in live if not p.pending]
        ordered = sorted(pending, key=_newest_first) + sorted(others, key=_newest_first)
        return ordered[:count]

    def _submit(self, count: int, report: PassReport) -> None:
        for _ in range(count):
            try:
                batch_id = self.backend.submit(self.command, self.env)
            except BatchError as exc:
                report.warnings.append(f"cannot submit a pilot: {exc}")
                return  # the next pass tries again
            report.submitted.append(batch_id)

    def _cancel(self, pilots: list[Pilot], report: PassReport) -> None:
        for pilot in pilots:
            try:
                self.backend.cancel(pilot.batch_id)
            except BatchError as exc:
                report.warnings.append(f"cannot cancel pilot {pilot.batch_id}: {exc}")
                continue
            self._cancelling.add(pilot.batch_id)
            report.cancelled.append(pilot.batch_id)

    def _note_changes(self, pilots: list[Pilot], report: PassReport) -> None:
        """Report pilots that ended or vanished since the previous pass."""
        now = {p.batch_id: p for p in pilots}
        for batch_id in self._seen:
            pilot = now.get(batch_id)
            if pilot is None:
                report.warnings.append(f"pilot {batch_id} vanished from the batch system")
            elif pilot.final:
                _note_end(pilot, batch_id in self._cancelling, report)
        self._seen = {p.batch_id: p for p in pilots if not p.final}
        self._cancelling &= set(self._seen)


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
