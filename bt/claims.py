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

from sqlalchemy import Row, case
from sqlalchemy.orm import Session

from bt import errors, limits, queries, tagnames, transitions
from bt.bulk import check_graph, insert_graph, limit_names
from bt.control import submit
from bt.models import JOB
from bt.registry import TaskRegistry
from bt.runners import lost_claim, new_token
from bt.sqltypes import db_now
from bt.status import Action, Status, next_status
from bt.tags import clear_run_tags, put_tag, put_tags, put_tags_of
from bt.transitions import JobState, NewRow, Note, apply, read_state
from bt.usage import Usage
from bt.values import (
    MAX_RETRY_DELAY,
    Claim,
    DeclaredJob,
    Failed,
    Finished,
    JobSpec,
    NodeSpec,
    Refill,
    Requeued,
    RunEnd,
    RunResult,
    Settled,
)

DECLARED_REASON = "invalid declared job"  #: `bt_reason` of a job whose declarations are refused
#: what a declaration can be refused for, before anything is written
REFUSALS = (errors.InvalidValue, errors.NotFound, errors.PluginLoadError, errors.DependencyError)


def claim(
    session: Session,
    runner_id: int,
    tasks: Sequence[str],
    *,
    is_postgresql: bool,
    limited: bool = True,
) -> Claim | None:
    """Take the best runnable job of `tasks` (priority, then age), or None."""
    claimed = claim_many(session, runner_id, tasks, 1, is_postgresql=is_postgresql, limited=limited)
    return claimed[0] if claimed else None


def claim_many(
    session: Session,
    runner_id: int,
    tasks: Sequence[str],
    count: int,
    *,
    is_postgresql: bool,
    limited: bool = True,
) -> list[Claim]:
    """Take up to `count` of the best runnable jobs of `tasks`, best first (a runner filling
    several free slots, or claiming ahead of its running job).

    Jobs that hold limits whose room admits them come first (`limited`: whether any limit may
    exist; without, that part is skipped), then the others in one statement: an index lookup,
    whatever the limited jobs. A limit's free room is so used as soon as it frees, and jobs
    without limits never wait behind it: limited jobs take at most the limits' capacity.
    """
    if not tasks or count < 1:
        return []
    token = new_token()
    rows = _claim_rows(
        session, runner_id, tasks, token, count, is_postgresql=is_postgresql, limited=limited
    )
    if not rows and transitions.release_due_retries(session):
        rows = _claim_rows(
            session, runner_id, tasks, token, count, is_postgresql=is_postgresql, limited=limited
        )
    return [_load_claim(session, row, token, runner_id) for row in rows]


def _claim_rows(
    session: Session,
    runner_id: int,
    tasks: Sequence[str],
    token: str,
    count: int,
    *,
    is_postgresql: bool,
    limited: bool,
) -> list[Row[Any]]:
    rows: list[Row[Any]] = []
    if limited:
        rows = transitions.claim_limited(
            session, runner_id, tasks, token, is_postgresql=is_postgresql, count=count
        )
    if len(rows) < count:
        rows += transitions.claim_next(
            session, runner_id, tasks, token, is_postgresql=is_postgresql, count=count - len(rows)
        )
    if rows:
        session.execute(queries.MARK_CLAIMED, {"runner": runner_id})
    return rows


def next_retry_in(session: Session, tasks: Sequence[str]) -> float | None:
    """Seconds until the next delayed retry of one of `tasks` is due (0 if overdue), or None:
    a draining runner waits for those instead of exiting."""
    if not tasks:
        return None
    due = session.scalar(queries.NEXT_RETRY, {"tasks": list(tasks)})
    if due is None:
        return None
    now = session.scalar(queries.NOW)
    return max(0.0, float((due - now).total_seconds()))


def claim_job(session: Session, job_id: int, runner_id: int, *, submit_first: bool) -> Claim:
    """Take exactly `job_id` (submitting it first if asked): `InvalidTransition` if not runnable."""
    if submit_first:
        submit(session, job_id)
    job = read_state(session, job_id)
    pending = session.scalar(queries.PENDING_PARENTS, {"job": job_id})
    if job.status is Status.QUEUED and pending:
        raise errors.InvalidOperation(f"Job {job_id} waits for {pending} parent(s) to finish.")
    token = new_token()
    values: dict[str, Any] = {"token": token, "runner_id": runner_id, "not_before": None}
    next_status(job_id, job.status, Action.CLAIM)  # refused before any limit is taken
    transitions.acquire_limits(session, job_id)
    apply(session, job, Action.CLAIM, values=values, note=Note(runner_id=runner_id))
    session.execute(queries.MARK_CLAIMED, {"runner": runner_id})
    row = session.execute(queries.CLAIMED_ROW, {"job": job_id}).one()
    return _load_claim(session, row, token, runner_id)


