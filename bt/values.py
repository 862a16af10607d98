"""The values the services take and return: plain frozen dataclasses, never ORM objects.

Nothing here imports SQLAlchemy, so a script, the shell and task code can hold these without the
database layer. `bt` re-exports the ones callers build themselves (`JobSpec`, `NodeSpec`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bt.status import Status
from bt.usage import Usage

DEFAULT_MAX_ATTEMPTS = 3  #: runs of a job before a lost runner fails it, unless its task says
DEFAULT_RETRIES = 0  #: automatic re-runs of a failed run, unless its task or its job says
DEFAULT_RETRY_DELAY = 10.0  #: seconds before the first retry
DEFAULT_RETRY_BACKOFF = 2.0  #: each next retry waits this many times longer
MAX_RETRY_DELAY = 3600.0  #: seconds: the longest wait before a retry

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
    retries: int | None = None  #: None: the task's own `retries`
    retry_delay: float | None = None  #: None: the task's own `retry_delay`
    retry_backoff: float | None = None  #: None: the task's own `retry_backoff`
    time_limit: float | None = None  #: None: the task's own `time_limit` (which may be none)
    #: units of named concurrency limits the job holds while it runs; None: the task's `limits`
    limits: Mapping[str, int] | None = None


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
    blocked: bool = False  #: QUEUED with a parent FAILED or BLOCKED: cannot run until someone acts
    not_before: dt.datetime | None = None  #: a retry waits until then (QUEUED, WAITING)
    limited: bool = False  #: runnable but for a concurrency limit without room (LIMITED)

    @property
    def shown_status(self) -> str:
        """The status as users read it: `QUEUED (blocked)` for a BLOCKED job, `QUEUED (retry at
        10:26)` (local time) for one WAITING for its retry, `QUEUED (limited)` for one LIMITED."""
        if self.blocked:
            return f"{self.status.value} (blocked)"
        if self.waiting and self.not_before is not None:
            return f"{self.status.value} (retry at {self.not_before.astimezone():%H:%M})"
        if self.limited:
            return f"{self.status.value} (limited)"
        return self.status.value

    @property
    def waiting(self) -> bool:
        """Whether the job is WAITING: QUEUED until its retry delay has passed."""
        return self.status is Status.QUEUED and self.not_before is not None

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
            "blocked": self.blocked,
            "not_before": _iso(self.not_before),
            "limited": self.limited,
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
    retries: int = DEFAULT_RETRIES
    retried: int = 0  #: retries used since the last submit
    retry_delay: float = DEFAULT_RETRY_DELAY
    retry_backoff: float = DEFAULT_RETRY_BACKOFF
    time_limit: float | None = None
    blocking_parents: int = 0
    failed_subjobs: Sequence[int] = field(default_factory=tuple)  #: the first few, if any
    limits: Mapping[str, int] = field(default_factory=dict)  #: units held while it runs

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
            "lost_runner_max_attempts": self.max_attempts,
            "runner_id": self.runner_id,
            "subjobs": self.subjobs,
            "subjobs_done": self.subjobs_done,
            "subjobs_failed": self.subjobs_failed,
            "pending_parents": self.pending_parents,
            "parents": list(self.parents),
            "children": list(self.children),
            "retries": self.retries,
            "retried": self.retried,
            "retry_delay": self.retry_delay,
            "retry_backoff": self.retry_backoff,
            "time_limit": self.time_limit,
            "blocking_parents": self.blocking_parents,
            "failed_subjobs": list(self.failed_subjobs),
            "limits": dict(self.limits),
        }


@dataclass(frozen=True)
class LimitInfo:
    """A named concurrency limit (`limit list`): its capacity, the units RUNNING jobs hold, and
    how many jobs hold it or wait for it (QUEUED, every parent DONE, not waiting for a retry)."""

    name: str
    capacity: int
    in_use: int = 0
    running: int = 0
    waiting: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "capacity": self.capacity,
            "in_use": self.in_use,
            "running": self.running,
            "waiting": self.waiting,
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


@dataclass(frozen=True)
class Finding:
    """One problem `db check` found: its kind, the jobs involved and a line for users."""

    kind: str  #: cycle, counter, lease or stuck
    job_ids: tuple[int, ...]
    detail: str

    def as_dict(self) -> dict[str, Any]:
        """The finding as JSON-ready values."""
        return {"kind": self.kind, "job_ids": list(self.job_ids), "detail": self.detail}


# -- runners and their claims ----------------------------------------------------------------


@dataclass(frozen=True)
class RunnerInfo:
    """A runner's registration: its id, and the uuid that names it in logs."""

    id: int
    uuid: str


