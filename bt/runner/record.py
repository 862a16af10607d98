"""The runner's writes about the jobs it holds: their output while they run, and how they ended.

Recording the ends of runs is the one write the runner makes when job processes are done: the
runs that ended together, and the claims that refill their slots, in one commit. Every
write is fenced by the claim token: if the job was aborted or recovered meanwhile, the write
changes nothing and the result is discarded (`job_result_discarded`); a running job found no
longer held is killed (`job_abort`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bt import errors, tagnames
from bt.runner.health import Health
from bt.runner.options import FLUSH_INTERVAL
from bt.runner.protocol import Message
from bt.runner.running import KillReason, RunningJob
from bt.runners import LOST_REASON
from bt.services import ClaimService
from bt.status import Status
from bt.values import (
    GIVEN_BACK,
    Claim,
    DeclaredJob,
    Failed,
    Finished,
    Refill,
    Requeued,
    RunEnd,
    RunResult,
    Settled,
)

log = logging.getLogger("bt.runner")

TERMINATED_REASON = "The job process was terminated by SIGTERM from outside the runner."


def end_of(job: RunningJob) -> RunEnd | None:
    """How `job`'s run ended, as the database is to record it; None when the result is not this
    run's to record (aborted, or abandoned with the lease: another runner recovers the job)."""
    if job.kill_reason in (KillReason.ABORTED, KillReason.ABANDONED):
        return None
    result, stale = job.result or {}, _may_be_stale(job)
    if job.kill_reason is KillReason.FENCED and "ok" not in result:  # counted: cannot loop
        return Requeued(
            job.claim, clear_tags=True, reason=LOST_REASON, counted=True, usage=job.usage
        )
    if job.kill_reason is KillReason.PREEMPTED and "ok" not in result:
        return Requeued(job.claim, clear_tags=True, usage=job.usage)
    if result.get("ok") and job.kill_reason is not KillReason.TIMED_OUT:
        return Finished(
            job.claim, _run_result(result), job.final_tags(), clear_stale=stale, usage=job.usage
        )
    reason, trace = _failure(job)
    tags, usage = job.final_tags(), job.usage
    return Failed(
        job.claim, reason, trace, job.exit_code, tags=tags, clear_stale=stale, usage=usage
    )


UNSTARTED = GIVEN_BACK  #: history reason of a claim given back


def record(
    claims: ClaimService,
    jobs: Sequence[RunningJob],
    refill: Refill | None,
    unstarted: Sequence[Claim] = (),
) -> Settled:
    """Write the end of every run of `jobs`, give back the `unstarted` claims and claim
    `refill`'s jobs, in one transaction; log what became of each run."""
    ends = [end_of(job) for job in jobs]
    writes: list[RunEnd] = [end for end in ends if end is not None]
    writes += [Requeued(claim, clear_tags=False, reason=UNSTARTED) for claim in unstarted]
    settled = claims.settle(writes, refill)
    statuses = iter(settled.statuses)
    for job, end in zip(jobs, ends, strict=True):
        _log_end(job, end, None if end is None else next(statuses))
    for claim in unstarted:
        log.info("job_given_back job=%d (claimed ahead, no slot came free)", claim.job_id)
    _record_abort_exits(claims, jobs)
    return settled


def _record_abort_exits(claims: ClaimService, jobs: Sequence[RunningJob]) -> None:
    """The exit codes of the runs killed because their jobs were aborted, into their history
    (best effort: the abort itself is recorded already)."""
    for job in jobs:
        if job.kill_reason is KillReason.ABORTED and job.exit_code is not None:
            try:
                claims.record_abort_exit(job.claim, job.exit_code, job.usage)
            except errors.BrownthrowerError as exc:
                log.warning("job_abort_exit_not_recorded job=%d: %s", job.job_id, exc)


def _log_end(job: RunningJob, end: RunEnd | None, status: Status | None) -> None:
    job_id = job.job_id
    if end is None:
        log.info("job_%s job=%d exit_code=%s", job.kill_reason, job_id, job.exit_code)
    elif status is None:
        log.info("job_result_discarded job=%d (aborted or recovered meanwhile)", job_id)
    elif isinstance(end, Requeued):
        log.info("job_requeued job=%d (%s)", job_id, job.kill_reason)
    elif isinstance(end, Failed) and status is Status.QUEUED:
        log.info(
            "job_retry job=%d reason=%s (failed; queued again for a retry)", job_id, end.reason
        )
    elif isinstance(end, Failed):
        log.info("job_failed job=%d reason=%s", job_id, end.reason)
    else:
        word = "job_standby" if status is Status.STAND_BY else "job_finished"
        log.info("%s job=%d status=%s", word, job_id, status)


