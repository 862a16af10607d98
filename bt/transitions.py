"""The only code that writes `job.status` and the counters that derive from it.

Status changes come in three ways, each here: `apply` (one job by one action of
`bt.status.TRANSITIONS`), `claim_next` and `claim_limited` (the runner's claims) and
`insert_jobs` (new jobs, STASHED or QUEUED). After each, the change is propagated:

- to the superjob's subjob counters `sub_total/sub_done/sub_failed` (O(1) per event), then to
  the superjob's derived status, recursively up the chain;
- to the children's `pending_parents` when a job becomes DONE;
- to runners, with a NOTIFY when a job becomes runnable;
- to the concurrency limits a job holds (`in_use`): taken all or nothing by its claim under the
  limits' row locks, given back by the one transition that takes it out of RUNNING (fenced by
  its status and claim token, so exactly once).

Dependencies change `pending_parents` too, so they are added and removed here as well
(`add_dependencies`, `remove_dependency`); `bt.links` and `bt.bulk` decide whether they may.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ClauseElement

from bt import errors, notify, queries, tagnames
from bt.models import DEP, JOB, JOB_LIMIT
from bt.sqltypes import db_now
from bt.status import (
    Action,
    Status,
    SubjobCounts,
    blocks_children,
    bucket_deltas,
    derivation,
    next_status,
)
from bt.usage import Usage, stored
from bt.values import JobSpec

NOT_DERIVED = frozenset({Status.RUNNING, Status.DONE, Status.STASHED})


@dataclass(frozen=True)
class JobState:
    """What a transition needs to know of a job: read under lock, or known by the caller."""

    id: int
    status: Status
    super_id: int | None


@dataclass(frozen=True)
class Note:
    """What a status change's history event records besides the statuses and the attempt."""

    runner_id: int | None = None
    exit_code: int | None = None
    reason: str | None = None
    traceback: str | None = None
    stderr: str | None = None
    usage: Usage | None = None  #: what the attempt this change ends cost


NO_NOTE = Note()


@dataclass(frozen=True)
class NewRow:
    """A job to insert: its checked spec (failure handling settled) and whether it is queued."""

    spec: JobSpec
    submit: bool = False


def read_state(session: Session, job_id: int, *, lock: bool = True) -> JobState:
    """The job's current state, locking its row (PostgreSQL) for the rest of the transaction."""
    query = select(JOB.c.id, JOB.c.status, JOB.c.super_id).where(JOB.c.id == job_id)
    row = session.execute(query.with_for_update() if lock else query).one_or_none()
    if row is None:
        raise errors.JobNotFound(job_id)
    return JobState(row.id, row.status, row.super_id)


def read_counts(session: Session, job_id: int) -> SubjobCounts:
    """A job's subjob counters."""
    row = session.execute(
        select(JOB.c.sub_total, JOB.c.sub_done, JOB.c.sub_failed).where(JOB.c.id == job_id)
    ).one()
    return SubjobCounts(row.sub_total, row.sub_done, row.sub_failed)


# -- one job, one action -------------------------------------------------------------------------


def apply(
    session: Session,
    job: JobState,
    action: Action,
    *,
    token: str | None = None,
    values: dict[str, Any] | None = None,
    note: Note = NO_NOTE,
) -> Status:
    """Move `job` by `action`, fenced by its status (and `token` when given); propagate, and
    record the change in the job's history with `note`: a change out of RUNNING as the
    `job_attempt` row of the run it ends, any other as a `job_event`.

    Raises `InvalidTransition` when the table forbids it, `TokenMismatch` when the row is no longer
    in the state the caller saw (aborted, recovered or removed meanwhile).
    """
    new = next_status(job.id, job.status, action)
    values = values or {}
    params = {"b_id": job.id, "b_old": job.status, "b_new": new, "b_token": token}
    params.update({f"b_{k}": v for k, v in values.items() if not isinstance(v, ClauseElement)})
    if job.status is Status.RUNNING:
        row = _end_run(session, job, _statement(session, action, token, values, ends_run=True),
                       params, note)  # fmt: skip
    else:
        row = _change_status(session, job, _statement(session, action, token, values), params, note)
    if row is None:
        raise errors.TokenMismatch(f"Job {job.id} is no longer {job.status} under this claim.")
    if row.has_limits and job.status is Status.RUNNING and new is not Status.RUNNING:
        session.execute(queries.RELEASE_LIMITS, {"job": job.id})  # this claim's, and only once
        notify.notify_work(session)  # room for a LIMITED job, maybe of another runner's tasks
    _propagate(session, job, new, children=bool(row.has_children), blocking=row.blocking_parents)
    return new


