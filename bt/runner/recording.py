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
from bt.runner.record import flush, give_back, kill_released, record
from bt.runner.running import KillReason, RunningJob, remove_work_dir
from bt.services import ClaimService
from bt.status import Status
from bt.values import Claim, Refill, Settled

PREEMPTION_HOLD = 2.0  #: seconds a job SIGTERMed from outside waits for the runner's own signal
RECORD_WAIT = 0.02  #: seconds an ended run may wait for others to share its commit
RECORD_RETRY = 1.0  #: seconds between attempts to record the jobs whose recording failed


class Recorder:
    """Records the end of the runner's jobs, those that ended together in one commit that also
    refills their slots; keeps those it could not record yet, to retry them one by one."""

    def __init__(
        self,
        claims: ClaimService,
        claimer: Claimer,
        health: Health,
        signalled: Callable[[], bool],
    ) -> None:
        self.claims, self.claimer, self.health = claims, claimer, health
        self.signalled = signalled  #: whether the runner got a stop signal
        self.ended: list[RunningJob] = []  #: done since the last `settle`
        self.ended_at: float | None = None  #: when the first of them was done
        self.unrecorded: list[RunningJob] = []  #: done, but not recorded yet: retried
        self.unstarted: list[Claim] = []  #: claims to give back at the next `settle`
        self.paused_until = 0.0  #: after a failed settle (the database is away), retry then
        self.last_status: Status | None = None  #: what the last recorded job became

    def __bool__(self) -> bool:
        """Whether some job is waiting to be recorded."""
        return bool(self.ended or self.unrecorded or self.unstarted)

    def add(self, job: RunningJob) -> None:
        """`job` is done: record it at the next `settle`."""
        if not self.ended:
            self.ended_at = time.monotonic()
        self.ended.append(job)

    def due_at(self) -> float | None:
        """When the ended runs are to be recorded: at once when the runner has no claim
        waiting to start (it needs its slots refilled, or it is idle) or is stopping, else once
        the first of them has waited `RECORD_WAIT` for more runs to end and share the commit."""
        if not (self.ended or self.unstarted):
            return None
        if not self.claimer.ready or self.claimer.is_stopping() or self.ended_at is None:
            return self.paused_until
        return max(self.ended_at + RECORD_WAIT, self.paused_until)

    def give_back_unstarted(self, claims: list[Claim]) -> None:
        """Requeue these claims (made ahead, never started) at the next `settle`."""
        self.unstarted += claims

    def settle(self) -> None:
        """Record the jobs that ended since the last call, claiming in the same commit what
        refills their slots; keep them for `retry` if that fails. Only when `due_at`."""
        due = self.due_at()
        if due is None or time.monotonic() < due:
            return
        jobs, self.ended, self.ended_at = self.ended, [], None
        jobs = [job for job in jobs if not self._held(job)]
        unstarted, self.unstarted = self.unstarted, []
        if not (jobs or unstarted):
            return
        refill = self.claimer.refill() if jobs else None
        # before the commit: once recorded, another runner on this host may start the job there
        self._tidy([job.job_id for job in jobs] + [claim.job_id for claim in unstarted])
        try:
            settled = record(self.claims, jobs, refill, unstarted)
        except errors.BrownthrowerError as exc:
            ids = ",".join(str(job.job_id) for job in jobs)
            self.health.failed("job_record", exc, f" jobs={ids}")
            self.unrecorded += jobs
            self.unstarted += unstarted
            self.paused_until = time.monotonic() + RECORD_RETRY
            return
        self._recorded(settled, refill)

    def retry(self) -> None:
        """Try again to record the jobs whose recording failed or was held back, one by one."""
        for job in list(self.unrecorded):
            if self.held_for_preemption(job):
                continue
            self._tidy([job.job_id])
            try:
                settled = record(self.claims, [job], None)
            except errors.BrownthrowerError as exc:
                self.health.failed("job_record", exc, f" jobs={job.job_id}")
                return
            self.unrecorded.remove(job)
            self._recorded(settled, None)

    def give_back(self, held: list[RunningJob], waiting: list[Claim]) -> None:
        """At shutdown: requeue `held` (still running) and `waiting` (claimed, not started),
        record what is left to record."""
        unstarted = waiting + self.unstarted
        ended = self.unrecorded + self.ended
        self._tidy([job.job_id for job in ended] + [claim.job_id for claim in unstarted])
        give_back(self.claims, held, ended, unstarted)

    def _tidy(self, job_ids: list[int]) -> None:
        """Remove the working directories these runs left empty."""
        for job_id in job_ids:
            remove_work_dir(self.claimer.options.work_dir, job_id)

    def _recorded(self, settled: Settled, refill: Refill | None) -> None:
        known = [status for status in settled.statuses if status is not None]
        if known:
            self.last_status = known[-1]
        if refill is not None:
            self.claimer.took(settled.claimed)

    def _held(self, job: RunningJob) -> bool:
        if self.held_for_preemption(job):
            if job not in self.unrecorded:
                self.unrecorded.append(job)
            return True
        return False

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

    def __init__(self, claims: ClaimService, claimer: Claimer, health: Health, poll: float) -> None:
        self.claims, self.claimer, self.health, self.poll = claims, claimer, health, poll
        self.next_flush = self.next_check = 0.0

    def moments(self) -> list[float]:
        """When the next writes are due."""
        return [self.next_flush, self.next_check]

    def check_soon(self) -> None:
        """Check the claims at the next tick (after a reconnection: anything may have happened)."""
        self.next_check = 0.0

    def check(self, jobs: list[RunningJob]) -> None:
        """Kill those of `jobs` this run no longer holds; drop the claims waiting for a slot
        that it no longer holds either."""
        waiting = list(self.claimer.ready)
        dropped = kill_released(self.claims, jobs, self.health, waiting)
        if dropped:
            self.claimer.drop(dropped)

    def tick(self, clock: float, jobs: list[RunningJob]) -> None:
        """Do the writes that are due at `clock`."""
        if clock >= self.next_flush:
            self.next_flush = clock + FLUSH_INTERVAL
            for job in jobs:
                flush(self.claims, job, clock, self.health)
        if clock >= self.next_check:
            self.next_check = clock + self.poll
            self.check(jobs)
