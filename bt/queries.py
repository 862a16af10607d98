"""Every statement of the claim → run → finish path, one name each; nothing else builds them.

Each is built once with bound parameters (building a statement costs several times more than
running it on the runner's hot path), on the Core table handles of `bt.models`. This module
imports only `bt.models`, `bt.status` and the column types of `bt.sqltypes`; the code that runs
these statements and decides what follows is `bt.transitions` (status and counters), `bt.claims`
and `bt.runners`.

The claim is one statement: an UPDATE of the best runnable row chosen by a sub-select that uses the
partial index `ix_job_runnable`, so its cost does not grow with finished or blocked jobs. On
PostgreSQL the sub-select takes the row with `FOR UPDATE SKIP LOCKED` so runners never wait on
each other; on SQLite writers are serialized by `BEGIN IMMEDIATE` and the same UPDATE is safe.
The index leads with `has_limits`: that claim reads only the unlimited jobs' part of it, and the
claim of jobs that hold concurrency limits (`limited_candidates`, `LOCK_LIMITS`, `ADD_IN_USE`,
`claim_ids`) reads only the other part.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import (
    CTE,
    BindParameter,
    ColumnElement,
    Delete,
    Exists,
    Insert,
    Integer,
    Select,
    Update,
    bindparam,
    case,
    delete,
    exists,
    false,
    func,
    insert,
    literal_column,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bt.models import (
    ATTEMPT,
    CHORE,
    DEP,
    GIVEN_BACK_REASON,
    ID_COUNTER,
    IS_RUNNING_SQL,
    JOB,
    JOB_EVENT,
    JOB_LIMIT,
    LIMIT,
    OVER_LIMIT_SQL,
    RUNNABLE_SQL,
    RUNNER,
    TAG,
    USAGE_COLUMNS,
)
from bt.sqltypes import UTCDateTime, db_now
from bt.status import TRANSITIONS, Action, Status

# -- transitions --------------------------------------------------------------------------------


def side_effects(action: Action) -> dict[str, Any]:
    """The columns a transition sets besides `status`."""
    cleared: dict[str, Any] = {"token": None, "runner_id": None}
    table: dict[Action, dict[str, Any]] = {
        Action.SUBMIT: {
            "ts_queued": db_now(),
            "ts_started": None,
            "ts_ended": None,
            "output": None,
            "attempts": 0,
            "retried": 0,
            "not_before": None,
        },
        Action.RESET: {
            "ts_queued": None,
            "ts_started": None,
            "ts_ended": None,
            "not_before": None,
            **cleared,
        },
        Action.ABORT: {"ts_ended": db_now(), "not_before": None, **cleared},
        Action.CLAIM: {
            "ts_started": db_now(),
            "ts_ended": None,
            "output": None,
            # a superjob's prolog and epilog are one attempt: the epilog claim does not count
            "attempts": JOB.c.attempts + case((JOB.c.sub_total == 0, 1), else_=0),
        },
        Action.FINISH: {"ts_ended": db_now(), **cleared},
        Action.FAIL: {"ts_ended": db_now(), **cleared},
        Action.SPAWN: dict(cleared),
        Action.REQUEUE: {"ts_started": None, **cleared},
        Action.RETRY: {
            "ts_started": None,
            "ts_ended": None,
            "retried": JOB.c.retried + 1,
            # retrying a failed epilog is a new attempt, which its claim does not count
            "attempts": JOB.c.attempts + case((JOB.c.sub_total > 0, 1), else_=0),
            **cleared,
        },
        Action.SUBJOBS_ACTIVE: {"ts_ended": None},
        Action.SUBJOBS_DONE: {"ts_queued": db_now(), "ts_ended": None},
        Action.SUBJOBS_FAILED: {"ts_ended": db_now()},
    }
    return dict(table.get(action, {}))


def has_children(job_id: Any) -> Exists:
    """Whether the job `job_id` (a column or a value) has dependent children."""
    return exists().where(DEP.c.parent_id == job_id)


@cache
def transition(action: Action, fenced: bool, keys: tuple[str, ...]) -> Update:
    """The UPDATE of one transition: parameters `b_id`, `b_old`, `b_new`, `b_token` (when
    `fenced`) and `b_<key>` for each extra column in `keys`; returns whether the job has
    children, its attempts, its blocking parents and whether it holds limits. Matches no row
    when the job left `b_old` (or its token changed) meanwhile. Its history is another
    statement's (`with_event`, `ending_run`, `RECORD_EVENT`, `RECORD_RUN`)."""
    stmt = update(JOB).where(JOB.c.id == bindparam("b_id"), JOB.c.status == bindparam("b_old"))
    if fenced:
        stmt = stmt.where(JOB.c.token == bindparam("b_token"))
    bound = {key: bindparam(f"b_{key}", type_=JOB.c[key].type) for key in keys}
    new = bindparam("b_new", type_=JOB.c.status.type)
    return stmt.values(status=new, **side_effects(action), **bound).returning(
        has_children(JOB.c.id).label("has_children"),
        JOB.c.attempts,
        JOB.c.blocking_parents,
        JOB.c.id,
        JOB.c.has_limits,
    )


