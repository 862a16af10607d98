"""The database tables: job, tag, dependency (as in the original) and runner (for leases).

Models are thin: columns, constraints and relationships only. Rules live in `bt.status` and
`bt.transitions`; the hot-path statements in `bt.queries`. `JOB`, `DEP`, `TAG` and `RUNNER` are
the Core table handles those statements are built on.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import (
    CheckConstraint,
    Enum,
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
from bt.values import DEFAULT_MAX_ATTEMPTS

NAME_LENGTH = 100  #: characters in a task name
TOKEN_LENGTH = 32  #: hex characters in a claim token

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: A runnable job, as SQL with literal values: partial indexes only match literal predicates.
RUNNABLE_SQL = "status = 'QUEUED' AND pending_parents = 0"

STATUS_TYPE = Enum(
    Status,
    name="status",
    native_enum=False,
    create_constraint=True,
    length=20,
    values_callable=lambda statuses: [s.value for s in statuses],
    validate_strings=True,
)


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


class Job(Base):
    """All jobs in brownthrower: an instance of a task with its config, input and output."""

    __tablename__ = "job"
    __table_args__ = (
        UniqueConstraint("scope", "id"),
        CheckConstraint("scope = coalesce(super_id, 0)", name="scope_is_super"),
        CheckConstraint("(status = 'RUNNING') = (token IS NOT NULL)", name="running_has_token"),
        CheckConstraint(
            "sub_done >= 0 AND sub_failed >= 0 AND sub_done + sub_failed <= sub_total",
            name="subjob_counts",
        ),
        CheckConstraint("pending_parents >= 0", name="pending_parents"),
        Index("ix_job_status_id", "status", "id"),
        Index("ix_job_name_id", "name", "id"),
        Index("ix_job_super_id", "super_id"),
        Index("ix_job_runner_id", "runner_id"),
        Index(
            "ix_job_runnable",
            text("priority DESC"),
            "id",
            postgresql_where=text(RUNNABLE_SQL),
            sqlite_where=text(RUNNABLE_SQL),
        ),
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


class Dependency(Base):
    """A parent → child edge between two sibling jobs (same superjob, or both top-level)."""

    __tablename__ = "dependency"
    __table_args__ = (
        ForeignKeyConstraint(["scope", "parent_id"], ["job.scope", "job.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["scope", "child_id"], ["job.scope", "job.id"], ondelete="CASCADE"),
        CheckConstraint("parent_id <> child_id", name="not_self"),
        Index("ix_dependency_child_id", "child_id"),
    )

    parent_id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(primary_key=True)
    #: the common superjob of parent and child, 0 when both are top-level
    scope: Mapped[int]


class Tag(Base):
    """Arbitrary named data attached to a job: tracebacks, captured output, user notes."""

    __tablename__ = "tag"

    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(TAG_NAME_LENGTH), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


JOB = cast(Table, Job.__table__)  #: Core handle: hot-path statements skip the ORM (3x cheaper)
DEP = cast(Table, Dependency.__table__)
TAG = cast(Table, Tag.__table__)
RUNNER = cast(Table, Runner.__table__)
