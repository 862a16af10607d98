"""The runner's writes about the jobs it holds: their output while they run, and how they ended.

Recording the end of a run is the one write the runner makes when a job process is done. Every
write is fenced by the claim token: if the job was aborted or recovered meanwhile, the write
changes nothing and the result is discarded (`job_result_discarded`); a running job found no
longer held is killed (`job_abort`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bt import errors, tagnames
from bt.runner.health import Health
from bt.runner.options import FLUSH_INTERVAL
from bt.runner.running import KillReason, RunningJob
from bt.services import ClaimService
from bt.status import Status
from bt.values import Claim, DeclaredJob, RunResult

log = logging.getLogger("bt.runner")

TERMINATED_REASON = "The job process was terminated by SIGTERM from outside the runner."


@dataclass(frozen=True)
class ClaimNext:
    """Who claims, and what, when a finished job's slot is taken again in the same commit."""

    runner_id: int
    tasks: Sequence[str]


@dataclass(frozen=True)
class Recorded:
    """The job's new status (None when nothing was written) and the next job claimed, if any."""

    status: Status | None
    next: Claim | None = None
    tried: bool = False  #: whether a next job was looked for


def record(claims: ClaimService, job: RunningJob, claim_next: ClaimNext | None = None) -> Recorded:
    """Write the end of `job`'s run (claiming the next job in the same commit if asked)."""
    claim = job.claim
    if job.kill_reason in (KillReason.ABORTED, KillReason.ABANDONED):
        log.info("job_%s job=%d exit_code=%s", job.kill_reason, claim.job_id, job.exit_code)
        return Recorded(None)
    result = job.result or {}
    try:
        if job.kill_reason in _REQUEUED and "ok" not in result:
            status = claims.requeue(claim, clear_tags=True)
            log.info("job_requeued job=%d (%s)", claim.job_id, job.kill_reason)
            return Recorded(status)
        if result.get("ok") and job.kill_reason is not KillReason.TIMED_OUT:
            return _finish(claims, job, claim_next)
        return Recorded(_fail(claims, job))
    except errors.TokenMismatch:
        log.info("job_result_discarded job=%d (aborted or recovered meanwhile)", claim.job_id)
        return Recorded(None)


#: a job killed for these reasons goes back to the queue (not counted as an attempt)
_REQUEUED = (KillReason.PREEMPTED, KillReason.FENCED)


def give_back(claims: ClaimService, held: list[RunningJob], unrecorded: list[RunningJob]) -> None:
    """At shutdown: requeue the jobs still running, record those done but not recorded yet."""
    for job in held + unrecorded:
        try:
            if job in unrecorded:
                record(claims, job)
            else:
                claims.requeue(job.claim, clear_tags=True)
                log.info("job_requeued job=%d", job.job_id)
        except errors.BrownthrowerError as exc:
            log.error("job_record_failed job=%d: %s", job.job_id, exc)
        job.close()


def _finish(claims: ClaimService, job: RunningJob, claim_next: ClaimNext | None) -> Recorded:
    result = job.result or {}
    run = RunResult(
        output=result.get("output"),
        subjobs=[_declared(d) for d in result.get("subjobs", ())],
        children=[_declared(d) for d in result.get("children", ())],
        links=[(int(p), int(c)) for p, c in result.get("links", ())],
    )
    tags, stale = job.final_tags(), _may_be_stale(job)
    following = None
    if claim_next is None:
        status = claims.finish(job.claim, run, tags, clear_stale=stale)
    else:
        status, following = claims.finish_and_claim(
            job.claim,
            run,
            tags,
            clear_stale=stale,
            runner_id=claim_next.runner_id,
            tasks=claim_next.tasks,
        )
    word = "job_standby" if status is Status.STAND_BY else "job_finished"
    log.info("%s job=%d status=%s", word, job.job_id, status)
    return Recorded(status, following, tried=claim_next is not None)


def _fail(claims: ClaimService, job: RunningJob) -> Status:
    result = job.result or {}
    if job.kill_reason is KillReason.TIMED_OUT:
        reason, trace = job.time_limit_report()
    elif "ok" in result:
        reason, trace = str(result["reason"]), str(result["traceback"])
    elif result.get("terminated"):
        reason, trace = "terminated", TERMINATED_REASON
    else:
        reason, trace = job.crash_report()
    tags = job.final_tags()
    status = claims.fail(
        job.claim, reason, trace, job.exit_code, tags=tags, clear_stale=_may_be_stale(job)
    )
    log.info("job_failed job=%d reason=%s", job.job_id, reason)
    return status


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
    try:
        claims.put_tags(job.claim, tags)
    except errors.TokenMismatch:
        kill_aborted(job)
    except errors.BrownthrowerError as exc:
        health.failed("flush", exc, f" job={job.job_id}")


def kill_released(claims: ClaimService, jobs: list[RunningJob], health: Health) -> None:
    """Kill those of `jobs` that this run no longer holds (aborted, or recovered meanwhile)."""
    candidates = [j for j in jobs if j.kill_reason is None]
    if not candidates:
        return
    try:
        released = set(claims.released([j.claim for j in candidates]))
    except errors.BrownthrowerError as exc:
        health.failed("abort_check", exc)
        return
    for job in candidates:
        if job.job_id in released:
            kill_aborted(job)


def kill_aborted(job: RunningJob) -> None:
    log.info("job_abort job=%d: no longer held by this run; killing it", job.job_id)
    job.kill(KillReason.ABORTED)