def _statement(
    session: Session,
    action: Action,
    token: str | None,
    values: dict[str, Any],
    *,
    ends_run: bool = False,
) -> Any:
    """The statement of a transition setting `values`: on PostgreSQL with its history in the
    same statement (a run's row when it `ends_run`, else an event; a claim has none, see
    `_claimed`); built once unless a value is SQL."""
    fenced, pg = token is not None, is_postgresql(session) and action is not Action.CLAIM
    wrap, built = queries.with_event, queries.transition_with_event
    if ends_run:
        wrap, built = queries.ending_run, queries.transition_ending_run
    if any(isinstance(value, ClauseElement) for value in values.values()):
        stmt = queries.transition(action, fenced, ()).values(values)
        return wrap(stmt) if pg else stmt
    return (built if pg else queries.transition)(action, fenced, tuple(sorted(values)))


def _change_status(
    session: Session, job: JobState, stmt: Any, params: dict[str, Any], note: Note
) -> Row[Any] | None:
    """A transition that ends no run, with its `job_event`; the changed row, or None when it
    matched nothing."""
    claim = params["b_new"] is Status.RUNNING  # the only way into RUNNING
    pg = is_postgresql(session) and not claim
    if pg:
        params.update(_change(job.status, params["b_new"], note))
    row = session.execute(stmt, params).one_or_none()
    if row is not None and not pg and not claim:
        record_event(session, job.id, job.status, params["b_new"], row.attempts, note=note)
    return row


def _end_run(
    session: Session, job: JobState, stmt: Any, params: dict[str, Any], note: Note
) -> Row[Any] | None:
    """A transition out of RUNNING, with the `job_attempt` row of the run it ends; the changed
    row, or None when it matched nothing."""
    params.update(_run_note(note))
    if is_postgresql(session):
        return session.execute(stmt, params).one_or_none()
    start = session.execute(queries.RUN_START, params).one_or_none()
    row = session.execute(stmt, params).one_or_none()
    if row is not None and start is not None:
        runner = start.runner_id if start.runner_id is not None else note.runner_id
        run = {"job": job.id, "attempt": start.attempts, "runner": runner}
        times = {"started": start.ts_started, "ended": start.now}
        session.execute(queries.RECORD_RUN, {**params, **run, **times})
    return row


def is_postgresql(session: Session) -> bool:
    """Whether `session` talks to PostgreSQL (which takes a transition and its event in one
    statement, saving a round trip)."""
    return bool(session.get_bind().dialect.name == "postgresql")


def record_event(
    session: Session,
    job_id: int,
    old: Status | None,
    new: Status,
    attempt: int,
    *,
    note: Note = NO_NOTE,
) -> None:
    """Append one status change to the job's history (in the transaction that made it)."""
    session.execute(queries.RECORD_EVENT, _event(job_id, old, new, attempt, note))


def _event(
    job_id: int, old: Status | None, new: Status, attempt: int, note: Note
) -> dict[str, Any]:
    return {"job": job_id, "attempt": attempt, **_change(old, new, note)}