def _event_of(moved: CTE, old: Any, new: Any) -> Insert:
    """The history event of each row a data-modifying CTE `moved` returns (its `id` and
    `attempts`), from `old` to `new`, with the note's parameters (see `RECORD_EVENT`)."""
    note = [
        bindparam("runner", type_=JOB_EVENT.c.runner_id.type),
        select(RUNNER.c.host).where(RUNNER.c.id == bindparam("runner")).scalar_subquery(),
        *(bindparam(name, type_=JOB_EVENT.c[name].type) for name in _NOTE_COLUMNS),
    ]
    columns = ["job_id", "old_status", "new_status", "attempt", "runner_id", "host"]
    rows = select(moved.c.id, old, new, moved.c.attempts, *note)
    return insert(JOB_EVENT).from_select([*columns, *_NOTE_COLUMNS], rows)


_NOTE_COLUMNS = ("exit_code", "reason", "traceback", "stderr")
_RUN_NOTE = (*_NOTE_COLUMNS, *USAGE_COLUMNS)

# -- the end of a run: its `job_attempt` row ------------------------------------------------------

#: what a run's row takes from its job as it was before the end, and the time of the end (on
#: SQLite, read before the transition: a retry's `not_before`, set after, is never earlier)
RUN_START = select(
    JOB.c.id, JOB.c.attempts, JOB.c.ts_started, JOB.c.runner_id, db_now().label("now")
).where(JOB.c.id == bindparam("b_id"))


def _greatest(first: ColumnElement[Any], second: ColumnElement[Any], pg: bool) -> Any:
    """The later of two timestamps, either of which may be NULL."""
    if pg:
        return func.greatest(first, second)  # which ignores NULLs
    return func.max(func.coalesce(first, second), func.coalesce(second, first))


def _queued_at(job_id: ColumnElement[int], pg: bool) -> Any:
    """When the job last went into the queue: its latest change to QUEUED, or the end of its
    latest run that put it back (not given back unstarted)."""
    event = select(func.max(JOB_EVENT.c.at)).where(
        JOB_EVENT.c.job_id == job_id, JOB_EVENT.c.new_status == Status.QUEUED
    )
    run = select(func.max(ATTEMPT.c.ended_at)).where(
        ATTEMPT.c.job_id == job_id,
        ATTEMPT.c.outcome == Status.QUEUED,
        func.coalesce(ATTEMPT.c.reason, "") != GIVEN_BACK_REASON,
    )
    return _greatest(event.scalar_subquery(), run.scalar_subquery(), pg)


def _run_values(
    job_id: ColumnElement[int], attempt: Any, runner: Any, started: Any, *, pg: bool
) -> dict[str, Any]:
    """The columns of a run's `job_attempt` row; the outcome and the note are parameters
    (`b_new`, and those of `RECORD_EVENT` but `old`, `new`)."""
    return {
        "job_id": job_id,
        # the job's runs end one at a time (each fenced by its claim, or under the row lock of
        # an abort), each after the previous one's commit: no two runs take the same number
        "seq": select(func.coalesce(func.max(ATTEMPT.c.seq), 0) + 1)
        .where(ATTEMPT.c.job_id == job_id)
        .scalar_subquery(),
        "attempt": attempt,
        "after_event": select(func.max(JOB_EVENT.c.id))
        .where(JOB_EVENT.c.job_id == job_id)
        .scalar_subquery(),
        "outcome": bindparam("b_new", type_=ATTEMPT.c.outcome.type),
        "runner_id": runner,
        "host": select(RUNNER.c.host).where(RUNNER.c.id == runner).scalar_subquery(),
        "queued_at": _queued_at(job_id, pg),
        "started_at": started,
        "ended_at": db_now() if pg else bindparam("ended", type_=UTCDateTime()),
        **{name: bindparam(name, type_=ATTEMPT.c[name].type) for name in _RUN_NOTE},
    }


