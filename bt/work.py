"""The runner's side of the state machine: runners and leases, claim, finish, fail, recover.

Every write about a RUNNING job is fenced by the claim token, so a result arriving from a killed,
aborted or recovered run never overwrites what happened since.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bt import errors, queries, tagnames
from bt.bulk import create_graph
from bt.control import submit
from bt.db import affected
from bt.lifecycle import JOB, JobState, after_transition, apply, read_state
from bt.models import Job, Runner, Tag
from bt.sqltypes import db_now
from bt.status import Action, Status
from bt.tags import put_tag, put_tags
from bt.values import Claim, DeclaredJob, JobSpec, LiveRunner, NodeSpec, RunnerInfo, RunResult

LOST_REASON = "runner lost"


def _state(claim: Claim) -> JobState:
    return JobState(claim.job_id, Status.RUNNING, claim.super_id)


def new_token() -> str:
    return uuid.uuid4().hex


def register_runner(
    session: Session, *, host: str, pid: int, slots: int, tasks: Sequence[str], lease: float
) -> RunnerInfo:
    runner = Runner(
        uuid=new_token(),
        host=host,
        pid=pid,
        slots=slots,
        tasks=" ".join(tasks),
        expires_at=db_now(lease),
    )
    session.add(runner)
    session.flush()
    return RunnerInfo(runner.id, runner.uuid)


def heartbeat(session: Session, runner_id: int, lease: float) -> bool:
    """Extend a runner's lease; returns whether a stop was requested. `TokenMismatch` when the
    runner was declared lost meanwhile (its jobs are no longer its own)."""
    stmt = (
        update(Runner)
        .where(Runner.id == runner_id)
        .values(heartbeat_at=db_now(), expires_at=db_now(lease))
        .returning(Runner.stop_requested)
    )
    stop = session.scalar(stmt)
    if stop is None:
        raise errors.TokenMismatch(
            f"Runner {runner_id} was declared lost; its jobs were recovered."
        )
    return bool(stop)


def unregister_runner(session: Session, runner_id: int) -> None:
    session.execute(delete(Runner).where(Runner.id == runner_id))


def list_runners(session: Session) -> list[LiveRunner]:
    """Every registered runner with the ids of the jobs it is running."""
    running = session.execute(
        select(Job.runner_id, Job.id)
        .where(Job.status == Status.RUNNING, Job.runner_id.is_not(None))
        .order_by(Job.id)
    ).all()
    jobs: dict[int, list[int]] = {}
    for runner_id, job_id in running:
        if runner_id is not None:
            jobs.setdefault(runner_id, []).append(job_id)
    return [
        LiveRunner(
            r.id,
            r.host,
            r.pid,
            r.slots,
            r.tasks,
            r.started_at,
            r.heartbeat_at,
            r.expires_at,
            r.stop_requested,
            tuple(jobs.get(r.id, ())),
        )
        for r in session.scalars(select(Runner).order_by(Runner.id))
    ]


def request_stop(session: Session, runner_id: int) -> None:
    """Ask a runner to stop claiming and exit once its jobs end (it sees it on its heartbeat)."""
    stop = update(Runner).where(Runner.id == runner_id).values(stop_requested=True)
    if affected(session.execute(stop)) == 0:
        raise errors.NotFound(f"Runner {runner_id} is not running.")


def claim(
    session: Session, runner_id: int, tasks: Sequence[str], *, is_postgresql: bool
) -> Claim | None:
    """Take the best runnable job of `tasks` (priority, then age), or None."""
    if not tasks:
        return None
    token = new_token()
    params = queries.claim_params(tasks, token, runner_id)
    row = session.execute(queries.claim_next(is_postgresql), params).one_or_none()
    if row is None:
        return None
    after_transition(session, JobState(row.id, Status.QUEUED, row.super_id), Status.RUNNING)
    return _load_claim(session, row, token)


def claim_job(session: Session, job_id: int, runner_id: int, *, submit_first: bool) -> Claim:
    """Take exactly `job_id` (submitting it first if asked): `InvalidTransition` if not runnable."""
    if submit_first:
        submit(session, job_id)
    job = read_state(session, job_id)
    pending = session.scalar(select(Job.pending_parents).where(Job.id == job_id))
    if job.status is Status.QUEUED and pending:
        raise errors.InvalidOperation(f"Job {job_id} waits for {pending} parent(s) to finish.")
    token = new_token()
    apply(session, job, Action.CLAIM, values={"token": token, "runner_id": runner_id})
    row = session.execute(queries.claimed_row(job_id)).one()
    return _load_claim(session, row, token)


def _load_claim(session: Session, row: Any, token: str) -> Claim:
    epilog = row.sub_total > 0
    return Claim(
        row.id,
        row.name,
        row.super_id,
        token,
        row.attempts,
        epilog,
        row.config,
        row.input,
        parents=[
            (i, n, o) for i, n, o in session.execute(queries.PARENT_OUTPUTS, {"child": row.id})
        ]
        if row.has_parents
        else (),
        subjobs=[(i, n, o) for i, n, o in session.execute(queries.subjob_outputs(row.id))]
        if epilog
        else (),
    )


def finish(
    session: Session,
    claim: Claim,
    result: RunResult,
    tags: Mapping[str, str] | None = None,
    *,
    clear_stale: bool = False,
) -> Status:
    """Record a successful phase: children first, then subjobs (STAND-BY) or output (DONE).

    `tags` (captured output, exit code, ...) are written in the same transaction; with
    `clear_stale`, run tags of an earlier run that `tags` does not replace are removed.
    """
    if result.children or result.subjobs:
        _check_token(session, claim)  # before creating jobs; otherwise `apply` fences alone
    if result.children:
        _create_declared(
            session, result.children, result.links, claim.super_id, parent=claim.job_id
        )
    _put_run_tags(session, claim.job_id, tags or {}, clear_stale=clear_stale)
    if result.subjobs:
        status = apply(session, _state(claim), Action.SPAWN, token=claim.token)
        _create_declared(session, result.subjobs, result.links, claim.job_id)
        return status
    return apply(
        session, _state(claim), Action.FINISH, token=claim.token, values={"output": result.output}
    )


def finish_and_claim(
    session: Session,
    done: Claim,
    result: RunResult,
    tags: Mapping[str, str] | None,
    *,
    clear_stale: bool,
    runner_id: int,
    tasks: Sequence[str],
    is_postgresql: bool,
) -> tuple[Status, Claim | None]:
    """Record a successful phase and take the runner's next job in the same transaction.

    The runner's hot path: one commit per job instead of two. If recording raises, nothing
    is claimed either.
    """
    status = finish(session, done, result, tags, clear_stale=clear_stale)
    return status, claim(session, runner_id, tasks, is_postgresql=is_postgresql)


def fail(
    session: Session,
    claim: Claim,
    reason: str,
    traceback: str,
    exit_code: int | None = None,
    *,
    tags: Mapping[str, str] | None = None,
    clear_stale: bool = False,
) -> Status:
    """Record a failed run with its reason, traceback, exit code and other run `tags`."""
    status = apply(session, _state(claim), Action.FAIL, token=claim.token)
    values = {**(tags or {}), tagnames.REASON: reason, tagnames.TRACEBACK: traceback}
    if exit_code is not None:
        values[tagnames.EXIT_CODE] = str(exit_code)
    _put_run_tags(session, claim.job_id, values, clear_stale=clear_stale)
    return status


def requeue(session: Session, claim: Claim, *, clear_tags: bool = False) -> Status:
    """Give a pre-empted job back to the queue; the interrupted attempt does not count.

    With `clear_tags`, the interrupted run's tags (partial output, ...) are removed.
    """
    status = apply(
        session,
        _state(claim),
        Action.REQUEUE,
        token=claim.token,
        values={"attempts": JOB.c.attempts - 1},
    )
    if clear_tags:
        _put_run_tags(session, claim.job_id, {}, clear_stale=True)
    return status


def put_run_tag(session: Session, claim: Claim, name: str, value: str) -> None:
    """A tag written during a run (captured output, user tags): dropped if the claim is gone."""
    _check_token(session, claim)
    put_tag(session, claim.job_id, name, value, system=True)


def put_run_tags(session: Session, claim: Claim, tags: Mapping[str, str]) -> None:
    """Several run tags in one statement; `TokenMismatch` if the claim is gone."""
    _check_token(session, claim)
    _put_run_tags(session, claim.job_id, tags)


def released(session: Session, claims: Sequence[Claim]) -> list[int]:
    """Ids of the `claims` whose job is no longer held by them (aborted, recovered, removed)."""
    if not claims:
        return []
    held = dict(session.execute(queries.held_tokens([c.job_id for c in claims])).tuples().all())
    return [c.job_id for c in claims if held.get(c.job_id) != c.token]


def _put_run_tags(
    session: Session, job_id: int, tags: Mapping[str, str], *, clear_stale: bool = False
) -> None:
    if clear_stale:
        stale = [name for name in tagnames.RUN_TAGS if name not in tags]
        session.execute(delete(Tag).where(Tag.job_id == job_id, Tag.name.in_(stale)))
    put_tags(session, job_id, tags, system=True)


def recover_lost(session: Session) -> list[tuple[int, Status]]:
    """Jobs of runners whose lease expired: QUEUED again while attempts remain, else FAILED."""
    lost_runners = select(Runner.id).where(Runner.expires_at < db_now())
    rows = session.execute(queries.orphaned_jobs(lost_runners)).all()
    outcomes = [(row.id, _recover_one(session, row)) for row in rows]
    session.execute(delete(Runner).where(Runner.id.in_(lost_runners)))
    return outcomes


def _recover_one(session: Session, row: Any) -> Status:
    state = JobState(row.id, Status.RUNNING, row.super_id)
    if row.attempts < row.max_attempts:
        return apply(session, state, Action.REQUEUE, token=row.token)
    status = apply(session, state, Action.FAIL, token=row.token)
    put_tag(session, row.id, tagnames.REASON, LOST_REASON, system=True)
    put_tag(
        session,
        row.id,
        tagnames.TRACEBACK,
        f"The runner of job {row.id} stopped renewing its lease (attempt {row.attempts} of "
        f"{row.max_attempts}); the job was given up.",
        system=True,
    )
    return status


def _check_token(session: Session, claim: Claim) -> None:
    token = session.scalar(queries.HELD_TOKEN, {"job": claim.job_id})
    if token != claim.token:
        raise errors.TokenMismatch(f"Job {claim.job_id} is no longer held by this run.")


def _create_declared(
    session: Session,
    declared: Sequence[DeclaredJob],
    links: Sequence[tuple[int, int]],
    super_id: int | None,
    parent: int | None = None,
) -> None:
    keys = {job.key for job in declared}
    nodes = [
        NodeSpec(job.key, JobSpec(job.task, job.config, job.input, job.description), job.submit)
        for job in declared
    ]
    own_links = [(p, c) for p, c in links if p in keys and c in keys]
    existing = [(parent, job.key) for job in declared] if parent is not None else []
    create_graph(session, nodes, own_links, super_id=super_id, existing_parents=existing)