def _load_claim(session: Session, row: Row[Any], token: str, runner_id: int) -> Claim:
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
        runner_id=runner_id,
        time_limit=row.time_limit,
    )


def _state(claim: Claim) -> JobState:
    return JobState(claim.job_id, Status.RUNNING, claim.super_id)


def _note(claim: Claim, **details: Any) -> Note:
    return Note(runner_id=claim.runner_id, **details)


def finish(
    session: Session,
    claim: Claim,
    result: RunResult,
    tags: Mapping[str, str] | None = None,
    *,
    clear_stale: bool = False,
    registry: TaskRegistry | None = None,
    write_tags: bool = True,
    usage: Usage | None = None,
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
            limits.require(session, limit_names([*children[1], *subjobs[1]]))
        except REFUSALS as exc:
            return _refuse_declared(session, claim, exc, tags, clear_stale=clear_stale, usage=usage)
        if result.children:
            existing = [(claim.job_id, job.key) for job in result.children]
            insert_graph(session, *children, super_id=claim.super_id, existing_parents=existing)
    note = _note(claim, exit_code=_exit_code(tags), usage=usage)
    if result.subjobs:
        status = apply(session, _state(claim), Action.SPAWN, token=claim.token, note=note)
        insert_graph(session, *subjobs, super_id=claim.job_id)
    else:
        values = {"output": result.output}
        status = apply(
            session, _state(claim), Action.FINISH, token=claim.token, values=values, note=note
        )
    # after the fenced transition: a lost claim writes nothing (see `settle`)
    if write_tags:  # else the caller writes `tags` (with other jobs' tags)
        _put_run_tags(session, claim.job_id, tags or {}, clear_stale=clear_stale)
    return status


def _exit_code(tags: Mapping[str, str] | None) -> int | None:
    text = (tags or {}).get(tagnames.EXIT_CODE)
    return int(text) if text and text.lstrip("-").isdigit() else None


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
    usage: Usage | None,
) -> Status:
    detail = f"Job {claim.job_id} declared a job that cannot be created: {exc}"
    return fail(
        session, claim, DECLARED_REASON, detail,
        tags=tags, clear_stale=clear_stale, retry=False, usage=usage,
    )  # fmt: skip


def settle(
    session: Session,
    ends: Sequence[RunEnd],
    refill: Refill | None = None,
    *,
    is_postgresql: bool,
    registry: TaskRegistry | None = None,
    limited: bool = True,
) -> Settled:
    """Record how several runs ended, and claim the runner's next jobs, in one transaction.

    The runner's hot path: the jobs that ended together cost one commit between them. A run
    whose claim was lost meanwhile (aborted, recovered) writes nothing and gets None; any other
    error rolls back the whole transaction.
    """
    later: dict[int, Mapping[str, str]] = {}  #: tags of plain finished runs, written together
    statuses = [_settle_one(session, end, registry, later) for end in ends]
    put_tags_of(session, {job: stored_tags(tags) for job, tags in later.items()}, system=True)
    claimed: list[Claim] = []
    if refill is not None:
        claimed = claim_many(
            session,
            refill.runner_id,
            refill.tasks,
            refill.count,
            is_postgresql=is_postgresql,
            limited=limited,
        )
    return Settled(statuses, claimed)


def _settle_one(
    session: Session,
    end: RunEnd,
    registry: TaskRegistry | None,
    later: dict[int, Mapping[str, str]],
) -> Status | None:
    """One run's end; None if its claim was lost. Every path fences by the token before it
    writes, except declared jobs (token checked, then inserted): those get a savepoint. The
    tags of a plain finished run go into `later`."""
    try:
        match end:
            case Finished() if end.result.subjobs or end.result.children:
                with session.begin_nested():
                    return _finished(session, end, registry)
            case Finished() if not end.clear_stale:
                status = _finished(session, end, registry, write_tags=False)
                later[end.claim.job_id] = end.tags
                return status
            case Finished():
                return _finished(session, end, registry)
            case Failed():
                return fail(
                    session, end.claim, end.reason, end.traceback, end.exit_code,
                    tags=end.tags, clear_stale=end.clear_stale, usage=end.usage,
                )  # fmt: skip
            case Requeued() if end.counted:
                return requeue_lost(session, end.claim, clear_tags=end.clear_tags, usage=end.usage)
            case Requeued():
                return requeue(
                    session, end.claim, clear_tags=end.clear_tags, reason=end.reason,
                    usage=end.usage,
                )  # fmt: skip
    except errors.TokenMismatch:
        return None
    raise AssertionError(f"unknown run end {end!r}")


def _finished(
    session: Session, end: Finished, registry: TaskRegistry | None, *, write_tags: bool = True
) -> Status:
    return finish(
        session,
        end.claim,
        end.result,
        end.tags,
        clear_stale=end.clear_stale,
        registry=registry,
        write_tags=write_tags,
        usage=end.usage,
    )