#: SQLite: record the run job `:job` ended (parameters: `attempt`, `runner`, `started`, `b_new`
#: and the note), after the transition
RECORD_RUN = insert(ATTEMPT).values(
    _run_values(
        bindparam("job", type_=Integer),
        bindparam("attempt", type_=Integer),
        bindparam("runner", type_=Integer),
        bindparam("started", type_=UTCDateTime()),
        pg=False,
    )
)


@cache
def transition_ending_run(action: Action, fenced: bool, keys: tuple[str, ...]) -> Select[Any]:
    """`ending_run` of `transition(action, fenced, keys)`, built once."""
    return ending_run(transition(action, fenced, keys))


def ending_run(stmt: Update) -> Select[Any]:
    """PostgreSQL: `stmt` (a `transition` out of RUNNING) and the `job_attempt` row
    of the run it ends, in one statement, one round trip; parameters those of the transition,
    `runner` (the runner reporting, when the job row names none) and the note."""
    before = RUN_START.cte("before")
    moved = stmt.cte("moved")
    runner = func.coalesce(before.c.runner_id, bindparam("runner", type_=Integer))
    values = _run_values(moved.c.id, before.c.attempts, runner, before.c.ts_started, pg=True)
    rows = select(*values.values()).select_from(moved.join(before, before.c.id == moved.c.id))
    ran = insert(ATTEMPT).from_select(list(values), rows).cte("ran")
    columns = (moved.c.has_children, moved.c.attempts, moved.c.blocking_parents)
    return select(*columns, moved.c.has_limits).add_cte(ran)


@cache
def transition_with_event(action: Action, fenced: bool, keys: tuple[str, ...]) -> Select[Any]:
    """`with_event` of `transition(action, fenced, keys)`, built once."""
    return with_event(transition(action, fenced, keys))


def with_event(stmt: Update) -> Select[Any]:
    """PostgreSQL: `stmt` (a `transition`) and its history event in one statement, one round
    trip: parameters those of both `transition` and `RECORD_EVENT` (but `job`, `attempt`)."""
    moved = stmt.cte("moved")
    old = bindparam("old", type_=JOB_EVENT.c.old_status.type)
    new = bindparam("new", type_=JOB_EVENT.c.new_status.type)
    event = _event_of(moved, old, new).cte("moved_event")
    columns = (moved.c.has_children, moved.c.attempts, moved.c.blocking_parents)
    return select(*columns, moved.c.has_limits).add_cte(event)


#: add `:t`, `:d`, `:f` to superjob `:s`'s subjob counters; returns what re-deriving needs
ADJUST_SUPERJOB = (
    update(JOB)
    .where(JOB.c.id == bindparam("s"))
    .values(
        sub_total=JOB.c.sub_total + bindparam("t"),
        sub_done=JOB.c.sub_done + bindparam("d"),
        sub_failed=JOB.c.sub_failed + bindparam("f"),
    )
    .returning(JOB.c.status, JOB.c.super_id, JOB.c.sub_total, JOB.c.sub_done, JOB.c.sub_failed)
)

#: parent `:p` became DONE: one pending parent less for each of its children
RELEASE_CHILDREN = (
    update(JOB)
    .where(JOB.c.id.in_(select(DEP.c.child_id).where(DEP.c.parent_id == bindparam("p"))))
    .values(pending_parents=JOB.c.pending_parents - 1)
    .returning(JOB.c.status, JOB.c.pending_parents)
)

SCOPE_LOCK_CLASS = 0x6273  #: first key of the advisory locks that serialise graph changes

#: the scope of job `:job` (its superjob, 0 for top level), read without locking it
SCOPE_OF = select(JOB.c.scope).where(JOB.c.id == bindparam("job"))

