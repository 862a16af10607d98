"""Claiming: taking runnable jobs for the runner's slots, when the `ClaimPacer` says so.

The runner claims ahead while its jobs are short: after a run shorter than `SHORT_RUN`, it holds
besides its running jobs claimed jobs waiting for a slot (`ready`: per slot, about `AHEAD_WORK`
seconds of runs as long as the last one, at most `MAX_AHEAD`), so that a slot that frees is
filled at once, with no database round trip between one job and the next. A claim that
waited `AHEAD_HOLD` without a free slot (the running job turned out long) is given back, so
another runner can take it. Claims are made several at a time, in one statement: a look for
work is one transaction of its own, or none at all when jobs end, since recording their ends
claims what refills the slots in the same commit (`refill`, then `took` with what that commit
claimed). With `--job`, the runner claims that one job, once, and nothing ahead.

Draining is over only when a look found nothing and no delayed retry of the runner's tasks is
pending (meanwhile the runner keeps looking as usual, and at the latest when the retry is due,
so work submitted meanwhile runs at once); a look that failed (the database is away) ends
nothing.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable

from bt import errors
from bt.client import Brownthrower
from bt.runner import osutil
from bt.runner.health import Health
from bt.runner.heartbeat import Heartbeat
from bt.runner.options import RunnerOptions
from bt.runner.pacing import ClaimPacer
from bt.runner.running import make_work_dir
from bt.runner.slots import Slots
from bt.values import Claim, Refill

log = logging.getLogger("bt.runner")

SHORT_RUN = 0.5  #: seconds: after a run shorter than this, the runner claims ahead
AHEAD_WORK = 0.1  #: seconds of runs like the last one claimed ahead per slot
MAX_AHEAD = 8  #: claims waiting per slot at most
AHEAD_HOLD = 1.0  #: seconds a claim waits for a slot before it is given back


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
        jitter: float = 0.0,
        is_stopping: Callable[[], bool],
        health: Health,
        leased: Callable[[], bool],
    ) -> None:
        self.app, self.slots, self.options, self.tasks = app, slots, options, tasks
        self.is_stopping = is_stopping  #: whether the runner is stopping (it claims nothing more)
        self.health = health
        self.leased = leased  #: whether the lease holds (a lapsed runner claims nothing)
        self.pacer = ClaimPacer(poll, jitter=jitter)
        self.runner_id = 0  #: set once the runner has registered (0 again while it is lost)
        self.claimed_single = False  #: with `--job`: that job was claimed
        self.waiting = False  #: draining: a delayed retry is pending, or the last look failed
        self.ready: deque[Claim] = deque()  #: claimed ahead, waiting for a free slot
        self.claimed_at: dict[int, float] = {}  #: when each waiting claim was made, by job id
        self.ahead = 0  #: claims to hold waiting per slot (0 after a run that was not short)
        self.heartbeat: Heartbeat | None = None  #: set once started: idle looks renew the lease

    def wanted(self) -> int:
        """How many jobs to claim now: room for the running and the waiting ones, when the
        runner may claim (registered with its lease holding, not stopping, not `--job`)."""
        single = self.options.job_id is not None
        if single or not (self.runner_id and self.leased()) or self.is_stopping():
            return 0
        capacity = self.options.slots * (1 + self.ahead)
        return max(0, capacity - len(self.slots) - len(self.ready))

    def may_claim(self) -> bool:
        """Whether a new job may be claimed now."""
        return self.wanted() > 0

    def refill(self) -> Refill | None:
        """What recording ended jobs claims in the same commit, to fill their slots again."""
        count = self.wanted()
        return Refill(self.runner_id, self.tasks, count) if count else None

    def ran(self, seconds: float) -> None:
        """A run took `seconds`: claim ahead after short runs only, the more the shorter."""
        fits = int(AHEAD_WORK / max(seconds, 1e-3))
        self.ahead = min(MAX_AHEAD, max(1, fits)) if seconds < SHORT_RUN else 0

    def hold_ends_at(self) -> float | None:
        """When the oldest waiting claim is to be given back."""
        return min(self.claimed_at.values()) + AHEAD_HOLD if self.claimed_at else None

    def overdue(self, clock: float) -> list[Claim]:
        """Take out the waiting claims held `AHEAD_HOLD` without a free slot (to give back),
        and stop claiming ahead until a short run again."""
        late = [c for c in self.ready if clock >= self.claimed_at[c.job_id] + AHEAD_HOLD]
        for claim in late:
            self._unready(claim)
        if late:
            self.ahead = 0
        return late

    def start_ready(self) -> None:
        """Start waiting claims in the free slots (not while stopping or the lease has lapsed:
        those claims are given back at shutdown)."""
        while self.ready and len(self.slots) < self.options.slots:
            if self.is_stopping() or not self.leased():
                return
            claim = self.ready[0]
            self._unready(claim)
            self._begin(claim)

    def drop(self, job_ids: set[int]) -> None:
        """Forget waiting claims this run no longer holds (aborted meanwhile)."""
        for claim in [c for c in self.ready if c.job_id in job_ids]:
            log.info("job_abort job=%d: aborted before it started", claim.job_id)
            self._unready(claim)

    def forget(self) -> list[Claim]:
        """Let go of every waiting claim (the runner lost its lease, or stops); those claims."""
        claims = list(self.ready)
        self.ready.clear()
        self.claimed_at.clear()
        return claims

    def _unready(self, claim: Claim) -> None:
        self.ready.remove(claim)
        self.claimed_at.pop(claim.job_id, None)

    def due_at(self) -> float | None:
        """When the next look for work is due; None when no job may be claimed, or claims wait
        (the next shared commit refills)."""
        return self.pacer.next_claim if self.may_claim() and not self.ready else None

    def done(self) -> bool:
        """Whether claiming is over: `--job`'s job was claimed, or (drain mode) none was found
        and none waits for a slot."""
        if self.options.job_id is not None:
            return self.claimed_single
        idle = self.pacer.idle and not self.ready
        return idle and not self.options.loop and not self.waiting

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
        self.start_ready()
        # with claims waiting, the commit recording the next ended runs refills (`refill`)
        while self.may_claim() and not self.ready and self.pacer.due(time.monotonic()):
            if not self._claim():
                return

    def took(self, claims: list[Claim]) -> None:
        """Note whether work was found; start the claimed jobs in the free slots, keep the
        others waiting."""
        now = time.monotonic()
        self.pacer.after_claim(found=bool(claims), now=now)
        self.ready.extend(claims)
        self.claimed_at.update((claim.job_id, now) for claim in claims)
        self.start_ready()
        for claim in self.ready:
            make_work_dir(self.options.work_dir, claim.job_id)
        if not claims and not self.options.loop:
            self._wait_for_retries(now)

    def _wait_for_retries(self, now: float) -> None:
        """Draining and nothing found: wait for the next delayed retry, if any."""
        try:
            wait = self.app.claims.next_retry_in(self.tasks)
        except errors.BrownthrowerError as exc:
            self.health.failed("retry_check", exc)
            wait = self.pacer.poll
        self.waiting = wait is not None
        if wait is not None:  # keep looking as usual meanwhile: new work may come first
            self.pacer.retry_due_in(wait, now)

    def _claim(self) -> bool:
        """Look for work once (renewing the lease with it when the heartbeat says so);
        whether some was found."""
        try:
            claims = self._look()
        except errors.TokenMismatch as exc:
            if self.heartbeat is not None:
                self.heartbeat.lost(exc)
            self.pacer.after_claim(found=False, now=time.monotonic())
            return False
        except errors.BrownthrowerError as exc:
            self.health.failed("claim", exc)
            self.pacer.after_claim(found=False, now=time.monotonic())
            self.waiting = True
            return False
        self.took(claims)
        return bool(claims)

    def _look(self) -> list[Claim]:
        heartbeat = self.heartbeat
        if heartbeat is None or not heartbeat.may_ride_a_look():
            return self.app.claims.claim_many(self.runner_id, self.tasks, self.wanted())
        began, lease = osutil.clock(), heartbeat.lease
        claims, beat = self.app.claims.claim_renewing(
            self.runner_id, self.tasks, self.wanted(),
            lease=lease.seconds, chore_every=lease.interval,
        )  # fmt: skip
        heartbeat.renewed(began, beat)
        return claims

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