@dataclass(frozen=True)
class Beat:
    """What a runner's heartbeat learnt: whether a stop was requested, and whether it is the
    runner that recovers lost runners' jobs this interval."""

    stop: bool
    recover: bool


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
    runner_id: int | None = None  #: the runner holding the claim
    time_limit: float | None = None  #: seconds this phase may take; None: no limit


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


@dataclass(frozen=True)
class Finished:
    """A run whose phase succeeded: its result and run tags, for `ClaimService.settle`."""

    claim: Claim
    result: RunResult
    tags: Mapping[str, str] = field(default_factory=dict)
    clear_stale: bool = False  #: remove run tags of an earlier run that `tags` does not replace
    usage: Usage | None = None  #: what the run cost, kept in its history


@dataclass(frozen=True)
class Failed:
    """A run whose phase failed (or whose process died): why, for `ClaimService.settle`."""

    claim: Claim
    reason: str
    traceback: str
    exit_code: int | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    clear_stale: bool = False
    usage: Usage | None = None


#: the history reason of a claim made ahead and given back before its job started: no attempt
GIVEN_BACK = "claimed ahead; given back unstarted"


@dataclass(frozen=True)
class Requeued:
    """A run interrupted from outside: back to the queue. Uncounted (pre-emption, a claim given
    back), or with `counted` as a lost runner's job (its lease fenced it): the attempt counts,
    and a job out of attempts fails with reason `runner lost`."""

    claim: Claim
    clear_tags: bool = True
    reason: str = "pre-empted"  #: what the job's history says of the interrupted attempt
    counted: bool = False
    usage: Usage | None = None


RunEnd = Finished | Failed | Requeued  #: how one run ended, as the runner records it


@dataclass(frozen=True)
class Refill:
    """The jobs a runner claims in the commit that records its ended runs."""

    runner_id: int
    tasks: Sequence[str]
    count: int


@dataclass(frozen=True)
class Settled:
    """What `ClaimService.settle` did: each run's new status (None: its claim was lost,
    nothing written), and the jobs claimed."""

    statuses: list[Status | None]
    claimed: list[Claim]


@dataclass(frozen=True)
class JobEvent:
    """One status change of a job (`job history --events`)."""

    at: dt.datetime
    old_status: Status | None  #: None for the job's creation
    new_status: Status
    attempt: int
    runner_id: int | None = None
    host: str | None = None
    exit_code: int | None = None
    reason: str | None = None
    traceback: str | None = None
    stderr: str | None = None
    usage: Usage | None = None  #: what the attempt this change ended cost

    def as_dict(self) -> dict[str, Any]:
        """The event as JSON-ready values."""
        return {
            "at": _iso(self.at),
            "old_status": self.old_status.value if self.old_status else None,
            "new_status": self.new_status.value,
            "attempt": self.attempt,
            "runner_id": self.runner_id,
            "host": self.host,
            "exit_code": self.exit_code,
            "reason": self.reason,
            "traceback": self.traceback,
            "stderr": self.stderr,
            "usage": _usage(self.usage),
        }


@dataclass(frozen=True)
class Attempt:
    """One attempt at a job's own code (`job history`): a run, or a superjob's prolog and epilog."""

    number: int
    runner_id: int | None = None
    host: str | None = None
    queued: dt.datetime | None = None
    started: dt.datetime | None = None
    ended: dt.datetime | None = None
    outcome: str = ""  #: the status it ended in, "retried", "requeued", or "" while running
    exit_code: int | None = None
    reason: str | None = None
    traceback: str | None = None
    stderr: str | None = None
    usage: Usage | None = None  #: what the run cost, as its runner measured it

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, when both are known."""
        if self.started is None or self.ended is None:
            return None
        return (self.ended - self.started).total_seconds()

    def as_dict(self) -> dict[str, Any]:
        """The attempt as JSON-ready values."""
        return {
            "attempt": self.number,
            "runner_id": self.runner_id,
            "host": self.host,
            "queued": _iso(self.queued),
            "started": _iso(self.started),
            "ended": _iso(self.ended),
            "duration": self.duration,
            "outcome": self.outcome,
            "exit_code": self.exit_code,
            "reason": self.reason,
            "traceback": self.traceback,
            "stderr": self.stderr,
            "usage": _usage(self.usage),
        }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _usage(usage: Usage | None) -> dict[str, Any] | None:
    return None if usage is None else usage.as_dict()