#: PostgreSQL: wait for the graph lock of scope `:scope` until the transaction ends
LOCK_SCOPE = select(func.pg_advisory_xact_lock(SCOPE_LOCK_CLASS, bindparam("scope")))

#: add `:n` pending parents to each job of `:ids`
ADD_PENDING_PARENTS = (
    update(JOB)
    .where(JOB.c.id.in_(bindparam("ids", expanding=True)))
    .values(pending_parents=JOB.c.pending_parents + bindparam("n"))
    .returning(JOB.c.status, JOB.c.pending_parents)
)

#: add `:d` blocking parents to each child of `:p` (a parent started or stopped blocking them)
SHIFT_BLOCKING = (
    update(JOB)
    .where(JOB.c.id.in_(select(DEP.c.child_id).where(DEP.c.parent_id == bindparam("p"))))
    .values(blocking_parents=JOB.c.blocking_parents + bindparam("d"))
    .returning(JOB.c.id, JOB.c.status, JOB.c.blocking_parents)
)

#: add `:n` blocking parents to each job of `:ids`
ADD_BLOCKING_PARENTS = (
    update(JOB)
    .where(JOB.c.id.in_(bindparam("ids", expanding=True)))
    .values(blocking_parents=JOB.c.blocking_parents + bindparam("n"))
    .returning(JOB.c.id, JOB.c.status, JOB.c.blocking_parents)
)


def _take_ids(name: str, ids: Any, amount: Any) -> Update:
    """Move SQLite's id counter `name` past the highest id in use (`ids`) by `amount`; returns
    the last id taken (the counter never goes back, so no id is handed out twice)."""
    highest = select(func.coalesce(func.max(ids), 0)).scalar_subquery()
    return (
        update(ID_COUNTER)
        .where(ID_COUNTER.c.name == name)
        .values(value=func.max(ID_COUNTER.c.value, highest) + amount)
        .returning(ID_COUNTER.c.value)
    )


#: reserve `:n` new job ids on SQLite; returns the last
TAKE_JOB_IDS = _take_ids("job", JOB.c.id, bindparam("n"))

#: record one status change of job `:job` (runner `:runner`'s host looked up), for its history
RECORD_EVENT = insert(JOB_EVENT).values(
    job_id=bindparam("job"),
    old_status=bindparam("old", type_=JOB_EVENT.c.old_status.type),
    new_status=bindparam("new", type_=JOB_EVENT.c.new_status.type),
    attempt=bindparam("attempt"),
    runner_id=bindparam("runner", type_=JOB_EVENT.c.runner_id.type),
    host=select(RUNNER.c.host).where(RUNNER.c.id == bindparam("runner")).scalar_subquery(),
    exit_code=bindparam("exit_code", type_=JOB_EVENT.c.exit_code.type),
    reason=bindparam("reason", type_=JOB_EVENT.c.reason.type),
    traceback=bindparam("traceback", type_=JOB_EVENT.c.traceback.type),
    stderr=bindparam("stderr", type_=JOB_EVENT.c.stderr.type),
)

#: delayed retries whose time has come become runnable (at most 1000 at once)
RELEASE_DUE_RETRIES = (
    update(JOB)
    .where(
        JOB.c.id.in_(
            select(JOB.c.id)
            .where(JOB.c.not_before.is_not(None), JOB.c.not_before <= db_now())
            .limit(1000)
            .scalar_subquery()
        )
    )
    .values(not_before=None)
    .returning(JOB.c.status, JOB.c.pending_parents)
)

#: seconds until the next delayed retry of one of `:tasks` is due (negative: overdue)
NEXT_RETRY = (
    select(JOB.c.not_before)
    .where(JOB.c.not_before.is_not(None), JOB.c.name.in_(bindparam("tasks", expanding=True)))
    .order_by(JOB.c.not_before)
    .limit(1)
)

# -- claims -------------------------------------------------------------------------------------

CLAIMED_COLUMNS = (
    JOB.c.id,
    JOB.c.name,
    JOB.c.super_id,
    JOB.c.priority,
    JOB.c.attempts,
    JOB.c.sub_total,
    JOB.c.time_limit,
    JOB.c.config,
    JOB.c.input,
    exists().where(DEP.c.child_id == JOB.c.id).label("has_parents"),
)

