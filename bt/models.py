"""The database tables: job, tag, dependency (as in the original), runner (for leases) and the
named concurrency limits (`concurrency_limit`, and `job_limit`: the units a job holds of each).

Models are thin: columns, constraints and relationships only. Rules live in `bt.status` and
`bt.transitions`; the hot-path statements in `bt.queries`. `JOB`, `DEP`, `TAG`, `RUNNER`,
`LIMIT` and `JOB_LIMIT` are the Core table handles those statements are built on.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bt.sqltypes import UTCDateTime, db_now
from bt.status import Status
from bt.tagnames import NAME_LENGTH as TAG_NAME_LENGTH
from bt.usage import STORED_FIELDS
from bt.values import DEFAULT_MAX_ATTEMPTS, GIVEN_BACK

NAME_LENGTH = 100  #: characters in a task name
#: the reason of a run given back unstarted, which is no attempt (for `bt.queries`)
GIVEN_BACK_REASON = GIVEN_BACK
TOKEN_LENGTH = 32  #: hex characters in a claim token
BATCH_ID_LENGTH = 64  #: characters of a batch job id kept per attempt
USAGE_COLUMNS = STORED_FIELDS  #: `job_attempt`'s columns of an attempt's figures (`bt.usage`)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

RUNNING, DONE = Status.RUNNING.value, Status.DONE.value
#: RUNNING or not, as SQL with literal values (for the partial indexes, as below)
IS_RUNNING_SQL = f"status = '{RUNNING}'"
NOT_RUNNING_SQL = f"status <> '{RUNNING}'"
NOT_RUNNING = text(NOT_RUNNING_SQL)

#: A runnable job, as SQL with literal values: partial indexes only match literal predicates.
#: A job waiting for its retry delay has `not_before` set, so it is not in the index either.
RUNNABLE_SQL = "status = 'QUEUED' AND pending_parents = 0 AND not_before IS NULL"
#: A BLOCKED job: QUEUED, with a parent FAILED or itself BLOCKED.
BLOCKED_SQL = "status = 'QUEUED' AND blocking_parents > 0"
#: A job that needs a unit of a limit with no room for it (or a limit that does not exist),
#: for a row of `job` (as SQL: claims, filters, counts and listings use it as written). A count,
#: not EXISTS: PostgreSQL may turn an EXISTS into a hash of every `job_limit` row ever written,
#: where this reads the job's own few rows by the primary key.
OVER_LIMIT_SQL = (
    "has_limits AND (SELECT count(*) FROM job_limit jl LEFT JOIN concurrency_limit cl "
    "ON cl.name = jl.name WHERE jl.job_id = job.id "
    "AND (cl.name IS NULL OR cl.in_use + jl.units > cl.capacity)) > 0"
)
#: A LIMITED job: runnable but for a limit without room for it.
LIMITED_SQL = f"{RUNNABLE_SQL} AND {OVER_LIMIT_SQL}"


def status_type(name: str = "status") -> Enum:
    """The type of a status column; `name` names its CHECK constraint (one per column)."""
    return Enum(
        Status,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda statuses: [s.value for s in statuses],
        validate_strings=True,
    )


STATUS_TYPE = status_type()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: UTCDateTime(), Status: STATUS_TYPE}


class Runner(Base):
    """A live runner daemon. Its jobs' leases hang on its heartbeat."""

    __tablename__ = "runner"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(TOKEN_LENGTH), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    slots: Mapped[int]
    tasks: Mapped[str] = mapped_column(Text, server_default="")
    started_at: Mapped[dt.datetime] = mapped_column(server_default=db_now())
    heartbeat_at: Mapped[dt.datetime] = mapped_column(server_default=db_now())
    expires_at: Mapped[dt.datetime]
    stop_requested: Mapped[bool] = mapped_column(server_default=text("false"))
    #: whether it has claimed a job (the dispatcher tells pilots that worked from the others)
    claimed: Mapped[bool] = mapped_column(server_default=text("false"))


