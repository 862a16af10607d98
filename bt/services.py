"""The services front ends call: each method is one short transaction over `bt.db.Database`.

They take and return plain values (`bt.views`), never ORM objects, so the shell, the runner and
scripts share the same rules and none of them builds SQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bt import bulk, control, jobs, links, listing, tags, views, work
from bt.db import Database
from bt.jobs import EditField, JobSpec
from bt.registry import TaskRegistry
from bt.status import Status


class JobService:
    """Create, change and read jobs."""

    def __init__(self, db: Database, registry: TaskRegistry | None = None) -> None:
        self._db = db
        self._registry = registry

    def create(self, spec: JobSpec, *, submit: bool = False) -> views.JobInfo:
        return self._db.write(
            lambda s: views.job_info(s, jobs.create(s, spec, self._registry, submit_now=submit))
        )

    def create_graph(
        self,
        nodes: Sequence[bulk.NodeSpec],
        edges: Sequence[tuple[bulk.Key, bulk.Key]] = (),
        existing_parents: Sequence[tuple[int, bulk.Key]] = (),
    ) -> dict[bulk.Key, int]:
        """Create many jobs and their links at once, all or nothing."""
        return self._db.write(
            lambda s: bulk.create_graph(
                s, nodes, edges, registry=self._registry, existing_parents=existing_parents
            )
        )

    def clone(self, job_id: int) -> views.JobInfo:
        return self._db.write(lambda s: views.job_info(s, jobs.clone(s, job_id)))

    def edit(
        self, job_id: int, field: EditField, text: str | None, *, expected: object = ...
    ) -> bool:
        return self._db.write(
            lambda s: jobs.edit(s, job_id, field, text, expected=expected, registry=self._registry)
        )

    def set_priority(self, job_id: int, priority: int) -> None:
        self._db.write(lambda s: jobs.set_priority(s, job_id, priority))

    def submit(self, job_id: int) -> Status:
        return self._db.write(lambda s: control.submit(s, job_id))

    def reset(self, job_id: int) -> Status:
        return self._db.write(lambda s: control.reset(s, job_id))

    def abort(self, job_id: int) -> Status:
        return self._db.write(lambda s: control.abort(s, job_id))

    def remove(self, job_id: int) -> int:
        return self._db.write(lambda s: jobs.remove(s, job_id))

    def link(self, parent_id: int, child_id: int) -> None:
        self._db.write(lambda s: links.link(s, parent_id, child_id))

    def unlink(self, parent_id: int, child_id: int) -> None:
        self._db.write(lambda s: links.unlink(s, parent_id, child_id))

    def get(self, job_id: int) -> views.JobDetails:
        with self._db.read() as s:
            return jobs.details(s, job_id)

    def info(self, job_id: int) -> views.JobInfo:
        with self._db.read() as s:
            return views.job_info(s, job_id)

    def suggest_ids(self, prefix: str, *, limit: int = 40) -> list[views.JobInfo]:
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
    ) -> listing.Page:
        with self._db.read() as s:
            return listing.list_jobs(s, terms, limit=limit, after=after, newest_first=newest_first)

    def counts(self, tasks: Sequence[str] | None = None) -> dict[str, int]:
        with self._db.read() as s:
            return listing.counts(s, tasks)

    def neighbourhood(self, job_id: int) -> listing.Neighbourhood:
        with self._db.read() as s:
            return listing.neighbourhood(s, job_id)

    def subtree(self, job_id: int, *, max_children: int = 20) -> listing.TreeNode:
        with self._db.read() as s:
            return listing.subtree(s, job_id, max_children=max_children)

    def dag(self, job_id: int) -> listing.Dag:
        with self._db.read() as s:
            return listing.dag(s, job_id)


class TagService:
    """User tags on jobs (the runner writes `bt_*` tags through `WorkService`)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def set(self, job_id: int, name: str, value: str) -> None:
        self._db.write(lambda s: tags.set_tag(s, job_id, name, value))

    def get(self, job_id: int, name: str) -> str:
        with self._db.read() as s:
            return tags.get_tag(s, job_id, name)

    def delete(self, job_id: int, name: str) -> None:
        self._db.write(lambda s: tags.delete_tag(s, job_id, name))

    def list(self, job_id: int) -> list[views.TagInfo]:
        with self._db.read() as s:
            return tags.list_tags(s, job_id)


