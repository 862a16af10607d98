"""Runner daemons and their leases: register, renew, stop, and recover what lost runners held.

A runner's jobs hang on its lease: a runner that stops renewing it (killed, lost node, paused
too long) is declared lost by any live runner, which returns its jobs to the queue, or fails
them once they have used up their attempts.

The timing rule that keeps a job from running twice at once, for a lease of L seconds: the
runner renews every L/4; its fork server kills its jobs once L - m have passed since the last
renewal began without a new one (m = `fence_margin(L)` = L/8); other runners recover them only
once L + m have passed since that renewal (the `expires_at` every renewal writes). So the old
run has been dead for at least 2m when a new one can start.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, delete, select, text, update
from sqlalchemy.orm import Session

from bt import errors, queries, tagnames
from bt.db import affected
from bt.models import IS_RUNNING_SQL, JOB, Job, Runner
from bt.sqltypes import db_now
from bt.status import Action, Status
from bt.tags import put_tags
from bt.transitions import JobState, Note, apply
from bt.usage import Usage
from bt.values import Beat, LiveRunner, RunnerInfo

LOST_REASON = "runner lost"
RECOVERY = queries.RECOVERY_CHORE
FENCE_MARGIN = 1 / 8  #: the part of a lease kept free on each side of its expiry


def fence_margin(lease: float) -> float:
    """Seconds between a lease's expiry and both the moment a runner must have killed its jobs
    (before it) and the moment others may recover them (after it)."""
    return lease * FENCE_MARGIN


def recoverable_after(lease: float) -> float:
    """Seconds from a renewal to the moment other runners may recover the runner's jobs."""
    return lease + fence_margin(lease)


def new_token() -> str:
    """A fresh random token (claims, runner uuids)."""
    return uuid.uuid4().hex


def register_runner(
    session: Session, *, host: str, pid: int, slots: int, tasks: Sequence[str], lease: float
) -> RunnerInfo:
    """A new runner row holding a lease of `lease` seconds (recoverable after the margin), with
    an id no runner had before."""
    runner = Runner(
        id=_fresh_sqlite_id(session),
        uuid=new_token(),
        host=host,
        pid=pid,
        slots=slots,
        tasks=" ".join(tasks),
        expires_at=db_now(recoverable_after(lease)),
    )
    session.add(runner)
    session.flush()
    session.execute(queries.add_chore(session.get_bind().dialect.name), {"chore": RECOVERY})
    return RunnerInfo(runner.id, runner.uuid)


def _fresh_sqlite_id(session: Session) -> int | None:
    """On SQLite, an id never handed out before (SQLite reuses the highest removed one); None
    elsewhere (sequences never do)."""
    if session.get_bind().dialect.name != "sqlite":
        return None
    session.execute(queries.RUNNER_COUNTER)
    return int(session.scalar(queries.TAKE_RUNNER_ID))


def heartbeat(session: Session, runner_id: int, lease: float) -> bool:
    """Extend a runner's lease by `lease` seconds (recoverable after the margin); returns whether
    a stop was requested. `TokenMismatch` when the runner was declared lost meanwhile (its jobs
    are no longer its own)."""
    stop = session.scalar(queries.heartbeat(recoverable_after(lease)), {"runner": runner_id})
    if stop is None:
        raise errors.TokenMismatch(
            f"Runner {runner_id} was declared lost; its jobs were recovered."
        )
    return bool(stop)


def beat(session: Session, runner_id: int, lease: float, chore_every: float) -> Beat:
    """Renew a runner's lease (`heartbeat`) and take the recovery chore if it is due
    (`take_recovery`)."""
    stop = heartbeat(session, runner_id, lease)
    return Beat(stop, take_recovery(session, runner_id, chore_every))


def take_recovery(session: Session, runner_id: int, interval: float) -> bool:
    """Whether this runner is the one to recover lost runners' jobs now: true for one runner
    of the cluster per `interval` seconds (the chore's row says who took it, and when)."""
    taken = session.scalar(queries.take_chore(interval), {"chore": RECOVERY, "taker": runner_id})
    return taken is not None


def unregister_runner(session: Session, runner_id: int) -> None:
    """Forget a runner that stopped cleanly."""
    session.execute(delete(Runner).where(Runner.id == runner_id))


def list_runners(session: Session) -> list[LiveRunner]:
    """Every registered runner with the ids of the jobs it is running."""
    running = session.execute(
        select(Job.runner_id, Job.id)
        .where(text(IS_RUNNING_SQL), Job.runner_id.is_not(None))
        .order_by(Job.id)
    ).all()
    jobs: dict[int, list[int]] = {}
    for runner_id, job_id in running:
        if runner_id is not None:
            jobs.setdefault(runner_id, []).append(job_id)
    return [
        _live(runner, tuple(jobs.get(runner.id, ())))
        for runner in session.scalars(select(Runner).order_by(Runner.id))
    ]


def _live(r: Runner, jobs: tuple[int, ...]) -> LiveRunner:
    return LiveRunner(
        r.id,
        r.host,
        r.pid,
        r.slots,
        r.tasks,
        r.started_at,
        r.heartbeat_at,
        r.expires_at,
        r.stop_requested,
        jobs,
    )


def request_stop(session: Session, runner_id: int) -> None:
    """Ask a runner to stop claiming and exit once its jobs end (it sees it on its heartbeat)."""
    stop = update(Runner).where(Runner.id == runner_id).values(stop_requested=True)
    if affected(session.execute(stop)) == 0:
        raise errors.NotFound(f"Runner {runner_id} is not running.")


def recover_lost(session: Session) -> list[tuple[int, Status]]:
    """Jobs of runners whose lease expired: QUEUED again while attempts remain, else FAILED."""
    rows = session.execute(queries.ORPHANED_JOBS).all()
    outcomes = [(row.id, _recover_one(session, row)) for row in rows]
    session.execute(queries.DELETE_LOST_RUNNERS)
    return outcomes


def _recover_one(session: Session, row: Any) -> Status:
    state = JobState(row.id, Status.RUNNING, row.super_id)
    return lost_claim(
        session,
        state,
        row.token,
        row.runner_id,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
    )


def lost_claim(
    session: Session,
    job: JobState,
    token: str,
    runner_id: int | None,
    *,
    attempts: int,
    max_attempts: int,
    why: str = "stopped renewing its lease",
    usage: Usage | None = None,
) -> Status:
    """A RUNNING job whose runner was lost (or fenced by its lease) under `token`: the attempt
    counts; QUEUED again while attempts remain, else FAILED with reason `runner lost`.
    `TokenMismatch` if the claim is gone."""
    note = Note(runner_id=runner_id, reason=LOST_REASON, usage=usage)
    if attempts < max_attempts:
        # an epilog's claim counts no attempt (the prolog's did): its loss counts one here
        counted = {"attempts": JOB.c.attempts + case((JOB.c.sub_total > 0, 1), else_=0)}
        return apply(session, job, Action.REQUEUE, token=token, values=counted, note=note)
    given_up = (
        f"The runner of job {job.id} {why} (attempt {attempts} of {max_attempts}); the job "
        f"was given up."
    )
    note = Note(runner_id=runner_id, reason=LOST_REASON, traceback=given_up, usage=usage)
    status = apply(session, job, Action.FAIL, token=token, note=note)
    tags = {tagnames.REASON: LOST_REASON, tagnames.TRACEBACK: given_up}
    put_tags(session, job.id, tags, system=True)
    return status