def fail(
    session: Session,
    claim: Claim,
    reason: str,
    traceback: str,
    exit_code: int | None = None,
    *,
    tags: Mapping[str, str] | None = None,
    clear_stale: bool = False,
    retry: bool = True,
    usage: Usage | None = None,
) -> Status:
    """Record a failed run with its reason, traceback, exit code and other run `tags`.

    While the job has retries left (and `retry`), it goes back to the queue to run again after
    its retry delay (QUEUED); otherwise it is FAILED. Either way the failure is kept in the
    job's history, so a later attempt never hides it.
    """
    values = {**(tags or {}), tagnames.REASON: reason, tagnames.TRACEBACK: traceback}
    if exit_code is not None:
        values[tagnames.EXIT_CODE] = str(exit_code)
    stderr = tail(values.get(tagnames.STDERR))
    note = _note(
        claim, exit_code=exit_code, reason=reason, traceback=traceback, stderr=stderr, usage=usage
    )
    delay = retry_delay(session, claim.job_id) if retry else None
    if delay is None:
        status = apply(session, _state(claim), Action.FAIL, token=claim.token, note=note)
    else:
        status = apply(
            session,
            _state(claim),
            Action.RETRY,
            token=claim.token,
            values={"not_before": db_now(delay)},
            note=note,
        )
    _put_run_tags(session, claim.job_id, values, clear_stale=clear_stale)
    return status


STDERR_TAIL = 2000  #: characters of a failed attempt's stderr kept in its history


def tail(text: str | None, limit: int = STDERR_TAIL) -> str | None:
    """The end of `text`, at most `limit` characters."""
    return text[-limit:] if text else None


def retry_delay(session: Session, job_id: int) -> float | None:
    """Seconds before the job's next retry, or None when it has no retries left."""
    row = session.execute(queries.RETRY_POLICY, {"job": job_id}).one()
    if row.retried >= row.retries:
        return None
    return backoff_delay(row.retry_delay, row.retry_backoff, row.retried)


def backoff_delay(first: float, factor: float, retried: int) -> float:
    """Seconds before retry number `retried` + 1: `first`, times `factor` per earlier retry,
    at most an hour."""
    return float(min(first * factor**retried, MAX_RETRY_DELAY))


def requeue(
    session: Session,
    claim: Claim,
    *,
    clear_tags: bool = False,
    reason: str = "pre-empted",
    usage: Usage | None = None,
) -> Status:
    """Give a pre-empted job back to the queue; the interrupted attempt does not count.

    With `clear_tags`, the interrupted run's tags (partial output, ...) are removed.
    """
    values = {"attempts": JOB.c.attempts - case((JOB.c.sub_total == 0, 1), else_=0)}
    note = _note(claim, reason=reason, usage=usage)
    status = apply(
        session, _state(claim), Action.REQUEUE, token=claim.token, values=values, note=note
    )
    if clear_tags:
        clear_run_tags(session, claim.job_id)
    return status


def requeue_lost(
    session: Session, claim: Claim, *, clear_tags: bool = True, usage: Usage | None = None
) -> Status:
    """A run killed because its runner's lease lapsed (the runner stalled, or its node froze):
    as for a lost runner's job, the attempt counts; the job goes back to the queue while it
    has attempts left, else fails with reason `runner lost`. So a job that freezes its own node
    cannot be retried forever."""
    _check_token(session, claim)
    budget = session.execute(queries.ATTEMPT_BUDGET, {"job": claim.job_id}).one()
    status = lost_claim(
        session,
        _state(claim),
        claim.token,
        claim.runner_id,
        attempts=budget.attempts,
        max_attempts=budget.max_attempts,
        why="its lease lapsed and its job process was killed",
        usage=usage,
    )
    if clear_tags and status is Status.QUEUED:
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
    held = {job_id: token for job_id, token in session.execute(queries.HELD_TOKENS, params)}
    return [c.job_id for c in claims if held.get(c.job_id) != c.token]


def _put_run_tags(
    session: Session, job_id: int, tags: Mapping[str, str], *, clear_stale: bool = False
) -> None:
    tags = stored_tags(tags)
    if clear_stale:
        clear_run_tags(session, job_id, keep=tags.keys())
    put_tags(session, job_id, tags, system=True)


def stored_tags(tags: Mapping[str, str]) -> Mapping[str, str]:
    """The run tags that are stored: the exit code is kept in the run's history row."""
    if tagnames.EXIT_CODE not in tags:
        return tags
    return {name: value for name, value in tags.items() if name != tagnames.EXIT_CODE}


def _check_token(session: Session, claim: Claim) -> None:
    token = session.scalar(queries.HELD_TOKEN, {"job": claim.job_id})
    if token != claim.token:
        raise errors.TokenMismatch(f"Job {claim.job_id} is no longer held by this run.")