def _change(old: Status | None, new: Status, note: Note) -> dict[str, Any]:
    """The parameters of an event that the statement making the change cannot return (on
    PostgreSQL, `queries.with_event` takes the job and its attempt from the changed row)."""
    return {
        "old": old,
        "new": new,
        "runner": note.runner_id,
        "exit_code": _exit_code(note),
        "reason": note.reason,
        "traceback": note.traceback,
        "stderr": note.stderr,
    }


def _run_note(note: Note) -> dict[str, Any]:
    """The parameters of a run's `job_attempt` row that come from who ended it."""
    return {
        "runner": note.runner_id,
        "exit_code": _exit_code(note),
        "reason": note.reason,
        "traceback": note.traceback,
        "stderr": note.stderr,
        **stored(note.usage),
    }


def _exit_code(note: Note) -> int | None:
    if note.exit_code is None and note.usage is not None:
        return note.usage.exit_code
    return note.exit_code


def claim_next(
    session: Session,
    runner_id: int,
    tasks: Sequence[str],
    token: str,
    *,
    is_postgresql: bool,
    count: int = 1,
) -> list[Row[Any]]:
    """Claim the `count` best runnable jobs of `tasks` for `runner_id` under `token`; their
    `queries.CLAIMED_COLUMNS`, best first (none when nothing is runnable)."""
    params = queries.claim_params(tasks, token, runner_id, count)
    found = session.execute(queries.claim_next(is_postgresql), params).all()
    return _claimed(session, found)


def _claimed(session: Session, found: Sequence[Row[Any]]) -> list[Row[Any]]:
    """Claimed rows, best first, propagated. A claim writes no history: the job row says who
    runs it until the run ends (`_end_run`)."""
    rows = sorted(found, key=lambda row: (-row.priority, row.id))
    for row in rows:
        _propagate(session, JobState(row.id, Status.QUEUED, row.super_id), Status.RUNNING)
    return rows


# -- concurrency limits --------------------------------------------------------------------------


def claim_limited(
    session: Session,
    runner_id: int,
    tasks: Sequence[str],
    token: str,
    *,
    is_postgresql: bool,
    count: int = 1,
) -> list[Row[Any]]:
    """Claim up to `count` of the best runnable jobs of `tasks` that hold limits, each only
    if every limit it needs has room for its units: all or nothing per job, decided under the
    limits' row locks (taken in name order; SQLite serialises writers), never from a count
    read before them. Their `queries.CLAIMED_COLUMNS`, best first."""
    params = {"tasks": list(tasks), "count": count}
    candidates = session.execute(queries.limited_candidates(is_postgresql), params).all()
    if not candidates:
        return []
    needs: dict[int, dict[str, int]] = {}
    room: dict[str, _Room] = {}
    for row in session.execute(queries.LOCK_NEEDS, {"ids": [c.id for c in candidates]}):
        needs.setdefault(row.job_id, {})[row.name] = row.units
        room.setdefault(row.name, _Room(row.capacity, row.in_use))
    chosen: list[int] = []
    for candidate in candidates:  # best first; a limit that does not exist has no room
        need = needs.get(candidate.id, {})
        if len(need) == candidate.needs and _take(room, need):
            chosen.append(candidate.id)
    if not chosen:
        return []
    _add_in_use(session, room)
    params = {"ids": chosen, "token": token, "runner": runner_id}
    return _claimed(session, session.execute(queries.claim_ids(), params).all())


def acquire_limits(session: Session, job_id: int) -> None:
    """Take the units job `job_id` needs before it is claimed by id (`bt-runner --job`), all or
    none: `InvalidOperation` naming the limit without room."""
    need = limits_of(session, [job_id]).get(job_id, {})
    if not need:
        return
    room = _lock_limits(session, set(need))
    if not _take(room, need):
        full = sorted(name for name in need if not _fits(room.get(name), need[name]))
        shown = ", ".join(_fullness(name, room.get(name)) for name in full)
        raise errors.InvalidOperation(f"Job {job_id} waits for room in limit {shown}.")
    _add_in_use(session, room)


