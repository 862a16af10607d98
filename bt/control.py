"""Submit, reset and abort: the user's status operations, recursive over subjobs."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bt import errors, notify, tagnames
from bt.links import descendants
from bt.models import Job, JobAttempt, JobEvent
from bt.status import SUPERJOB_ABORTABLE, SUPERJOB_SUBMITTABLE, Action, Status
from bt.tags import clear_run_tags, put_tags
from bt.transitions import JobState, Note, apply, read_counts, read_state, rederive
from bt.usage import Usage, stored
from bt.values import Claim

ABORT_MESSAGE = "Job was aborted at user request."
ABORTED = "aborted"  #: the reason of an aborted job (`bt_reason`, its history)


def submit(session: Session, job_id: int) -> Status:
    """Queue a STASHED or FAILED job; for a superjob, submit its STASHED/FAILED subjobs."""
    job = read_state(session, job_id)
    counts = read_counts(session, job_id)
    if counts.total == 0:
        status = apply(session, job, Action.SUBMIT)
        clear_run_tags(session, job_id)
        return status
    if job.status not in SUPERJOB_SUBMITTABLE:
        raise _superjob_refusal(job, Action.SUBMIT, SUPERJOB_SUBMITTABLE)
    for sub in _subjobs(session, job_id, {Status.STASHED, Status.FAILED, Status.STAND_BY}):
        submit(session, sub)
    clear_run_tags(session, job_id)
    return rederive(session, read_state(session, job_id), read_counts(session, job_id))


def reset(session: Session, job_id: int) -> Status:
    """Return a QUEUED or FAILED job without subjobs to the stash, for editing."""
    job = read_state(session, job_id)
    if read_counts(session, job_id).total:
        raise errors.InvalidOperation(
            f"Job {job_id} already has subjobs and cannot be returned to the stash."
        )
    return apply(session, job, Action.RESET)


def abort(session: Session, job_id: int, reason: str = ABORTED) -> Status:
    """Fail a QUEUED or RUNNING job now, for `reason`; for a superjob, abort its active
    subjobs first."""
    job = read_state(session, job_id)
    if job.status in (Status.QUEUED, Status.RUNNING) or read_counts(session, job_id).total == 0:
        return _abort_one(session, job, reason)
    if job.status not in SUPERJOB_ABORTABLE:
        raise _superjob_refusal(job, Action.ABORT, SUPERJOB_ABORTABLE)
    for sub in _subjobs(session, job_id, {Status.QUEUED, Status.RUNNING, Status.STAND_BY}):
        abort(session, sub, reason)
    return rederive(session, read_state(session, job_id), read_counts(session, job_id))


def abort_downstream(session: Session, job_id: int) -> list[tuple[int, Status]]:
    """Abort a job and every job that depends on it, transitively (those still QUEUED,
    RUNNING or STAND-BY); each aborted job with its new status, the given job first. A job
    that already FAILED stays as it is and only its dependents are aborted (the usual case:
    its dependents are BLOCKED)."""
    root = read_state(session, job_id)
    outcomes = [] if root.status is Status.FAILED else [(job_id, abort(session, job_id))]
    reason = f"{ABORTED}: downstream of job {job_id}"
    for dependent in descendants(session, job_id):
        job = read_state(session, dependent)
        if job.status in SUPERJOB_ABORTABLE:
            outcomes.append((dependent, abort(session, dependent, reason)))
    return outcomes


def _abort_one(session: Session, job: JobState, reason: str) -> Status:
    status = apply(session, job, Action.ABORT, note=Note(reason=reason))
    tags = {tagnames.REASON: reason, tagnames.TRACEBACK: ABORT_MESSAGE}
    put_tags(session, job.id, tags, system=True)
    if job.status is Status.RUNNING:
        notify.notify_abort(session, job.id)
    return status


def record_abort_exit(
    session: Session, claim: Claim, exit_code: int, usage: Usage | None = None
) -> bool:
    """The exit code of `claim`'s run, killed because it was aborted (and what it cost): written
    on the run's row in the job's history, if that run is still the job's latest and ended by
    the abort; whether it was written."""
    last_event = select(func.max(JobEvent.id)).where(JobEvent.job_id == claim.job_id)
    latest = (
        select(JobAttempt.job_id, JobAttempt.seq, JobAttempt.outcome, JobAttempt.attempt)
        .add_columns(JobAttempt.runner_id, JobAttempt.reason, JobAttempt.after_event)
        .add_columns(last_event.scalar_subquery().label("last_event"))
        .where(JobAttempt.job_id == claim.job_id)
        .order_by(JobAttempt.seq.desc())
        .limit(1)
    )
    run = session.execute(latest).one_or_none()
    if run is None:
        return False
    since = run.last_event != run.after_event  # a change after the run's end (a resubmit)
    mine = run.runner_id == claim.runner_id and run.attempt == claim.attempt and not since
    aborted = run.outcome is Status.FAILED and (run.reason or "").startswith(ABORTED)
    if not (mine and aborted):
        return False
    figures = stored(usage) if usage is not None else {}
    ended = update(JobAttempt).where(JobAttempt.job_id == run.job_id, JobAttempt.seq == run.seq)
    session.execute(ended.values(exit_code=exit_code, **figures))
    return True


def _subjobs(session: Session, job_id: int, statuses: set[Status]) -> list[int]:
    query = select(Job.id).where(Job.super_id == job_id, Job.status.in_(statuses)).order_by(Job.id)
    return list(session.scalars(query))


def _superjob_refusal(job: JobState, action: Action, allowed: frozenset[Status]) -> Exception:
    names = tuple(sorted(s.value for s in allowed))
    return errors.InvalidTransition(job.id, job.status.value, action.value, names)
