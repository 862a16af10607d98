"""Creating a whole graph of jobs and links in one transaction (scripted pipelines, subjobs)."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bt import errors
from bt.jobs import check_spec, max_attempts_of
from bt.lifecycle import WORK_CHANNEL, adjust_superjob, notify_later
from bt.models import Dependency, Job
from bt.registry import TaskRegistry
from bt.sqltypes import db_now
from bt.status import Status, SubjobCounts
from bt.values import JobSpec, Key, NodeSpec


def create_graph(
    session: Session,
    nodes: Sequence[NodeSpec],
    links: Sequence[tuple[Key, Key]] = (),
    *,
    registry: TaskRegistry | None = None,
    super_id: int | None = None,
    existing_parents: Sequence[tuple[int, Key]] = (),
) -> dict[Key, int]:
    """Insert `nodes` (as subjobs of `super_id`, or top-level) with `links` between them and
    with `existing_parents` (existing job id → new key); returns each key's new job id.

    Refuses duplicate keys, unknown keys, cycles and non-sibling parents, changing nothing.
    """
    keys = [node.key for node in nodes]
    if len(set(keys)) != len(keys):
        raise errors.InvalidValue("Every job of a graph needs its own key.")
    _check_known(keys, links)
    _check_acyclic(keys, links)
    specs = [check_spec(node.spec, registry) for node in nodes]
    pending = _pending_parents(session, keys, links, existing_parents, super_id or 0)
    ids = _insert_jobs(session, nodes, specs, pending, super_id=super_id, registry=registry)
    new_ids = dict(zip(keys, ids, strict=True))
    edges = [(new_ids[p], new_ids[c]) for p, c in links] + [
        (parent, new_ids[c]) for parent, c in existing_parents
    ]
    if edges:
        session.execute(
            insert(Dependency),
            [{"parent_id": p, "child_id": c, "scope": super_id or 0} for p, c in edges],
        )
    if super_id is not None:
        adjust_superjob(session, super_id, SubjobCounts(total=len(nodes)))
    if any(node.submit and pending[node.key] == 0 for node in nodes):
        notify_later(session, WORK_CHANNEL, "")
    return new_ids


def _insert_jobs(
    session: Session,
    nodes: Sequence[NodeSpec],
    specs: Sequence[JobSpec],
    pending: dict[Key, int],
    *,
    super_id: int | None,
    registry: TaskRegistry | None,
) -> list[int]:
    rows: list[dict[str, Any]] = [
        {
            "name": spec.task,
            "config": spec.config,
            "input": spec.input,
            "description": spec.description,
            "priority": spec.priority,
            "status": Status.QUEUED if node.submit else Status.STASHED,
            "super_id": super_id,
            "scope": super_id or 0,
            "pending_parents": pending[node.key],
            "max_attempts": max_attempts_of(registry, spec.task),
        }
        for node, spec in zip(nodes, specs, strict=True)
    ]
    for submitted in (True, False):
        batch = [(i, row) for i, row in enumerate(rows) if nodes[i].submit is submitted]
        if not batch:
            continue
        stmt = insert(Job).returning(Job.id, sort_by_parameter_order=True)
        if submitted:
            stmt = stmt.values(ts_queued=db_now())
        new = session.scalars(stmt, [row for _, row in batch]).all()
        for (index, _), job_id in zip(batch, new, strict=True):
            rows[index]["id"] = job_id
    return [row["id"] for row in rows]


def _pending_parents(
    session: Session,
    keys: Sequence[Key],
    links: Sequence[tuple[Key, Key]],
    existing: Sequence[tuple[int, Key]],
    scope: int,
) -> dict[Key, int]:
    known = set(keys)
    pending: dict[Key, int] = dict.fromkeys(keys, 0)
    for _, child in links:
        pending[child] += 1
    if existing:
        parent_ids = {parent for parent, _ in existing}
        rows = session.execute(
            select(Job.id, Job.status, Job.scope).where(Job.id.in_(parent_ids))
        ).all()
        found = {row.id: row for row in rows}
        for parent, child in existing:
            row = found.get(parent)
            if row is None:
                raise errors.JobNotFound(parent)
            if row.scope != scope:
                raise errors.DependencyError(f"Job {parent} is not a sibling of the new jobs.")
            if child not in known:
                raise errors.InvalidValue(
                    f"Link {parent} → {child!r} names a job not in the graph."
                )
            pending[child] += row.status is not Status.DONE
    return pending


def _check_known(keys: Sequence[Key], links: Sequence[tuple[Key, Key]]) -> None:
    known = set(keys)
    for parent, child in links:
        if parent not in known or child not in known:
            raise errors.InvalidValue(f"Link {parent!r} → {child!r} names a job not in the graph.")


def _check_acyclic(keys: Sequence[Key], links: Sequence[tuple[Key, Key]]) -> None:
    """Kahn's algorithm: every node must be reachable in a topological order."""
    children: dict[Key, list[Key]] = defaultdict(list)
    indegree: dict[Key, int] = dict.fromkeys(keys, 0)
    for parent, child in links:
        if parent == child:
            raise errors.DependencyError(f"Job {parent!r} cannot depend on itself.")
        children[parent].append(child)
        if child in indegree:
            indegree[child] += 1
    ready = deque(key for key, degree in indegree.items() if degree == 0)
    seen = 0
    while ready:
        key = ready.popleft()
        seen += 1
        for child in children[key]:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    if seen != len(keys):
        stuck = sorted(map(str, (k for k, d in indegree.items() if d > 0)))[:5]
        raise errors.DependencyError(f"The links make a cycle through {', '.join(stuck)}.")