def give_back(
    claims: ClaimService, held: list[RunningJob], unrecorded: list[RunningJob], waiting: list[Claim]
) -> None:
    """At shutdown: requeue the jobs still running and the claims not started yet, record those
    done but not recorded yet (one transaction; one per job if that fails)."""
    ends: list[RunEnd] = []
    ends += [Requeued(job.claim, usage=job.usage) for job in held]
    ends += [Requeued(claim, clear_tags=False, reason=UNSTARTED) for claim in waiting]
    ends += [end for job in unrecorded if (end := end_of(job)) is not None]
    try:
        claims.settle(ends)
    except errors.BrownthrowerError:
        _give_back_one_by_one(claims, ends)
    for job in held + unrecorded:
        job.close()
    log.info("jobs_given_back running=%d waiting=%d", len(held), len(waiting))


def _give_back_one_by_one(claims: ClaimService, ends: list[RunEnd]) -> None:
    for end in ends:
        try:
            claims.settle([end])
        except errors.BrownthrowerError as exc:
            log.error("job_record_failed job=%d: %s", end.claim.job_id, exc)


def _run_result(result: Message) -> RunResult:
    return RunResult(
        output=result.get("output"),
        subjobs=[_declared(d) for d in result.get("subjobs", ())],
        children=[_declared(d) for d in result.get("children", ())],
        links=[(int(p), int(c)) for p, c in result.get("links", ())],
    )


def _failure(job: RunningJob) -> tuple[str, str]:
    result = job.result or {}
    if job.kill_reason is KillReason.TIMED_OUT:
        return job.time_limit_report()
    if "ok" in result:
        return str(result["reason"]), str(result["traceback"])
    if result.get("terminated"):
        return "terminated", TERMINATED_REASON
    return job.crash_report()


def _declared(data: dict[str, object]) -> DeclaredJob:
    return DeclaredJob(
        key=int(str(data["key"])),
        task=str(data["task"]),
        config=_text(data.get("config")),
        input=_text(data.get("input")),
        submit=bool(data.get("submit", True)),
        description=str(data.get("description") or ""),
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _may_be_stale(job: RunningJob) -> bool:
    """Whether an earlier run of this submission may have left tags (retry, epilog)."""
    return job.claim.attempt > 1 or job.claim.epilog


def flush(claims: ClaimService, job: RunningJob, clock: float, health: Health) -> None:
    """Write the tags `job` changed since the last flush (once it has run half an interval);
    kill it if this run no longer holds it."""
    if job.kill_reason is not None or clock - job.started < FLUSH_INTERVAL / 2:
        return
    tags = job.live_tags()
    if not job.runner_info.get("flushed"):
        tags[tagnames.RUNNER] = job.runner_tag()
        job.runner_info["flushed"] = True
    if not tags:
        return  # nothing to write: aborts are found by the poll, NOTIFY or the SQLite watcher
    try:
        claims.put_tags(job.claim, tags)
    except errors.TokenMismatch:
        kill_aborted(job)
    except errors.BrownthrowerError as exc:
        health.failed("flush", exc, f" job={job.job_id}")


def kill_released(
    claims: ClaimService,
    jobs: list[RunningJob],
    health: Health,
    waiting: Sequence[Claim] = (),
) -> set[int]:
    """Kill those of `jobs` that this run no longer holds (aborted, or recovered meanwhile);
    the ids of the `waiting` claims (not started yet) no longer held either."""
    candidates = [j for j in jobs if j.kill_reason is None]
    held = [j.claim for j in candidates] + list(waiting)
    if not held:
        return set()
    try:
        released = set(claims.released(held))
    except errors.BrownthrowerError as exc:
        health.failed("abort_check", exc)
        return set()
    for job in candidates:
        if job.job_id in released:
            kill_aborted(job)
    return {claim.job_id for claim in waiting if claim.job_id in released}


def kill_aborted(job: RunningJob) -> None:
    log.info("job_abort job=%d: no longer held by this run; killing it", job.job_id)
    job.kill(KillReason.ABORTED)
