"""The services front ends call: each method is one short transaction over `bt.db.Database`.

They take and return plain values (`bt.values`), never ORM objects, so the shell, the runner and
scripts share the same rules and none of them builds SQL. `Brownthrower` (`bt.client`) builds
them: `app.jobs`, `app.tags`, `app.runners`, `app.claims`, `app.limits`. Every method's
docstring says what it does and what it raises; the modules behind them only say why.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from bt import (
    attempts,
    bulk,
    claims,
    control,
    history,
    integrity,
    jobs,
    limits,
    links,
    listing,
    runners,
    sorting,
    tags,
)
from bt.db import Database
from bt.registry import TaskRegistry
from bt.report import AttemptRecord, GroupStats
from bt.report.stats import GroupBy
from bt.status import Status
from bt.usage import Usage
from bt.values import (
    Attempt,
    Beat,
    Claim,
    Dag,
    EditField,
    Finding,
    JobDetails,
    JobEvent,
    JobInfo,
    JobSpec,
    Key,
    LimitInfo,
    LiveRunner,
    Neighbourhood,
    NodeSpec,
    Page,
    Refill,
    RunEnd,
    RunnerInfo,
    RunResult,
    Settled,
    TagInfo,
    TreeNode,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class JobService:
    """Create, change and read jobs."""

    def __init__(self, db: Database, registry: TaskRegistry | None = None) -> None:
        self._db = db
        self._registry = registry

    def create(self, spec: JobSpec, *, submit: bool = False) -> JobInfo:
        """A new top-level job, STASHED (QUEUED with `submit`); `InvalidValue` or `TaskNotFound`
        when the spec is refused."""
        return self._db.write(
            lambda s: listing.job_info(s, jobs.create(s, spec, self._registry, submit_now=submit))
        )

    def create_graph(
        self,
        nodes: Sequence[NodeSpec],
        edges: Sequence[tuple[Key, Key]] = (),
        existing_parents: Sequence[tuple[int, Key]] = (),
    ) -> dict[Key, int]:
        """Create many jobs and their links at once, all or nothing."""
        return self._db.write(
            lambda s: bulk.create_graph(
                s, nodes, edges, registry=self._registry, existing_parents=existing_parents
            )
        )

    def clone(self, job_id: int, *, limits: Mapping[str, int] | None = None) -> JobInfo:
        """A new STASHED copy of a job, with the parents of a top-level one and its limits (or
        `limits` instead); `JobNotFound`, `LimitNotFound`."""
        return self._db.write(lambda s: listing.job_info(s, jobs.clone(s, job_id, limits)))

    def edit(
        self, job_id: int, field: EditField, text: str | None, *, expected: object = ...
    ) -> bool:
        """Replace a job's config, input (STASHED only) or description; whether it changed.

        `ChangedMeanwhile` when the value is no longer `expected` (another client edited it),
        `InvalidValue` for bad YAML or a refusal by the task's `validate`.
        """
        return self._db.write(
            lambda s: jobs.edit(s, job_id, field, text, expected=expected, registry=self._registry)
        )

    def set_priority(self, job_id: int, priority: int) -> None:
        """Change the order runnable jobs are claimed in (higher first); `JobNotFound`."""
        self._db.write(lambda s: jobs.set_priority(s, job_id, priority))

    def submit(self, job_id: int) -> Status:
        """Queue a STASHED or FAILED job (a superjob: its subjobs); else `InvalidTransition`."""
        return self._db.write(lambda s: control.submit(s, job_id))

    def reset(self, job_id: int) -> Status:
        """Return a QUEUED or FAILED job without subjobs to the stash; `InvalidTransition`."""
        return self._db.write(lambda s: control.reset(s, job_id))

    def abort(self, job_id: int) -> Status:
        """Fail a QUEUED or RUNNING job now (its process is killed); `InvalidTransition`."""
        return self._db.write(lambda s: control.abort(s, job_id))

    def abort_downstream(self, job_id: int) -> list[tuple[int, Status]]:
        """Abort a job and all its transitive dependents in one transaction; each one's status."""
        return self._db.write(lambda s: control.abort_downstream(s, job_id))

    def remove(self, job_id: int) -> int:
        """Delete an unlinked top-level STASHED or FAILED job with its subjobs; how many went."""
        return self._db.write(lambda s: jobs.remove(s, job_id))

    def link(self, parent_id: int, child_id: int) -> None:
        """Make `child_id` wait for `parent_id`; `DependencyError` for non-siblings or a cycle."""
        self._db.write(lambda s: links.link(s, parent_id, child_id))

    def unlink(self, parent_id: int, child_id: int) -> None:
        """Remove a dependency; `DependencyError` when there is none."""
        self._db.write(lambda s: links.unlink(s, parent_id, child_id))

    def get(self, job_id: int) -> JobDetails:
        """Everything about one job, YAML included; `JobNotFound`."""
        with self._db.read() as s:
            return jobs.details(s, job_id)

    def check(self) -> list[Finding]:
        """Every inconsistency in the database (cycles, counters, leases, stuck jobs); none
        when it is consistent. Reads everything: for a periodic check, not the hot path."""
        with self._db.read() as s:
            return integrity.check(s)

    def editable(self, job_id: int, field: EditField) -> JobDetails:
        """The job, to start editing `field`: `InvalidTransition` when its status forbids it
        (config and input only while STASHED), `JobNotFound` when there is no such job."""
        with self._db.read() as s:
            return jobs.editable(s, job_id, field)

    def info(self, job_id: int) -> JobInfo:
        """One job's identity, status and timestamps; `JobNotFound`."""
        with self._db.read() as s:
            return listing.job_info(s, job_id)

    def history(self, job_id: int) -> list[Attempt]:
        """One row per run of the job's code (runner, times, outcome, failure); `JobNotFound`."""
        with self._db.read() as s:
            return history.attempts(s, job_id)

    def attempt_records(self, terms: Sequence[str] = ()) -> list[AttemptRecord]:
        """Every attempt of the jobs matching all filter `terms`, as `bt.report` reads them
        (`job trace`, `job report`); `FilterError` for a bad term."""
        with self._db.read() as s:
            return attempts.records(s, terms)

    def stats(self, terms: Sequence[str] = (), by: GroupBy = "task") -> list[GroupStats]:
        """`job stats`: the selected jobs' attempts summed up per task, status or host."""
        with self._db.read() as s:
            return attempts.stats(s, terms, by)

    def events(self, job_id: int) -> list[JobEvent]:
        """Every status change of a job, oldest first; `JobNotFound`."""
        with self._db.read() as s:
            return history.events(s, job_id)

    def suggest_ids(self, prefix: str, *, limit: int = 40) -> list[JobInfo]:
        """Jobs whose id starts with `prefix`, newest first: cheap, for TAB completion."""
        with self._db.read() as s:
            return listing.suggest_ids(s, prefix, limit=limit)

    def list(
        self,
        terms: Sequence[str] = (),
        *,
        limit: int = 50,
        after: int | None = None,
        newest_first: bool = False,
        sort: str | None = None,
        now: dt.datetime | None = None,
    ) -> Page:
        """One page of the jobs matching every filter term (`bt.filters`), by id or by the
        field `sort` (`bt.sorting`: ties by id, empty values last; `elapsed` runs to `now`);
        pass `next_after` back as `after` for the next page. `InvalidValue` for a bad term or
        field, `JobNotFound` when a sorted page continues after a job that is gone."""
        with self._db.read() as s:
            return listing.list_jobs(
                s, terms, limit=limit, after=after, newest_first=newest_first, sort=sort, now=now
            )

    def hosts(self, job_ids: Sequence[int]) -> dict[int, str]:
        """The host of each job's latest attempt, for the jobs that have run."""
        with self._db.read() as s:
            return sorting.hosts(s, list(job_ids))

    def counts(self, tasks: Sequence[str] | None = None) -> dict[str, int]:
        """Jobs per status (of `tasks` only, when given), plus the parts of QUEUED: RUNNABLE,
        BLOCKED, WAITING and LIMITED (`bt.status.QUEUED_PARTS`)."""
        with self._db.read() as s:
            return listing.counts(s, tasks)

    def neighbourhood(self, job_id: int) -> Neighbourhood:
        """A job with its parents, children, superjob and subjobs; `JobNotFound`."""
        with self._db.read() as s:
            return listing.neighbourhood(s, job_id)

    def subtree(self, job_id: int, *, max_children: int = 20) -> TreeNode:
        """The subjob hierarchy below a job, at most `max_children` shown per level."""
        with self._db.read() as s:
            return listing.subtree(s, job_id, max_children=max_children)

    def dag(self, job_id: int) -> Dag:
        """The job with all its ancestors and descendants and their links; `JobNotFound`."""
        with self._db.read() as s:
            return listing.dag(s, job_id)