class WorkService:
    """What runners do: register, renew leases, claim, record results, recover lost runs."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def register(
        self, *, host: str, pid: int, slots: int, tasks: Sequence[str], lease: float
    ) -> work.RunnerInfo:
        return self._db.write(
            lambda s: work.register_runner(
                s, host=host, pid=pid, slots=slots, tasks=tasks, lease=lease
            )
        )

    def heartbeat(self, runner_id: int, lease: float) -> bool:
        return self._db.write(lambda s: work.heartbeat(s, runner_id, lease))

    def unregister(self, runner_id: int) -> None:
        self._db.write(lambda s: work.unregister_runner(s, runner_id))

    def runners(self) -> list[work.LiveRunner]:
        with self._db.read() as s:
            return work.list_runners(s)

    def request_stop(self, runner_id: int) -> None:
        self._db.write(lambda s: work.request_stop(s, runner_id))

    def claim(self, runner_id: int, tasks: Sequence[str]) -> work.Claim | None:
        pg = self._db.is_postgresql
        return self._db.write(lambda s: work.claim(s, runner_id, tasks, is_postgresql=pg))

    def claim_job(self, job_id: int, runner_id: int, *, submit: bool = False) -> work.Claim:
        return self._db.write(lambda s: work.claim_job(s, job_id, runner_id, submit_first=submit))

    def finish(
        self,
        claim: work.Claim,
        result: work.RunResult,
        tags: Mapping[str, str] | None = None,
        *,
        clear_stale: bool = False,
    ) -> Status:
        """Record a successful phase and its run `tags` in one transaction."""
        return self._db.write(
            lambda s: work.finish(s, claim, result, tags, clear_stale=clear_stale)
        )

    def finish_and_claim(
        self,
        done: work.Claim,
        result: work.RunResult,
        tags: Mapping[str, str] | None,
        *,
        clear_stale: bool,
        runner_id: int,
        tasks: Sequence[str],
    ) -> tuple[Status, work.Claim | None]:
        """Record a successful phase and claim the runner's next job, in one transaction."""
        pg = self._db.is_postgresql
        return self._db.write(
            lambda s: work.finish_and_claim(
                s,
                done,
                result,
                tags,
                clear_stale=clear_stale,
                runner_id=runner_id,
                tasks=tasks,
                is_postgresql=pg,
            )
        )

    def fail(
        self,
        claim: work.Claim,
        reason: str,
        traceback: str,
        exit_code: int | None = None,
        *,
        tags: Mapping[str, str] | None = None,
        clear_stale: bool = False,
    ) -> Status:
        """Record a failed run with its reason, traceback, exit code and run `tags`."""
        return self._db.write(
            lambda s: work.fail(
                s, claim, reason, traceback, exit_code, tags=tags, clear_stale=clear_stale
            )
        )

    def requeue(self, claim: work.Claim, *, clear_tags: bool = False) -> Status:
        return self._db.write(lambda s: work.requeue(s, claim, clear_tags=clear_tags))

    def put_tag(self, claim: work.Claim, name: str, value: str) -> None:
        self._db.write(lambda s: work.put_run_tag(s, claim, name, value))

    def put_tags(self, claim: work.Claim, tags: Mapping[str, str]) -> None:
        """Several run tags at once, fenced by the claim token (`TokenMismatch`)."""
        self._db.write(lambda s: work.put_run_tags(s, claim, tags))

    def released(self, claims: Sequence[work.Claim]) -> list[int]:
        """Ids of the claimed jobs no longer held by these claims (aborted meanwhile)."""
        with self._db.read() as s:
            return work.released(s, claims)

    def recover_lost(self) -> list[tuple[int, Status]]:
        return self._db.write(work.recover_lost)
