"""The values the services take and return: plain frozen dataclasses, never ORM objects.

Nothing here imports SQLAlchemy, so a script, the shell and task code can hold these without the
database layer. `bt` re-exports the ones callers build themselves (`JobSpec`, `NodeSpec`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bt.status import Status

DEFAULT_MAX_ATTEMPTS = 3  #: runs of a job before a lost runner fails it, unless its task says

EditField = Literal["config", "input", "description"]
EDIT_FIELDS: tuple[EditField, ...] = ("config", "input", "description")

Key = Hashable  #: names a job of a graph being created, local to that graph


# -- creating jobs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class JobSpec:
    """What a new job is made of: its task, config and input as YAML text, and how it is shown."""

    task: str
    config: str | None = None
    input: str | None = None
    description: str = ""
    priority: int = 0
    max_attempts: int | None = None  #: None: the task's own `max_attempts`


@dataclass(frozen=True)
class NodeSpec:
    """One job of a graph, named by a key local to the graph; `submit` queues it at once."""

    key: Key
    spec: JobSpec
    submit: bool = False


# -- reading jobs and tags -------------------------------------------------------------------


@dataclass(frozen=True)
class JobInfo:
    """One row of `job list`: identity, status and timestamps (no YAML)."""

    id: int
    super_id: int | None
    name: str
    status: Status
    priority: int = 0
    attempts: int = 0
    created: dt.datetime | None = None
    queued: dt.datetime | None = None
    started: dt.datetime | None = None
    ended: dt.datetime | None = None

    @property
    def active(self) -> bool:
        """Whether the job is still on its way: QUEUED or RUNNING."""
        return self.status in (Status.QUEUED, Status.RUNNING)

    def as_dict(self) -> dict[str, Any]:
        """The row as JSON-ready values (ISO timestamps, status as text)."""
        return {
            "id": self.id,
            "super_id": self.super_id,
            "name": self.name,
            "status": self.status.value,
            "priority": self.priority,
            "attempts": self.attempts,
            "created": _iso(self.created),
            "queued": _iso(self.queued),
            "started": _iso(self.started),
            "ended": _iso(self.ended),
        }


@dataclass(frozen=True)
class JobDetails(JobInfo):
    """Everything about one job, for `job show` and the editor."""

    description: str = ""
    config: str | None = None
    input: str | None = None
    output: str | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    runner_id: int | None = None
    subjobs: int = 0
    subjobs_done: int = 0
    subjobs_failed: int = 0
    pending_parents: int = 0
    parents: Sequence[int] = field(default_factory=tuple)
    children: Sequence[int] = field(default_factory=tuple)

    @property
    def finished(self) -> bool:
        """Whether the job and all its subjobs are done with: DONE, or FAILED with nothing
        active below it (a superjob failed by one subjob may still have others running)."""
        settled = self.subjobs_done + self.subjobs_failed == self.subjobs
        return self.status is Status.DONE or (self.status is Status.FAILED and settled)

    def as_dict(self) -> dict[str, Any]:
        """The job as JSON-ready values."""
        return {
            **super().as_dict(),
            "description": self.description,
            "config": self.config,
            "input": self.input,
            "output": self.output,
            "max_attempts": self.max_attempts,
            "runner_id": self.runner_id,
            "subjobs": self.subjobs,
            "subjobs_done": self.subjobs_done,
            "subjobs_failed": self.subjobs_failed,
            "pending_parents": self.pending_parents,
            "parents": list(self.parents),
            "children": list(self.children),
        }


@dataclass(frozen=True)
class TagInfo:
    """One tag of a job."""

    job_id: int
    name: str
    value: str


@dataclass(frozen=True)
class Page:
    """One page of a job list; `next_after` continues it (None on the last page)."""

    jobs: list[JobInfo]
    next_after: int | None


@dataclass(frozen=True)
class Neighbourhood:
    """A job with its parents, children, superjob and subjobs (what `job graph` shows)."""

    job: JobInfo
    parents: list[JobInfo]
    children: list[JobInfo]
    superjob: JobInfo | None
    subjobs: list[JobInfo]
    more_subjobs: int = 0


@dataclass(frozen=True)
class TreeNode:
    """A job in the super/sub hierarchy with its subjobs' status counts."""

    job: JobInfo
    counts: dict[str, int] = field(default_factory=dict)
    children: list[TreeNode] = field(default_factory=list)
    hidden: int = 0


@dataclass(frozen=True)
class Dag:
    """Jobs connected to one job through dependencies (ancestors and descendants), for DOT."""

    jobs: list[JobInfo]
    edges: list[tuple[int, int]]


@dataclass(frozen=True)
class DatabaseInfo:
    """Where a database is and which schema it has (`db info`), readable at any schema."""

    url: str  #: with the password masked
    dialect: str
    schema: str | None  #: the current revision, None for an empty database
    schema_head: str  #: the revision this version of brownthrower expects

    @property
    def current(self) -> bool:
        """Whether the schema is the one this version of brownthrower expects."""
        return self.schema == self.schema_head


# -- runners and their claims ----------------------------------------------------------------


@dataclass(frozen=True)
class RunnerInfo:
    """A runner's registration: its id, and the uuid that names it in logs."""

    id: int
    uuid: str


@dataclass(frozen=True)
class LiveRunner:
    """A registered runner as `runner list` shows it."""

    id: int
    host: str
    pid: int
    slots: int
    tasks: str
    started_at: dt.datetime
    heartbeat_at: dt.datetime
    expires_at: dt.datetime
    stop_requested: bool
    jobs: tuple[int, ...]


@dataclass(frozen=True)
class Claim:
    """A job a runner holds: what it needs to run it, and the token that fences its writes."""

    job_id: int
    name: str
    super_id: int | None
    token: str
    attempt: int
    epilog: bool
    config: str | None = None
    input: str | None = None
    parents: Sequence[tuple[int, str, str | None]] = ()
    subjobs: Sequence[tuple[int, str, str | None]] = ()


@dataclass(frozen=True)
class DeclaredJob:
    """A subjob or child declared by task code, with its config/input already as YAML text."""

    key: int
    task: str
    config: str | None = None
    input: str | None = None
    submit: bool = True
    description: str = ""


@dataclass(frozen=True)
class RunResult:
    """What a successful prolog/run/epilog produced."""

    output: str | None = None
    subjobs: Sequence[DeclaredJob] = ()
    children: Sequence[DeclaredJob] = ()
    links: Sequence[tuple[int, int]] = field(default_factory=tuple)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None
