"""Recording each job the runner held once its process is done, retrying what failed, and the
periodic writes about running jobs (`Upkeep`).

A job that cannot be recorded yet (the database is away) is kept and retried every
`RECORD_RETRY` seconds; its slot is free meanwhile. A job SIGTERMed from outside the runner is
held back briefly, to tell a pre-emption of the whole pilot from a lone kill (see
`held_for_preemption`). The writes themselves are `bt.runner.record`'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bt import errors
from bt.runner.claiming import Claimer
from bt.runner.health import Health
from bt.runner.options import FLUSH_INTERVAL
from bt.runner.record import Recorded, flush, give_back, kill_released, record
from bt.runner.running import KillReason, RunningJob
from bt.services import ClaimService
from bt.status import Status

PREEMPTION_HOLD = 2.0  #: seconds a job SIGTERMed from outside waits for the runner's own signal
RECORD_RETRY = 1.0  #: seconds between attempts to record the jobs whose recording failed


class Recorder:
    """Records the end of the runner's jobs; keeps those not recorded yet, to retry them."""

    def __init__(
        self,
        claims: ClaimService,
        claimer: Claimer,
        health: Health,
        signalled: Callable[[], bool],
    ) -> None:
        self.claims, self.claimer, self.health = claims, claimer, health
        self.signalled = signalled  #: whether the runner got a stop signal
        self.unrecorded: list[RunningJob] = []  #: done, but not recorded yet
        self.last_status: Status | None = None  #: what the last recorded job became

    def __bool__(self) -> bool:
        """Whether some job is waiting to be recorded."""
        return bool(self.unrecorded)

    def record(self, job: RunningJob, *, claim_next: bool = False) -> None:
        """Record `job`'s end (claiming the next job in the same commit if `claim_next`), or
        keep it for a later try."""
        if self.held_for_preemption(job):
            self._defer(job)
            return
        following = self.claimer.following() if claim_next else None
        try:
            recorded = record(self.claims, job, following)
        except errors.BrownthrowerError as exc:
            self.health.failed("job_record", exc, f" job={job.job_id}")
            self._defer(job)
            return
        self._recorded(job, recorded)

    def retry(self) -> None:
        """Try again to record the jobs whose recording failed or was held back."""
        for job in list(self.unrecorded):
            self.record(job)

    def give_back(self, held: list[RunningJob]) -> None:
        """At shutdown: requeue `held` (still running), record what is left to record."""
        give_back(self.claims, held, self.unrecorded)

    def _recorded(self, job: RunningJob, recorded: Recorded) -> None:
        self.last_status = recorded.status
        if job in self.unrecorded:
            self.unrecorded.remove(job)
        if recorded.tried:
            self.claimer.took(recorded.next)

    def _defer(self, job: RunningJob) -> None:
        if job not in self.unrecorded:
            self.unrecorded.append(job)

    def held_for_preemption(self, job: RunningJob) -> bool:
        """A job SIGTERMed from outside is pre-empted, not failed, when the runner is being
        stopped by a signal too (`scancel`, a walltime kill signals every process of the pilot):
        wait briefly for the runner's own signal before deciding."""
        if not job.terminated_from_outside:
            return False
        if self.signalled():
            job.kill_reason = KillReason.PREEMPTED
            return False
        if job.held_until is None:
            job.held_until = time.monotonic() + PREEMPTION_HOLD
        return time.monotonic() < job.held_until


class Upkeep:
    """The periodic writes about the running jobs: their captured output into tags every
    `FLUSH_INTERVAL`, and every poll a check for jobs this run no longer holds (aborted, or
    recovered by another runner), which are killed."""

    def __init__(self, claims: ClaimService, health: Health, poll: float) -> None:
        self.claims, self.health, self.poll = claims, health, poll
        self.next_flush = self.next_check = 0.0

    def moments(self) -> list[float]:
        """When the next writes are due."""
        return [self.next_flush, self.next_check]

    def check_soon(self) -> None:
        """Check the claims at the next tick (after a reconnection: anything may have happened)."""
        self.next_check = 0.0

    def check(self, jobs: list[RunningJob]) -> None:
        """Kill those of `jobs` this run no longer holds."""
        kill_released(self.claims, jobs, self.health)

    def tick(self, clock: float, jobs: list[RunningJob]) -> None:
        """Do the writes that are due at `clock`."""
        if clock >= self.next_flush:
            self.next_flush = clock + FLUSH_INTERVAL
            for job in jobs:
                flush(self.claims, job, clock, self.health)
        if clock >= self.next_check:
            self.next_check = clock + self.poll
            self.check(jobs)