TASKS: BindParameter[list[str]] = bindparam("tasks", expanding=True)  #: task names to claim


def runnable(*, limited: bool = False) -> Select[int]:
    """Ids of runnable jobs of the `tasks` parameter, best first: those that hold no limits
    (or only those that do, `limited`)."""
    return (
        select(JOB.c.id)
        .where(
            text(RUNNABLE_SQL),
            JOB.c.has_limits == (true() if limited else false()),
            JOB.c.name.in_(TASKS),
        )
        .order_by(JOB.c.priority.desc(), JOB.c.id)
    )


def runnable_sqlite(*, limited: bool = False) -> Select[Any]:
    """`runnable` forcing SQLite onto the partial index: without fresh statistics its planner
    prefers `ix_job_status_id` and sorts every QUEUED job, blocked ones included."""
    return (
        select(literal_column("id"))
        .select_from(text("job INDEXED BY ix_job_runnable"))
        .where(
            text(RUNNABLE_SQL),
            text(f"has_limits = {int(limited)}"),
            literal_column("name").in_(TASKS),
        )
        .order_by(text("priority DESC, id"))
    )


def _claim(chosen: ColumnElement[bool]) -> Update:
    """Move the QUEUED jobs `chosen` to RUNNING under `:token` for `:runner`."""
    return (
        update(JOB)
        .where(chosen, JOB.c.status == Status.QUEUED)
        .values(
            status=TRANSITIONS[Action.CLAIM][Status.QUEUED],
            token=bindparam("token", type_=JOB.c.token.type),
            runner_id=bindparam("runner", type_=JOB.c.runner_id.type),
            **side_effects(Action.CLAIM),
        )
        .returning(*CLAIMED_COLUMNS)
    )


@cache
def claim_next(is_postgresql: bool) -> Update:
    """Atomically move the `count` best runnable jobs that hold no limits to RUNNING;
    parameters `tasks`, `token`, `runner`, `count` (see `claim_params`). The rows come back in
    no particular order."""
    limit = bindparam("count", type_=Integer)
    if is_postgresql:
        # materialized: as a semi-join, PostgreSQL may rescan the subquery and take more rows
        locked = runnable().limit(limit).with_for_update(skip_locked=True).cte("best")
        best = select(locked.prefix_with("MATERIALIZED").c.id)
    else:
        best = runnable_sqlite().limit(limit)
    return _claim(JOB.c.id.in_(best.scalar_subquery()))


#: runner `:runner` has claimed a job (written once: later claims match no row, write nothing)
MARK_CLAIMED = (
    update(RUNNER)
    .where(RUNNER.c.id == bindparam("runner"), RUNNER.c.claimed == false())
    .values(claimed=true())
)

#: how many limits job `id` holds units of (a column of the candidates of a limited claim)
NEEDS_SQL = "(SELECT count(*) FROM job_limit WHERE job_limit.job_id = job.id)"


@cache
def limited_candidates(is_postgresql: bool) -> Select[Any]:
    """The `:count` best runnable jobs of `:tasks` that hold limits, each of whose limits had
    room for it when the statement began (a hint: the claim checks again under the limits' row
    locks), best first: their `id` and how many limits each `needs`; on PostgreSQL locked,
    skipping jobs other runners hold."""
    fits = text(f"NOT ({OVER_LIMIT_SQL})")
    limit = bindparam("count", type_=Integer)
    if is_postgresql:
        query = runnable(limited=True).where(fits).limit(limit)
        query = query.add_columns(literal_column(NEEDS_SQL).label("needs"))
        return query.with_for_update(skip_locked=True, of=JOB)
    query = runnable_sqlite(limited=True).where(fits).limit(limit)
    return query.add_columns(literal_column(NEEDS_SQL).label("needs"))


@cache
def claim_ids() -> Update:
    """Move the QUEUED jobs `:ids` to RUNNING (their limits acquired by the caller); parameters
    `ids`, `token`, `runner`. A claim writes no history: the job row says who runs it, and
    the run's `job_attempt` row is written when it ends."""
    return _claim(JOB.c.id.in_(bindparam("ids", expanding=True)))