class Job(Base):
    """All jobs in brownthrower: an instance of a task with its config, input and output."""

    __tablename__ = "job"
    __table_args__ = (
        # what `dependency` refers to on SQLite; PostgreSQL checks scopes with a trigger
        # instead (migration 0008), saving this index an entry at every status change
        UniqueConstraint("scope", "id").ddl_if(dialect="sqlite"),
        CheckConstraint("scope = coalesce(super_id, 0)", name="scope_is_super"),
        CheckConstraint("(status = 'RUNNING') = (token IS NOT NULL)", name="running_has_token"),
        CheckConstraint(
            "sub_done >= 0 AND sub_failed >= 0 AND sub_done + sub_failed <= sub_total",
            name="subjob_counts",
        ),
        CheckConstraint("pending_parents >= 0", name="pending_parents"),
        # On PostgreSQL, where every index entry of the claim → finish path is a WAL record a
        # job (a status change never updates in place), RUNNING jobs are only in
        # `ix_job_runner_id`, and DONE jobs, the bulk of a campaign, are found by task.
        Index(
            "ix_job_status_id",
            "status",
            "id",
            postgresql_where=text(f"status NOT IN ('{RUNNING}', '{DONE}')"),
        ),
        Index("ix_job_name_status_id", "name", "status", "id"),
        # only where set: a status change of a top-level job not RUNNING skips them
        Index(
            "ix_job_super_id",
            "super_id",
            postgresql_where=text("super_id IS NOT NULL"),
            sqlite_where=text("super_id IS NOT NULL"),
        ),
        Index(
            "ix_job_runner_id",
            "runner_id",
            postgresql_where=text(f"status = '{RUNNING}'"),
            sqlite_where=text("runner_id IS NOT NULL"),
        ),
        # limited and unlimited jobs apart: each claim reads the one part it wants, in order
        Index(
            "ix_job_runnable",
            "has_limits",
            text("priority DESC"),
            "id",
            postgresql_where=text(RUNNABLE_SQL),
            sqlite_where=text(RUNNABLE_SQL),
        ),
        Index(
            "ix_job_blocked",
            "id",
            postgresql_where=text(BLOCKED_SQL),
            sqlite_where=text(BLOCKED_SQL),
        ),
        Index(
            "ix_job_not_before",
            "not_before",
            postgresql_where=text("not_before IS NOT NULL"),
            sqlite_where=text("not_before IS NOT NULL"),
        ),
        # a row's next version mostly fits in its page (see migration 0008)
        {"postgresql_with": {"fillfactor": 70}},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    super_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"))
    #: super_id, or 0 for a top-level job: lets `dependency` enforce that linked jobs are siblings.
    scope: Mapped[int] = mapped_column(server_default=text("0"))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    status: Mapped[Status]
    description: Mapped[str] = mapped_column(Text, server_default="")
    config: Mapped[str | None] = mapped_column(Text, deferred=True)
    input: Mapped[str | None] = mapped_column(Text, deferred=True)
    output: Mapped[str | None] = mapped_column(Text, deferred=True)
    ts_created: Mapped[dt.datetime] = mapped_column(server_default=db_now())
    ts_queued: Mapped[dt.datetime | None]
    ts_started: Mapped[dt.datetime | None]
    ts_ended: Mapped[dt.datetime | None]
    priority: Mapped[int] = mapped_column(server_default=text("0"))
    #: reservation of a RUNNING job; every write of its runner is fenced by it
    token: Mapped[str | None] = mapped_column(String(TOKEN_LENGTH))
    runner_id: Mapped[int | None] = mapped_column(ForeignKey("runner.id", ondelete="SET NULL"))
    attempts: Mapped[int] = mapped_column(server_default=text("0"))
    max_attempts: Mapped[int] = mapped_column(server_default=text(str(DEFAULT_MAX_ATTEMPTS)))
    #: direct subjobs in all, DONE and FAILED: a superjob's status derives from these in O(1)
    sub_total: Mapped[int] = mapped_column(server_default=text("0"))
    sub_done: Mapped[int] = mapped_column(server_default=text("0"))
    sub_failed: Mapped[int] = mapped_column(server_default=text("0"))
    #: parents not yet DONE; a QUEUED job with none is runnable
    pending_parents: Mapped[int] = mapped_column(server_default=text("0"))
    #: parents FAILED or BLOCKED; a QUEUED job with any is BLOCKED
    blocking_parents: Mapped[int] = mapped_column(server_default=text("0"))
    #: automatic re-runs after a failed run, and how many were used since the last submit
    retries: Mapped[int] = mapped_column(server_default=text("0"))
    retried: Mapped[int] = mapped_column(server_default=text("0"))
    #: seconds before the first retry, and the factor for each next one
    retry_delay: Mapped[float] = mapped_column(Float, server_default=text("10"))
    retry_backoff: Mapped[float] = mapped_column(Float, server_default=text("2"))
    #: seconds a run (or prolog, or epilog) may take; None: no limit
    time_limit: Mapped[float | None] = mapped_column(Float)
    #: a retried job waits until then; not runnable (nor in `ix_job_runnable`) while set
    not_before: Mapped[dt.datetime | None]
    #: whether the job holds units of limits while it runs (`job_limit` says which)
    has_limits: Mapped[bool] = mapped_column(server_default=text("false"))


class Dependency(Base):
    """A parent → child edge between two sibling jobs (same superjob, or both top-level).

    The database refuses an edge whose jobs are not both in `scope`: on SQLite by foreign keys
    to `job (scope, id)`, on PostgreSQL by the trigger `dependency_siblings` (migration 0008),
    as a unique index on `job (scope, id)` would cost a WAL record at every status change."""

    __tablename__ = "dependency"
    __table_args__ = (
        ForeignKeyConstraint(
            ["scope", "parent_id"], ["job.scope", "job.id"], ondelete="CASCADE"
        ).ddl_if(dialect="sqlite"),
        ForeignKeyConstraint(
            ["scope", "child_id"], ["job.scope", "job.id"], ondelete="CASCADE"
        ).ddl_if(dialect="sqlite"),
        ForeignKeyConstraint(["parent_id"], ["job.id"], ondelete="CASCADE").ddl_if(
            dialect="postgresql"
        ),
        ForeignKeyConstraint(["child_id"], ["job.id"], ondelete="CASCADE").ddl_if(
            dialect="postgresql"
        ),
        CheckConstraint("parent_id <> child_id", name="not_self"),
        Index("ix_dependency_child_id", "child_id"),
    )

    parent_id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(primary_key=True)
    #: the common superjob of parent and child, 0 when both are top-level
    scope: Mapped[int]


class JobEvent(Base):
    """One status change of a job, written with it: the job's history, append-only. The claims
    and ends of runs are not here but in `job_attempt` (one row a run)."""

    __tablename__ = "job_event"
    __table_args__ = (Index("ix_job_event_job_id_id", "job_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(server_default=db_now())
    #: None for the job's creation
    old_status: Mapped[Status | None] = mapped_column(status_type("old_status"))
    new_status: Mapped[Status] = mapped_column(status_type("new_status"))
    attempt: Mapped[int]
    #: the runner of the attempt (no foreign key: runner rows go when runners stop)
    runner_id: Mapped[int | None]
    host: Mapped[str | None] = mapped_column(String(255))
    exit_code: Mapped[int | None]
    reason: Mapped[str | None] = mapped_column(Text)
    #: the failure's traceback and the tail of its stderr, kept per attempt
    traceback: Mapped[str | None] = mapped_column(Text)
    stderr: Mapped[str | None] = mapped_column(Text)


class JobAttempt(Base):
    """One run of a job's own code, written when it ends (DONE, FAILED, STAND-BY, retried,
    requeued, aborted, spawned): outcome, runner, times, exit code, reason and what it cost. A
    superjob's prolog and epilog are one attempt in two rows; the run under way is the job row.

    One row and one index entry a run: the claim writes nothing here, and `after_event` (the
    job's last `job_event` when the run ended) places the run among the job's events."""

    __tablename__ = "job_attempt"

    #: no foreign key: checking it would lock the job row again (a WAL record a run);
    #: `bt.jobs.remove` deletes a job's attempts with it
    job_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: 1, 2, ...: the job's runs in the order they ended (never reset, unlike `attempt`)
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    attempt: Mapped[int]
    after_event: Mapped[int | None]
    outcome: Mapped[Status] = mapped_column(status_type("outcome"))
    runner_id: Mapped[int | None]
    host: Mapped[str | None] = mapped_column(String(255))
    queued_at: Mapped[dt.datetime | None]
    started_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime]
    exit_code: Mapped[int | None]
    reason: Mapped[str | None] = mapped_column(Text)
    #: the failure's traceback and the tail of its stderr
    traceback: Mapped[str | None] = mapped_column(Text)
    stderr: Mapped[str | None] = mapped_column(Text)
    #: what the attempt cost (`bt.usage.Usage`), None when not measured
    realtime: Mapped[float | None] = mapped_column(Float)
    cpu_user: Mapped[float | None] = mapped_column(Float)
    cpu_sys: Mapped[float | None] = mapped_column(Float)
    peak_rss: Mapped[int | None] = mapped_column(BigInteger)
    minflt: Mapped[int | None] = mapped_column(BigInteger)
    majflt: Mapped[int | None] = mapped_column(BigInteger)
    vol_ctxt: Mapped[int | None] = mapped_column(BigInteger)
    inv_ctxt: Mapped[int | None] = mapped_column(BigInteger)
    inblock: Mapped[int | None] = mapped_column(BigInteger)
    oublock: Mapped[int | None] = mapped_column(BigInteger)
    rchar: Mapped[int | None] = mapped_column(BigInteger)
    wchar: Mapped[int | None] = mapped_column(BigInteger)
    read_bytes: Mapped[int | None] = mapped_column(BigInteger)
    write_bytes: Mapped[int | None] = mapped_column(BigInteger)
    batch_id: Mapped[str | None] = mapped_column(String(BATCH_ID_LENGTH))
    slots: Mapped[int | None]  #: the figures' columns are `USAGE_COLUMNS`


class IdCounter(Base):
    """The last id handed out per table, so SQLite never reuses the id of a removed job."""

    __tablename__ = "id_counter"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int]


class Tag(Base):
    """Arbitrary named data attached to a job: tracebacks, captured output, user notes."""

    __tablename__ = "tag"

    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(TAG_NAME_LENGTH), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Chore(Base):
    """A periodic cluster chore (lost-runner recovery) that one runner per interval does: the
    runner whose update finds `due_at` passed takes it and sets the next due time."""

    __tablename__ = "chore"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    due_at: Mapped[dt.datetime]
    runner_id: Mapped[int | None]  #: who took it last (no foreign key: runners come and go)


class ConcurrencyLimit(Base):
    """A named limit: at most `capacity` units held at once by RUNNING jobs, across all runners.
    `in_use` counts the units held; only claims and the transitions out of RUNNING change it,
    under this row's lock."""

    __tablename__ = "concurrency_limit"
    __table_args__ = (
        CheckConstraint("capacity >= 0", name="capacity"),
        CheckConstraint("in_use >= 0", name="in_use"),
    )

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    capacity: Mapped[int]
    in_use: Mapped[int] = mapped_column(server_default=text("0"))


class JobLimit(Base):
    """The units of a limit a job holds while it runs (no foreign key to the limit: a DONE job
    keeps naming a limit removed since)."""

    __tablename__ = "job_limit"
    __table_args__ = (
        CheckConstraint("units >= 1", name="units"),
        Index("ix_job_limit_name_job_id", "name", "job_id"),
    )

    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    units: Mapped[int]


JOB = cast(Table, Job.__table__)  #: Core handle: hot-path statements skip the ORM (3x cheaper)
DEP = cast(Table, Dependency.__table__)
TAG = cast(Table, Tag.__table__)
JOB_EVENT = cast(Table, JobEvent.__table__)
ATTEMPT = cast(Table, JobAttempt.__table__)
ID_COUNTER = cast(Table, IdCounter.__table__)
RUNNER = cast(Table, Runner.__table__)
CHORE = cast(Table, Chore.__table__)
LIMIT = cast(Table, ConcurrencyLimit.__table__)
JOB_LIMIT = cast(Table, JobLimit.__table__)