class TagService:
    """User tags on jobs (the runner writes `bt_*` tags through `WorkService`)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def set(self, job_id: int, name: str, value: str) -> None:
        """Set a user tag (names starting `bt_` are reserved); `InvalidValue`, `JobNotFound`."""
        self._db.write(lambda s: tags.set_tag(s, job_id, name, value))

    def get(self, job_id: int, name: str) -> str:
        """The value of a job's tag; `NotFound` when it has none of that name."""
        with self._db.read() as s:
            return tags.get_tag(s, job_id, name)

    def delete(self, job_id: int, name: str) -> None:
        """Remove a user tag; `NotFound` when the job has none of that name."""
        self._db.write(lambda s: tags.delete_tag(s, job_id, name))

    def list(self, job_id: int) -> list[TagInfo]:
        """Every tag of a job, by name; `JobNotFound`."""
        with self._db.read() as s:
            return tags.list_tags(s, job_id)


class RunnerService:
    """Runner daemons: registration, leases, stop requests, recovery of lost runners' jobs."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def register(
        self, *, host: str, pid: int, slots: int, tasks: Sequence[str], lease: float
    ) -> RunnerInfo:
        """Register a runner holding a lease of `lease` seconds."""
        return self._db.write(
            lambda s: runners.register_runner(
                s, host=host, pid=pid, slots=slots, tasks=tasks, lease=lease
            )
        )

    def heartbeat(self, runner_id: int, lease: float) -> bool:
        """Renew a runner's lease; whether a stop was requested. `TokenMismatch` if it was lost."""
        return self._db.write(lambda s: runners.heartbeat(s, runner_id, lease))

    def beat(self, runner_id: int, lease: float, *, chore_every: float) -> Beat:
        """Renew a runner's lease and, in the same transaction, take the recovery chore if it
        is due (one runner of the cluster per `chore_every` seconds gets it). `TokenMismatch`
        if the runner was lost."""

        return self._db.write(lambda s: runners.beat(s, runner_id, lease, chore_every))

    def unregister(self, runner_id: int) -> None:
        """Forget a runner that stopped cleanly."""
        self._db.write(lambda s: runners.unregister_runner(s, runner_id))

    def request_stop(self, runner_id: int) -> None:
        """Ask a runner to stop claiming and exit when its jobs end; `NotFound` if unknown."""
        self._db.write(lambda s: runners.request_stop(s, runner_id))

    def recover_lost(self) -> list[tuple[int, Status]]:
        """Requeue (or fail, out of attempts) the jobs of runners whose lease expired."""
        return self._db.write(runners.recover_lost)

    def list(self) -> list[LiveRunner]:
        """Every registered runner with the ids of the jobs it is running."""
        with self._db.read() as s:
            return runners.list_runners(s)