def claim_params(
    tasks: Sequence[str], token: str, runner_id: int, count: int = 1
) -> dict[str, Any]:
    """The parameters of `claim_next`."""
    return {"tasks": list(tasks), "token": token, "runner": runner_id, "count": count}


#: what a claim needs of job `:job` (claimed by id, not by `claim_next`)
CLAIMED_ROW = select(*CLAIMED_COLUMNS).where(JOB.c.id == bindparam("job"))

#: the pending parents of job `:job`
PENDING_PARENTS = select(JOB.c.pending_parents).where(JOB.c.id == bindparam("job"))

#: outputs of the parents of job `:child`, by id
PARENT_OUTPUTS = (
    select(JOB.c.id, JOB.c.name, JOB.c.output)
    .join(DEP, DEP.c.parent_id == JOB.c.id)
    .where(DEP.c.child_id == bindparam("child"))
    .order_by(JOB.c.id)
)

#: outputs of the subjobs of job `:super`, by id (for the epilog)
SUBJOB_OUTPUTS = (
    select(JOB.c.id, JOB.c.name, JOB.c.output)
    .where(JOB.c.super_id == bindparam("super"))
    .order_by(JOB.c.id)
)

#: what deciding on a retry of job `:job` needs
RETRY_POLICY = select(JOB.c.retries, JOB.c.retried, JOB.c.retry_delay, JOB.c.retry_backoff).where(
    JOB.c.id == bindparam("job")
)

#: the database's clock
NOW = select(db_now())

#: the first `:limit` FAILED subjobs of `:super`, by id
FAILED_SUBJOBS = (
    select(JOB.c.id)
    .where(JOB.c.super_id == bindparam("super"), JOB.c.status == Status.FAILED)
    .order_by(JOB.c.id)
    .limit(bindparam("limit"))
)

#: the runs job `:job` has used and may use before a lost runner fails it
ATTEMPT_BUDGET = select(JOB.c.attempts, JOB.c.max_attempts).where(JOB.c.id == bindparam("job"))

#: the claim token of job `:job`, locking its row
HELD_TOKEN = select(JOB.c.token).where(JOB.c.id == bindparam("job")).with_for_update()

#: the current claim token of each job of `:ids` (the runner's abort poll)
HELD_TOKENS = select(JOB.c.id, JOB.c.token).where(JOB.c.id.in_(bindparam("ids", expanding=True)))

# -- concurrency limits -------------------------------------------------------------------------

#: the units each job of `:ids` holds of each limit while it runs
JOB_LIMITS_OF = select(JOB_LIMIT.c.job_id, JOB_LIMIT.c.name, JOB_LIMIT.c.units).where(
    JOB_LIMIT.c.job_id.in_(bindparam("ids", expanding=True))
)

#: the limits `:names`, locked in name order (every writer locks them in that order)
LOCK_LIMITS = (
    select(LIMIT.c.name, LIMIT.c.capacity, LIMIT.c.in_use)
    .where(LIMIT.c.name.in_(bindparam("names", expanding=True)))
    .order_by(LIMIT.c.name)
    .with_for_update()
)

#: the units the jobs `:ids` hold of each limit, with the limits' capacity and units in use,
#: the limits locked in name order (a limit that does not exist gives no row)
LOCK_NEEDS = (
    select(
        JOB_LIMIT.c.job_id, JOB_LIMIT.c.name, JOB_LIMIT.c.units, LIMIT.c.capacity, LIMIT.c.in_use
    )
    .join(LIMIT, LIMIT.c.name == JOB_LIMIT.c.name)
    .where(JOB_LIMIT.c.job_id.in_(bindparam("ids", expanding=True)))
    .order_by(LIMIT.c.name)
    .with_for_update(of=LIMIT)
)

#: `:units` more units of limit `:limit` in use (a claim, under the row's lock)
ADD_IN_USE = (
    update(LIMIT)
    .where(LIMIT.c.name == bindparam("limit"))
    .values(in_use=LIMIT.c.in_use + bindparam("units"))
)

