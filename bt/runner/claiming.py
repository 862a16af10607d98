"""Claiming: taking runnable jobs into the runner's free slots, when the `ClaimPacer` says so.

A look for work is one transaction of its own, or none at all: when a job ends while a slot may
be filled, recording its end claims the next job in the same commit (`following`, then `took`
with what that commit claimed). With `--job`, the runner claims that one job, once.

Draining is over only when a look found nothing and no delayed retry of the runner's tasks is
pending (the next look is then due when the retry is); a look that failed (the database is
away) ends nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bt import errors
from bt.client import Brownthrower
from bt.runner.health import Health
from bt.runner.options import RunnerOptions
from bt.runner.pacing import ClaimPacer
from bt.runner.record import ClaimNext
from bt.runner.slots import Slots
from bt.values import Claim

log = logging.getLogger("bt.runner")


class Claimer:
    """Fills one runner's free slots with the jobs it claims, and knows when claiming is over."""

    def __init__(
        self,
        app: Brownthrower,
        slots: Slots,
        options: RunnerOptions,
        tasks: list[str],
        *,
        poll: float,
        is_stopping: Callable[[], bool],
        health: Health,
        leased: Callable[[], bool],
    ) -> None:
        self.app, self.slots, self.options, self.tasks = app, slots, options, tasks
        self.is_stopping = is_stopping  #: whether the runner is stopping (it claims nothing more)
        self.health = health
        self.leased = leased  #: whether the lease holds (a lapsed runner claims nothing)
        self.pacer = ClaimPacer(poll)
        self.runner_id = 0  #: set once the runner has registered (0 again while it is lost)
        self.claimed_single = False  #: with `--job`: that job was claimed
        self.waiting = False  #: draining: a delayed retry is pending, or the last look failed

    def may_claim(self) -> bool:
        """Whether a new job may be claimed now: registered with its lease holding, a slot is
        free, not stopping, not `--job`."""
        free = len(self.slots) < self.options.slots
        single = self.options.job_id is not None
        held = bool(self.runner_id) and self.leased()
        return held and free and not self.is_stopping() and not single

    def due_at(self) -> float | None:
        """When the next look for work is due; None when no job may be claimed."""
        return self.pacer.next_claim if self.may_claim() else None

    def done(self) -> bool:
        """Whether claiming is over: `--job`'s job was claimed, or (drain mode) none was found."""
        if self.options.job_id is not None:
            return self.claimed_single
        return self.pacer.idle and not self.options.loop and not self.waiting

    def wake(self) -> None:
        """Make the next look for work due at once (work was announced, or a slot became free)."""
        self.pacer.wake()

    def fill(self) -> None:
        """Claim jobs into the free slots while a look is due (with `--job`: that job, once)."""
        if self.options.job_id is not None:
            if not self.claimed_single and not self.is_stopping():
                self.claimed_single = True
                self._begin(self._claim_single(self.options.job_id))
            return
        while self.may_claim() and self.pacer.due(time.monotonic()):
            if self._claim() is None:
                return

    def following(self) -> ClaimNext:
        """What recording a finished job claims in the same commit, to fill its slot again."""
        return ClaimNext(self.runner_id, self.tasks)

    def took(self, claim: Claim | None) -> Claim | None:
        """Note whether work was found; start the claimed job, if any."""
        now = time.monotonic()
        self.pacer.after_claim(found=claim is not None, now=now)
        if claim is not None:
            self._begin(claim)
        elif not self.options.loop:
            self._wait_for_retries(now)
        return claim

    def _wait_for_retries(self, now: float) -> None:
        """Draining and nothing found: wait for the next delayed retry, if any."""
        try:
            wait = self.app.claims.next_retry_in(self.tasks)
        except errors.BrownthrowerError as exc:
            self.health.failed("retry_check", exc)
            wait = self.pacer.poll
        self.waiting = wait is not None
        if wait is not None:
            self.pacer.next_claim = max(self.pacer.next_claim, now + wait)

    def _claim(self) -> Claim | None:
        try:
            claim = self.app.claims.claim(self.runner_id, self.tasks)
        except errors.BrownthrowerError as exc:
            self.health.failed("claim", exc)
            self.pacer.after_claim(found=False, now=time.monotonic())
            self.waiting = True
            return None
        return self.took(claim)

    def _claim_single(self, job_id: int) -> Claim:
        name = self.app.jobs.info(job_id).name
        if name not in self.tasks:
            raise errors.InvalidOperation(
                f"Job {job_id} runs task {name!r}, which this runner does not run "
                "(not installed here, or not matching --tasks)."
            )
        return self.app.claims.claim_job(job_id, self.runner_id, submit=self.options.submit)

    def _begin(self, claim: Claim) -> None:
        keep_spare = not self.is_stopping() and self.options.job_id is None
        self.slots.begin(claim, keep_spare=keep_spare)