class LimitService:
    """Named concurrency limits: at most N units held at once by RUNNING jobs, across runners."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def set(self, name: str, capacity: int) -> LimitInfo:
        """Create limit `name` with `capacity` units, or change its capacity (lowered below the
        units in use: the jobs holding them finish, no new one starts until they fit);
        `InvalidValue` for a bad name or capacity."""
        return self._db.write(lambda s: limits.set_limit(s, name, capacity))

    def get(self, name: str) -> LimitInfo:
        """One limit with its units in use and its running and waiting jobs; `LimitNotFound`."""
        with self._db.read() as s:
            return limits.get_limit(s, name)

    def list(self) -> list[LimitInfo]:
        """Every limit by name: capacity, units in use, jobs running with it and waiting for
        it (QUEUED, runnable but for the limits)."""
        with self._db.read() as s:
            return limits.list_limits(s)

    def remove(self, name: str) -> None:
        """Remove a limit; `LimitNotFound`, or `InvalidOperation` while a job that is not DONE
        needs it."""
        self._db.write(lambda s: limits.remove_limit(s, name))

    def claimable(self, tasks: Sequence[str] | None = None) -> int:
        """How many runnable jobs (of `tasks`) runners could claim now under their limits:
        those without limits, and those with limits that fit the room left, in claim order
        (what pilot sizing asks pilots for; LIMITED work asks for none)."""
        with self._db.read() as s:
            return limits.claimable(s, tasks)


LIMITS_RECHECK = 10.0  #: seconds a claim service trusts that no limit exists before asking again


class ClaimService:
    """What a runner does with jobs: claim them, record their results, fenced by claim tokens."""

    def __init__(self, db: Database, registry: TaskRegistry | None = None) -> None:
        self._db = db
        self._registry = registry
        self._any_limit = False
        self._recheck_at = 0.0  #: monotonic time when `_any_limit` is asked again

    def _limited(self, session: Session) -> bool:
        """Whether claims look for jobs that hold limits: not while no limit exists (no job
        can hold one then, and claims cost what they did before limits), asked again every
        `LIMITS_RECHECK` seconds: jobs of a first limit wait that long at most."""
        now = time.monotonic()
        if now >= self._recheck_at:
            self._any_limit = limits.any_limit(session)
            self._recheck_at = now + LIMITS_RECHECK
        return self._any_limit

    def claim(self, runner_id: int, tasks: Sequence[str]) -> Claim | None:
        """Take the best runnable job of `tasks` (priority, then age), or None."""
        pg = self._db.is_postgresql
        return self._db.write(
            lambda s: claims.claim(s, runner_id, tasks, is_postgresql=pg, limited=self._limited(s))
        )

    def next_retry_in(self, tasks: Sequence[str]) -> float | None:
        """Seconds until the next delayed retry of one of `tasks` is due (0 when overdue), or
        None when none waits: a draining runner waits for these instead of exiting."""
        with self._db.read() as s:
            return claims.next_retry_in(s, tasks)

    def claim_job(self, job_id: int, runner_id: int, *, submit: bool = False) -> Claim:
        """Take exactly `job_id` (submitting it first); `InvalidTransition` if not runnable."""
        return self._db.write(lambda s: claims.claim_job(s, job_id, runner_id, submit_first=submit))

    def finish(
        self,
        claim: Claim,
        result: RunResult,
        tags: Mapping[str, str] | None = None,
        *,
        clear_stale: bool = False,
    ) -> Status:
        """Record a successful phase and its run `tags` in one transaction; `TokenMismatch`
        if the claim was lost, `InvalidValue`/`TaskNotFound` if declared jobs are refused."""
        return self._db.write(
            lambda s: claims.finish(
                s, claim, result, tags, clear_stale=clear_stale, registry=self._registry
            )
        )

    def claim_many(self, runner_id: int, tasks: Sequence[str], count: int) -> list[Claim]:
        """Take up to `count` of the best runnable jobs of `tasks` in one transaction."""
        pg = self._db.is_postgresql
        return self._db.write(
            lambda s: claims.claim_many(
                s, runner_id, tasks, count, is_postgresql=pg, limited=self._limited(s)
            )
        )

    def claim_renewing(
        self, runner_id: int, tasks: Sequence[str], count: int, *, lease: float, chore_every: float
    ) -> tuple[list[Claim], Beat]:
        """`claim_many` and the runner's heartbeat (`RunnerService.beat`) in one transaction:
        an idle runner's look for work renews its lease too, so it costs one transaction, not
        two. `TokenMismatch` (nothing claimed) if the runner was lost."""
        pg = self._db.is_postgresql

        def look(s: Session) -> tuple[list[Claim], Beat]:
            beat = runners.beat(s, runner_id, lease, chore_every)
            taken = claims.claim_many(
                s, runner_id, tasks, count, is_postgresql=pg, limited=self._limited(s)
            )
            return taken, beat

        return self._db.write(look)

    def settle(self, ends: Sequence[RunEnd], refill: Refill | None = None) -> Settled:
        """Record how several runs ended and claim the runner's next jobs, in one transaction:
        each run's new status (None where its claim was lost meanwhile), and the claims."""
        pg = self._db.is_postgresql

        def record(s: Session) -> Settled:
            limited = refill is not None and self._limited(s)
            return claims.settle(
                s, ends, refill, is_postgresql=pg, registry=self._registry, limited=limited
            )

        return self._db.write(record)

    def fail(
        self,
        claim: Claim,
        reason: str,
        traceback: str,
        exit_code: int | None = None,
        *,
        tags: Mapping[str, str] | None = None,
        clear_stale: bool = False,
    ) -> Status:
        """Record a failed run with its reason, traceback, exit code and run `tags`."""
        return self._db.write(
            lambda s: claims.fail(
                s, claim, reason, traceback, exit_code, tags=tags, clear_stale=clear_stale
            )
        )

    def requeue(self, claim: Claim, *, clear_tags: bool = False) -> Status:
        """Give a pre-empted job back to the queue; the interrupted attempt does not count."""
        return self._db.write(lambda s: claims.requeue(s, claim, clear_tags=clear_tags))

    def record_abort_exit(self, claim: Claim, exit_code: int, usage: Usage | None = None) -> bool:
        """The exit code of `claim`'s run, killed because the job was aborted, and what it cost,
        into the run's history row (which `bt_exit_code` shows); False when the job moved on
        since (nothing written)."""
        return self._db.write(lambda s: control.record_abort_exit(s, claim, exit_code, usage))

    def put_tag(self, claim: Claim, name: str, value: str) -> None:
        """A run tag (captured output, a task's tag), fenced by the claim (`TokenMismatch`)."""
        self._db.write(lambda s: claims.put_run_tag(s, claim, name, value))

    def put_tags(self, claim: Claim, tags: Mapping[str, str]) -> None:
        """Several run tags at once, fenced by the claim token (`TokenMismatch`)."""
        self._db.write(lambda s: claims.put_run_tags(s, claim, tags))

    def released(self, held: Sequence[Claim]) -> list[int]:
        """Ids of the claimed jobs no longer held by these claims (aborted meanwhile)."""
        with self._db.read() as s:
            return claims.released(s, held)