#: job `:job` left RUNNING: the units it held are free again (the `in_use >= 0` check makes a
#: second release of one claim an error)
RELEASE_LIMITS = (
    update(LIMIT)
    .where(LIMIT.c.name.in_(select(JOB_LIMIT.c.name).where(JOB_LIMIT.c.job_id == bindparam("job"))))
    .values(
        in_use=LIMIT.c.in_use
        - select(JOB_LIMIT.c.units)
        .where(JOB_LIMIT.c.job_id == bindparam("job"), JOB_LIMIT.c.name == LIMIT.c.name)
        .scalar_subquery()
    )
)

#: whether any limit exists (when none does, no job can hold one: claims skip that part)
ANY_LIMIT = select(exists().select_from(LIMIT))

# -- tags ---------------------------------------------------------------------------------------


@cache
def tag_upsert(dialect: str) -> Insert:
    """INSERT ... ON CONFLICT DO UPDATE of one tag, run for many rows at once."""
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(TAG)
    return stmt.on_conflict_do_update(
        index_elements=["job_id", "name"], set_={"value": stmt.excluded.value}
    )


#: delete the tags named in `:names` of job `:job`
DELETE_TAGS: Delete = delete(TAG).where(
    TAG.c.job_id == bindparam("job"), TAG.c.name.in_(bindparam("names", expanding=True))
)

# -- runners and leases -------------------------------------------------------------------------


@cache
def heartbeat(seconds: float) -> Update:
    """Renew runner `:runner`'s lease: others may recover its jobs `seconds` from now (its lease
    plus the safety margin, `bt.runners.recoverable_after`); returns whether a stop was
    requested (a runner's lease never changes, so one statement per runner is built)."""
    return (
        update(RUNNER)
        .where(RUNNER.c.id == bindparam("runner"))
        .values(heartbeat_at=db_now(), expires_at=db_now(seconds))
        .returning(RUNNER.c.stop_requested)
    )


#: on SQLite, create the counter of runner ids if missing (runner ids are never reused either)
RUNNER_COUNTER = insert(ID_COUNTER).from_select(
    ["name", "value"],
    select(literal_column("'runner'"), literal_column("0")).where(
        ~exists().where(ID_COUNTER.c.name == "runner")
    ),
)

#: on SQLite, a runner id never handed out before: a lost runner's late heartbeat must never
#: renew the lease of a newer runner that got its id
TAKE_RUNNER_ID = _take_ids("runner", RUNNER.c.id, 1)

#: ids of the runners whose lease expired, margin included (`expires_at` holds both)
LOST_RUNNERS = select(RUNNER.c.id).where(RUNNER.c.expires_at < db_now())

#: RUNNING jobs whose runner's lease expired, or whose runner row is gone, locked
ORPHANED_JOBS = (
    select(
        JOB.c.id,
        JOB.c.super_id,
        JOB.c.token,
        JOB.c.runner_id,
        JOB.c.attempts,
        JOB.c.max_attempts,
    )
    .where(text(IS_RUNNING_SQL))
    .where(JOB.c.runner_id.in_(LOST_RUNNERS) | JOB.c.runner_id.is_(None))
    .with_for_update(skip_locked=True)
)

#: forget the runners whose lease expired (after their jobs were recovered)
DELETE_LOST_RUNNERS = delete(RUNNER).where(RUNNER.c.id.in_(LOST_RUNNERS))


# -- cluster chores ------------------------------------------------------------------------

RECOVERY_CHORE = "recover lost runners"  #: the chore of requeueing lost runners' jobs


@cache
def take_chore(interval: float) -> Update:
    """Take chore `:chore` for runner `:taker` if it is due, making it due again `interval`
    seconds from now;
    returns its name when taken, nothing when another runner took it less than an interval
    ago (one statement: the row lock makes exactly one of several runners win)."""
    return (
        update(CHORE)
        .where(CHORE.c.name == bindparam("chore"), CHORE.c.due_at <= db_now())
        .values(due_at=db_now(interval), runner_id=bindparam("taker"))
        .returning(CHORE.c.name)
    )


def add_chore(dialect: str) -> Any:
    """Create chore `:chore`, due at once, unless it exists."""
    values = {"name": bindparam("chore"), "due_at": db_now()}
    if dialect == "postgresql":
        return pg_insert(CHORE).values(values).on_conflict_do_nothing()
    return sqlite_insert(CHORE).values(values).on_conflict_do_nothing()
