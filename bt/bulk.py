"""Creating a whole graph of jobs and links in one transaction: the one way jobs are created.

`create_graph` serves the shell's `job create` (a graph of one), `job clone`, scripted pipelines
and the subjobs and children task code declares at run time, so every new job passes the same
checks (`bt.specs`) and is inserted by the same code (`bt.transitions.insert_jobs`).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Sequence

from sqlalchemy.orm import Session

from bt import errors, limits
from bt.registry import TaskRegistry
from bt.specs import check_spec
from bt.transitions import NewRow, insert_jobs
from bt.values import Key, NodeSpec


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
    rows = check_graph(nodes, links, existing_parents, registry)
    return insert_graph(
        session, nodes, rows, links, super_id=super_id, existing_parents=existing_parents
    )


def insert_graph(
    session: Session,
    nodes: Sequence[NodeSpec],
    rows: Sequence[NewRow],
    links: Sequence[tuple[Key, Key]],
    *,
    super_id: int | None,
    existing_parents: Sequence[tuple[int, Key]] = (),
) -> dict[Key, int]:
    """Insert a graph checked by `check_graph` (`rows` are its result for `nodes`); the limits
    its jobs hold must exist (`LimitNotFound`)."""
    limits.require(session, limit_names(rows))
    index = {node.key: i for i, node in enumerate(nodes)}
    ids = insert_jobs(
        session,
        rows,
        super_id=super_id,
        links=[(index[p], index[c]) for p, c in links],
        existing_parents=[(parent, index[c]) for parent, c in existing_parents],
    )
    return dict(zip(index, ids, strict=True))


def limit_names(rows: Sequence[NewRow]) -> set[str]:
    """The limits the jobs of `rows` hold while they run."""
    return {name for row in rows for name in row.spec.limits or {}}


def check_graph(
    nodes: Sequence[NodeSpec],
    links: Sequence[tuple[Key, Key]],
    existing_parents: Sequence[tuple[int, Key]],
    registry: TaskRegistry | None,
) -> list[NewRow]:
    """Everything about a graph that can be checked without the database; the rows to insert."""
    keys = [node.key for node in nodes]
    if len(set(keys)) != len(keys):
        raise errors.InvalidValue("Every job of a graph needs its own key.")
    _check_known(keys, links)
    for parent, child in existing_parents:
        if child not in set(keys):
            raise errors.InvalidValue(f"Link {parent} → {child!r} names a job not in the graph.")
    _check_acyclic(keys, links)
    rows = []
    for node in nodes:
        spec = check_spec(node.spec, registry)
        rows.append(NewRow(spec, node.submit))
    return rows


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
