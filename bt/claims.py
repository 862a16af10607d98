"""The runner's side of a job: claim it, then record how each phase ended.

Every write about a RUNNING job is fenced by the claim token, so a result arriving from a killed,
aborted or recovered run never overwrites what happened since. Subjobs and children declared by
task code go through the same checks as any new job (`bt.bulk.check_graph`): a declaration the
checks refuse (unknown task, refused by the task's `validate`, bad YAML) fails the declaring job
with the reason, instead of leaving the result unrecordable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from bt import errors, queries, tagnames, transitions
from bt.bulk import check_graph, insert_graph
from bt.control import submit
from bt.models import JOB
from bt.registry import TaskRegistry
from bt.runners import new_token
from bt.status import Action, Status
from bt.tags import clear_run_tags, put_tag, put_tags
from bt.transitions import JobState, NewRow, apply, read_state
from bt.values import Claim, DeclaredJob, JobSpec, NodeSpec, RunResult

DECLARED_REASON = "invalid declared job"  #: `bt_reason` of a job whose declarations are refused
#: what a declaration can be refused for, before anything is written
REFUSALS = (errors.InvalidValue, errors.NotFound, errors.PluginLoadError, errors.DependencyError)


def claim(
    session: Session, runner_id: int, tasks: Sequence[str], *, is_postgresql: bool
) -> Claim | None:
    """Take the best runnable job of `tasks` (priority, then age), or None."""
    if not tasks:
        return None
    token = new_token()
    row = transitions.claim_next(session, runner_id, tasks, token, is_postgresql=is_postgresql)
    return None if row is None else _load_claim(session, row, token)


def claim_job(session: Session, job_id: int, runner_id: int, *, submit_first: bool) -> Claim:
    """Take exactly `job_id` (submitting it first if asked): `InvalidTransition` if not runnable."""
    if submit_first:
        submit(session, job_id)
    job = read_state(session, job_id)
    pending = session.scalar(queries.PENDING_PARENTS, {"job": job_id})
    if job.status is Status.QUEUED and pending:
        raise errors.InvalidOperation(f"Job {job_id} waits for {pending} parent(s) to finish.")
    token = new_token()
    apply(session, job, Action.CLAIM, values={"token": token, "runner_id": runner_id})
    row = session.execute(queries.CLAIMED_ROW, {"job": job_id}).one()
    return _load_claim(session, row, token)


def _load_claim(session: Session, row: Row[Any], token: str) -> Claim:
    epilog = row.sub_total > 0
    parents = session.execute(queries.PARENT_OUTPUTS, {"child": row.id}) if row.has_parents else ()
    subjobs = session.execute(queries.SUBJOB_OUTPUTS, {"super": row.id}) if epilog else ()
    return Claim(
        row.id,
        row.name,
        row.super_id,
        token,
        row.attempts,
        epilog,
        row.config,
        row.input,
        parents=[(i, n, o) for i, n, o in parents],
        subjobs=[(i, n, o) for i, n, o in subjobs],
    )


def _state(claim: Claim) -> JobState:
    return JobState(claim.job_id, Status.RUNNING, claim.super_id)


def finish(
    session: Session,
    claim: Claim,
    result: RunResult,
    tags: Mapping[str, str] | None = None,
    *,
    clear_stale: bool = False,
    registry: TaskRegistry | None = None,
) -> Status:
    """Record a successful phase: children first, then subjobs (STAND-BY) or output (DONE).

    `tags` (captured output, exit code, ...) are written in the same transaction; with
    `clear_stale`, run tags of an earlier run that `tags` does not replace are removed.
    Declared jobs are checked against `registry`; if refused, the job fails instead.
    """
    if result.children or result.subjobs:
        _check_token(session, claim)  # before creating jobs; otherwise `apply` fences alone
        try:
            children = _check(result.children, result.links, registry, parent=True)
            subjobs = _check(result.subjobs, result.links, registry, parent=False)
        except REFUSALS as exc:
            return _refuse_declared(session, claim, exc, tags, clear_stale=clear_stale)
        if result.children:
            existing = [(claim.job_id, job.key) for job in result.children]
            insert_graph(session, *children, super_id=claim.super_id, existing_parents=existing)
    _put_run_tags(session, claim.job_id, tags or {}, clear_stale=clear_stale)
    if result.subjobs:
        status = apply(session, _state(claim), Action.SPAWN, token=claim.token)
        insert_graph(session, *subjobs, super_id=claim.job_id)
        return status
    values = {"output": result.output}
    return apply(session, _state(claim), Action.FINISH, token=claim.token, values=values)


Checked = tuple[list[NodeSpec], list[NewRow], list[tuple[int, int]]]


def _check(
    declared: Sequence[DeclaredJob],
    links: Sequence[tuple[int, int]],
    registry: TaskRegistry | None,
    *,
    parent: bool,
) -> Checked:
    """Declared jobs checked as any new jobs (with the links among them): what
    `insert_graph` takes. `parent`: they are children of the declaring job."""
    keys = {job.key for job in declared}
    nodes = [
        NodeSpec(job.key, JobSpec(job.task, job.config, job.input, job.description), job.submit)
        for job in declared
    ]
    own = [(p, c) for p, c in links if p in keys and c in keys]
    existing: list[tuple[int, int]] = [(0, job.key) for job in declared] if parent else []
    return nodes, check_graph(nodes, own, existing, registry), own


def _refuse_declared(
    session: Session,
    claim: Claim,
    exc: errors.BrownthrowerError,
    tags: Mapping[str, str] | None,
    *,
    clear_stale: bool,
) -> Status:
    detail = f"Job {claim.job_id} declared a job that cannot be created: {exc}"
    return fail(session, claim, DECLARED_REASON, detail, tags=tags, clear_stale=clear_stale)


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
    registry: TaskRegistry | None = None,
) -> tuple[Status, Claim | None]:
    """Record a successful phase and take the runner's next job in the same transaction.

    The runner's hot path: one commit per job instead of two. If recording raises, nothing
    is claimed either.
    """
    status = finish(session, done, result, tags, clear_stale=clear_stale, registry=registry)
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
    values = {"attempts": JOB.c.attempts - 1}
    status = apply(session, _state(claim), Action.REQUEUE, token=claim.token, values=values)
    if clear_tags:
        clear_run_tags(session, claim.job_id)
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
    params = {"ids": [c.job_id for c in claims]}
    held = dict(session.execute(queries.HELD_TOKENS, params).tuples().all())
    return [c.job_id for c in claims if held.get(c.job_id) != c.token]


def _put_run_tags(
    session: Session, job_id: int, tags: Mapping[str, str], *, clear_stale: bool = False
) -> None:
    if clear_stale:
        clear_run_tags(session, job_id, keep=tags.keys())
    put_tags(session, job_id, tags, system=True)


def _check_token(session: Session, claim: Claim) -> None:
    token = session.scalar(queries.HELD_TOKEN, {"job": claim.job_id})
    if token != claim.token:
        raise errors.TokenMismatch(f"Job {claim.job_id} is no longer held by this run.")