def limits_of(session: Session, job_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """The units each of `job_ids` holds of each limit while it runs (jobs without: absent)."""
    found: dict[int, dict[str, int]] = {}
    for row in session.execute(queries.JOB_LIMITS_OF, {"ids": list(job_ids)}):
        found.setdefault(row.job_id, {})[row.name] = row.units
    return found


@dataclass
class _Room:
    """A limit as read under its row lock, and the units this claim adds to it."""

    capacity: int
    in_use: int
    added: int = 0


def _lock_limits(session: Session, names: set[str]) -> dict[str, _Room]:
    rows = session.execute(queries.LOCK_LIMITS, {"names": sorted(names)})
    return {row.name: _Room(row.capacity, row.in_use) for row in rows}


def _fits(limit: _Room | None, units: int) -> bool:
    """A limit that does not exist has no room (a name is never taken for unlimited)."""
    return limit is not None and limit.in_use + limit.added + units <= limit.capacity


def _take(room: dict[str, _Room], need: Mapping[str, int]) -> bool:
    """Add `need` to `room` if every limit of it has room for its units; whether it did."""
    if not need or not all(_fits(room.get(name), units) for name, units in need.items()):
        return False
    for name, units in need.items():
        room[name].added += units
    return True


def _add_in_use(session: Session, room: dict[str, _Room]) -> None:
    added = [{"limit": name, "units": r.added} for name, r in sorted(room.items()) if r.added]
    if added:
        session.execute(queries.ADD_IN_USE, added)


def _fullness(name: str, limit: _Room | None) -> str:
    if limit is None:
        return f"{name!r} (no such limit)"
    return f"{name!r} ({limit.in_use} of {limit.capacity} units in use)"


def _propagate(
    session: Session, job: JobState, new: Status, *, children: bool = True, blocking: int = 0
) -> None:
    """Propagate a status change that was just written (`children`: whether it may have any;
    `blocking`: its blocking parents)."""
    if new == job.status:
        return
    if job.super_id is not None:
        adjust_superjob(session, job.super_id, bucket_deltas(job.status, new))
    if new is Status.DONE and children:
        release_children(session, job.id)
    if children and blocks_children(job.status, blocking) != blocks_children(new, blocking):
        shift_blocking(session, job.id, 1 if blocks_children(new, blocking) else -1)
    if new is Status.QUEUED:
        notify.notify_work(session)


def shift_blocking(session: Session, parent_id: int, delta: int) -> None:
    """Parent `parent_id` started (`delta` 1) or stopped (-1) blocking its children: count it,
    and go on down through every QUEUED child whose BLOCKED state flips with it."""
    flipped = [parent_id]
    while flipped:
        rows = session.execute(queries.SHIFT_BLOCKING, {"p": flipped.pop(), "d": delta}).all()
        flipped += [row.id for row in rows if _flips(row, delta)]


def _flips(row: Row[Any], delta: int) -> bool:
    """Whether a child whose blocking parents just changed by `delta` starts or stops blocking."""
    before, after = row.blocking_parents - delta, row.blocking_parents
    return blocks_children(row.status, before) != blocks_children(row.status, after)


# -- superjobs -----------------------------------------------------------------------------------


def adjust_superjob(session: Session, super_id: int, delta: SubjobCounts) -> None:
    """Add `delta` to a superjob's subjob counts, then re-derive its status (O(1) per event)."""
    if delta == SubjobCounts():
        return
    params = {"s": super_id, "t": delta.total, "d": delta.done, "f": delta.failed}
    row = session.execute(queries.ADJUST_SUPERJOB, params).one()
    rederive(
        session,
        JobState(super_id, row.status, row.super_id),
        SubjobCounts(row.sub_total, row.sub_done, row.sub_failed),
    )


def rederive(session: Session, job: JobState, counts: SubjobCounts) -> Status:
    """Apply the derivation of a superjob's status from its subjob counts, if it changes it."""
    action = derivation(counts)
    if action is None or job.status in NOT_DERIVED:
        return job.status
    if next_status(job.id, job.status, action) == job.status:
        return job.status
    if action is not Action.SUBJOBS_FAILED:
        return apply(session, job, action)
    reason = failed_subjobs_reason(session, job.id, counts)
    new = apply(session, job, action, note=Note(reason=reason))
    session.execute(
        queries.tag_upsert(session.get_bind().dialect.name),
        [{"job_id": job.id, "name": tagnames.REASON, "value": reason}],
    )
    return new


SHOWN_FAILED_SUBJOBS = 5  #: failed subjobs named in a superjob's reason


def failed_subjobs(session: Session, super_id: int, limit: int = SHOWN_FAILED_SUBJOBS) -> list[int]:
    """The first failed subjobs of a superjob, by id."""
    return list(session.scalars(queries.FAILED_SUBJOBS, {"super": super_id, "limit": limit}))


def failed_subjobs_reason(session: Session, super_id: int, counts: SubjobCounts) -> str:
    """`bt_reason` of a superjob failed by its subjobs: which ones, and how many of how many."""
    shown = failed_subjobs(session, super_id)
    more = counts.failed - len(shown)
    listed = ", ".join(map(str, shown)) + (f" and {more} more" if more > 0 else "")
    return f"subjobs failed: {listed} ({counts.failed} of {counts.total})"


# -- delayed retries -----------------------------------------------------------------------------


def release_due_retries(session: Session) -> int:
    """Make the delayed retries whose time has come runnable; how many."""
    rows = session.execute(queries.RELEASE_DUE_RETRIES).all()
    _notify_if_runnable(session, rows)
    return len(rows)


# -- dependencies --------------------------------------------------------------------------------


def release_children(session: Session, parent_id: int) -> None:
    """A parent became DONE: each child has one pending parent less (and may become runnable)."""
    rows = session.execute(queries.RELEASE_CHILDREN, {"p": parent_id}).all()
    _notify_if_runnable(session, rows)


def lock_scope(session: Session, scope: int) -> None:
    """Serialise changes to the dependency graph of `scope` (a superjob's subjobs, or 0 for
    top-level jobs) until the transaction ends, so a cycle check sees every committed edge.
    PostgreSQL takes an advisory lock; SQLite writers are serialised already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(queries.LOCK_SCOPE, {"scope": scope})


def lock_scope_of(session: Session, job_id: int) -> int:
    """`lock_scope` for the scope of `job_id`; the scope. `JobNotFound` if there is no such job."""
    scope = session.scalar(queries.SCOPE_OF, {"job": job_id})
    if scope is None:
        raise errors.JobNotFound(job_id)
    lock_scope(session, scope)
    return int(scope)


def add_dependencies(session: Session, edges: Sequence[tuple[int, int]], scope: int) -> None:
    """Insert parent → child `edges` between jobs of `scope`; every parent not yet DONE is one
    more pending parent of its child, every FAILED or BLOCKED one a blocking parent. The caller
    has checked the edges may exist."""
    if not edges:
        return
    session.execute(insert(DEP), [_edge(p, c, scope) for p, c in edges])
    parents = _parent_states(session, {parent for parent, _ in edges})
    pending = Counter(c for p, c in edges if parents[p][0] is not Status.DONE)
    blocking = Counter(c for p, c in edges if blocks_children(*parents[p]))
    for count, children in _by_count(pending).items():
        session.execute(queries.ADD_PENDING_PARENTS, {"ids": children, "n": count})
    for count, children in _by_count(blocking).items():
        rows = session.execute(queries.ADD_BLOCKING_PARENTS, {"ids": children, "n": count})
        for row in rows.all():
            if _flips(row, count):
                shift_blocking(session, row.id, 1)


def remove_dependency(session: Session, parent_id: int, child_id: int) -> bool:
    """Delete the edge parent → child; False if there was none. The child may become runnable,
    or stop being BLOCKED."""
    edge = DEP.delete().where(DEP.c.parent_id == parent_id, DEP.c.child_id == child_id)
    if not session.execute(edge.returning(DEP.c.child_id)).all():
        return False
    status, blocking = _parent_states(session, {parent_id})[parent_id]
    if status is not Status.DONE:
        rows = session.execute(queries.ADD_PENDING_PARENTS, {"ids": [child_id], "n": -1}).all()
        _notify_if_runnable(session, rows)
    if blocks_children(status, blocking):
        row = session.execute(queries.ADD_BLOCKING_PARENTS, {"ids": [child_id], "n": -1}).one()
        if _flips(row, -1):
            shift_blocking(session, child_id, -1)
    return True


def _by_count(counts: Counter[int]) -> dict[int, list[int]]:
    """Job ids grouped by how much each is to be increased (one UPDATE per group)."""
    groups: dict[int, list[int]] = {}
    for job_id, count in counts.items():
        groups.setdefault(count, []).append(job_id)
    return groups


def _parent_states(session: Session, job_ids: set[int]) -> dict[int, tuple[Status, int]]:
    query = select(JOB.c.id, JOB.c.status, JOB.c.blocking_parents).where(JOB.c.id.in_(job_ids))
    return {row.id: (row.status, row.blocking_parents) for row in session.execute(query)}


def _notify_if_runnable(session: Session, rows: Sequence[Row[Any]]) -> None:
    if any(r.status is Status.QUEUED and r.pending_parents == 0 for r in rows):
        notify.notify_work(session)


# -- new jobs ------------------------------------------------------------------------------------


def insert_jobs(
    session: Session,
    rows: Sequence[NewRow],
    *,
    super_id: int | None = None,
    links: Sequence[tuple[int, int]] = (),
    existing_parents: Sequence[tuple[int, int]] = (),
) -> list[int]:
    """Insert `rows` (subjobs of `super_id`, or top-level) with `links` between them (pairs of
    indexes into `rows`) and `existing_parents` (pairs of an existing job id and an index);
    their ids, in order. The caller has checked the specs and that the links make no cycle;
    parents must exist and be siblings of the new jobs (`JobNotFound`, `DependencyError`)."""
    scope = super_id or 0
    if existing_parents:
        lock_scope(session, scope)
    parents = _existing_parents(session, {parent for parent, _ in existing_parents}, scope)
    pending = Counter(child for _, child in links)
    pending.update(c for p, c in existing_parents if parents[p][0] is not Status.DONE)
    blocked = Counter(c for p, c in existing_parents if blocks_children(*parents[p]))
    counts = _Counts(pending, _blocking(rows, links, blocked))
    ids = _insert_rows(session, rows, super_id, counts)
    held = [
        {"job_id": job_id, "name": name, "units": units}
        for job_id, row in zip(ids, rows, strict=True)
        for name, units in sorted((row.spec.limits or {}).items())
    ]
    if held:
        session.execute(insert(JOB_LIMIT), held)
    edges = [(ids[p], ids[c]) for p, c in links] + [(p, ids[c]) for p, c in existing_parents]
    if edges:
        session.execute(insert(DEP), [_edge(p, c, scope) for p, c in edges])
    session.execute(
        queries.RECORD_EVENT,
        [
            _event(job_id, None, _status_of(row), 0, NO_NOTE)
            for job_id, row in zip(ids, rows, strict=True)
        ],
    )
    if super_id is not None:
        adjust_superjob(session, super_id, SubjobCounts(total=len(rows)))
    if any(row.submit and not pending[i] for i, row in enumerate(rows)):
        notify.notify_work(session)
    return ids


@dataclass(frozen=True)
class _Counts:
    """The counters of new jobs, by index."""

    pending: Counter[int]
    blocking: Counter[int]


def _blocking(
    rows: Sequence[NewRow], links: Sequence[tuple[int, int]], blocked: Counter[int]
) -> Counter[int]:
    """Blocking parents of each new job: its blocking existing parents (`blocked`), and its new
    parents that are QUEUED and blocked themselves, in topological order (links are acyclic)."""
    counts, indegree = Counter(blocked), Counter(child for _, child in links)
    children: dict[int, list[int]] = {}
    for parent, child in links:
        children.setdefault(parent, []).append(child)
    ready = [i for i in range(len(rows)) if not indegree[i]]
    while ready:
        index = ready.pop()
        blocks = rows[index].submit and counts[index] > 0
        for child in children.get(index, ()):
            counts[child] += blocks
            indegree[child] -= 1
            if not indegree[child]:
                ready.append(child)
    return counts


def _existing_parents(
    session: Session, parent_ids: set[int], scope: int
) -> dict[int, tuple[Status, int]]:
    """Status and blocking parents of the existing parents of new jobs: they must exist and be
    siblings of the new jobs."""
    if not parent_ids:
        return {}
    columns = (JOB.c.id, JOB.c.scope, JOB.c.status, JOB.c.blocking_parents)
    query = select(*columns).where(JOB.c.id.in_(parent_ids))
    found = {row.id: row for row in session.execute(query)}
    for parent in sorted(parent_ids):
        if parent not in found:
            raise errors.JobNotFound(parent)
        if found[parent].scope != scope:
            raise errors.DependencyError(f"Job {parent} is not a sibling of the new jobs.")
    return {parent: (row.status, row.blocking_parents) for parent, row in found.items()}


def _insert_rows(
    session: Session, rows: Sequence[NewRow], super_id: int | None, counts: _Counts
) -> list[int]:
    ids: list[int] = [0] * len(rows)
    fresh = _fresh_sqlite_ids(session, len(rows))
    for submitted in (True, False):
        batch = [i for i, row in enumerate(rows) if row.submit is submitted]
        if not batch:
            continue
        stmt = insert(JOB).returning(JOB.c.id, sort_by_parameter_order=True)
        if submitted:
            stmt = stmt.values(ts_queued=db_now())
        values = [_row_values(rows[i], super_id, counts, i) for i in batch]
        if fresh is not None:
            for i, row_values in zip(batch, values, strict=True):
                row_values["id"] = fresh[i]
        for index, job_id in zip(batch, session.scalars(stmt, values).all(), strict=True):
            ids[index] = job_id
    return ids


def _fresh_sqlite_ids(session: Session, count: int) -> list[int] | None:
    """On SQLite, `count` ids never handed out before (SQLite would reuse the ids of the
    highest removed jobs, and with them their log files); None elsewhere (sequences)."""
    if session.get_bind().dialect.name != "sqlite":
        return None
    last = session.scalar(queries.TAKE_JOB_IDS, {"n": count})
    return list(range(last - count + 1, last + 1))


def _status_of(row: NewRow) -> Status:
    return Status.QUEUED if row.submit else Status.STASHED


def _row_values(row: NewRow, super_id: int | None, counts: _Counts, index: int) -> dict[str, Any]:
    spec = row.spec
    return {
        "name": spec.task,
        "config": spec.config,
        "input": spec.input,
        "description": spec.description,
        "priority": spec.priority,
        "status": _status_of(row),
        "super_id": super_id,
        "scope": super_id or 0,
        "pending_parents": counts.pending[index],
        "blocking_parents": counts.blocking[index],
        "max_attempts": spec.max_attempts,
        "retries": spec.retries,
        "retry_delay": spec.retry_delay,
        "retry_backoff": spec.retry_backoff,
        "time_limit": spec.time_limit,
        "has_limits": bool(spec.limits),
    }


def _edge(parent_id: int, child_id: int, scope: int) -> dict[str, int]:
    return {"parent_id": parent_id, "child_id": child_id, "scope": scope}
