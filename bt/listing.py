"""Reading many jobs: filtered keyset-paginated lists, counts per status, graph neighbourhoods."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache
from typing import Any, TypeAlias

from sqlalchemy import (
    ARRAY,
    CTE,
    ColumnElement,
    ScalarSelect,
    Select,
    String,
    and_,
    any_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.util import ClauseAdapter

from bt import filters, sorting
from bt.errors import JobNotFound
from bt.links import children_of, parents_of
from bt.models import (
    IS_RUNNING_SQL,
    LIMITED_SQL,
    NAME_LENGTH,
    NOT_RUNNING_SQL,
    STATUS_TYPE,
    Dependency,
    Job,
)
from bt.status import Status
from bt.transitions import read_state
from bt.values import Dag, JobInfo, Neighbourhood, Page, TreeNode

AnySelect: TypeAlias = Select[*tuple[Any, ...]]

MAX_PAGE = 10_000
NAME_TYPE = String(NAME_LENGTH)
MAX_ID = 2**31 - 1  #: the largest INTEGER id
MAX_ID_DIGITS = len(str(MAX_ID))

SUMMARY_COLUMNS = (
    Job.id,
    Job.super_id,
    Job.name,
    Job.status,
    Job.priority,
    Job.attempts,
    Job.ts_created,
    Job.ts_queued,
    Job.ts_started,
    Job.ts_ended,
    Job.blocking_parents,
    Job.not_before,
    Job.has_limits,
)


def info_from_row(row: Any, *, limited: bool = False) -> JobInfo:
    return JobInfo(
        row.id,
        row.super_id,
        row.name,
        row.status,
        row.priority,
        row.attempts,
        row.ts_created,
        row.ts_queued,
        row.ts_started,
        row.ts_ended,
        blocked=row.status is Status.QUEUED and row.blocking_parents > 0,
        not_before=row.not_before,
        limited=limited,
    )


def infos_of(session: Session, rows: Iterable[Any]) -> list[JobInfo]:
    """Rows of `SUMMARY_COLUMNS` as `JobInfo`s, those LIMITED marked (one more query, by id,
    only when a row may be: a runnable job that holds limits)."""
    rows = list(rows)
    maybe = [
        r.id for r in rows if r.has_limits and r.status is Status.QUEUED and r.not_before is None
    ]
    limited: set[int] = set()
    if maybe:
        query = select(Job.id).where(Job.id.in_(maybe), text(LIMITED_SQL))
        limited = set(session.scalars(query))
    return [info_from_row(row, limited=row.id in limited) for row in rows]


def job_info(session: Session, job_id: int) -> JobInfo:
    row = session.execute(select(*SUMMARY_COLUMNS).where(Job.id == job_id)).one_or_none()
    if row is None:
        raise JobNotFound(job_id)
    return infos_of(session, [row])[0]


def job_infos(session: Session, ids: Sequence[int]) -> list[JobInfo]:
    rows = session.execute(select(*SUMMARY_COLUMNS).where(Job.id.in_(ids)).order_by(Job.id))
    return infos_of(session, rows)


def list_jobs(
    session: Session,
    terms: Sequence[str] = (),
    *,
    limit: int = 50,
    after: int | None = None,
    newest_first: bool = False,
    sort: str | None = None,
    now: dt.datetime | None = None,
) -> Page:
    """Jobs matching every filter term, by id (keyset pagination: pass `next_after` back), or
    by the field `sort` (`bt.sorting`; `elapsed` runs to `now`), reversed with `newest_first`.

    A filter on the task name looks among the next few jobs, then reads only the (name, status)
    ranges of `ix_job_name_status_id` it allows, each in id order, and merges their first rows:
    a page costs a few index seeks however many jobs of other tasks or statuses come first.
    """
    limit = max(1, min(limit, MAX_PAGE))
    parsed = filters.parse(terms)
    if sort is not None and sort != "id":
        at = now or dt.datetime.now(dt.UTC)
        rows = sorted_matches(
            session, parsed, sort, limit + 1, after=after, reverse=newest_first, now=at
        )
    else:
        rows = first_matches(session, parsed, limit + 1, after, newest_first)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1].id if more and rows else None)


#: a listing by task name first looks among this many times as many jobs as it wants, next
#: in id order, up to `NEAR_ROWS`, before it reads index ranges
NEAR_FACTOR = 5
NEAR_ROWS = 1000


def first_matches(
    session: Session, parsed: Sequence[filters.Term], count: int, after: int | None, newest: bool
) -> list[JobInfo]:
    """The first `count` jobs matching the filter after `after`. A filter by task name looks
    among the next few jobs first (when they hold `count`, no job further away comes before
    them), then reads its (name, status) index ranges."""
    if by_name(parsed):
        if (window := NEAR_FACTOR * count) <= NEAR_ROWS:
            near = nearby(texts(parsed), newest, after is not None)
            rows = _infos(session, near, {"after": after, "count": count, "window": window})
            if len(rows) == count:
                return rows
        ranged = by_ranges(session, parsed, count, after, newest)
        if ranged is not None:
            query, params = ranged
            return [] if query is None else _infos(session, query, params)
    return _infos(session, by_id(parsed, count, after, newest))


def sorted_matches(
    session: Session,
    parsed: Sequence[filters.Term],
    field: str,
    count: int,
    *,
    after: int | None,
    reverse: bool,
    now: dt.datetime,
) -> list[JobInfo]:
    """The first `count` jobs matching the filter in `field` order after job `after`: by name,
    task after task from their index ranges where the filter allows it; otherwise in one query
    the database sorts (`bt.sorting`)."""
    if field == "name":
        rows = by_tasks(session, parsed, count, after, reverse)
        if rows is not None:
            return rows
    query = select(*SUMMARY_COLUMNS).where(filters.all_of(parsed))
    ordered = sorting.ordered(
        session, query, field, limit=count, after=after, reverse=reverse, now=now
    )
    return _infos(session, ordered)


def by_tasks(
    session: Session, parsed: Sequence[filters.Term], count: int, after: int | None, reverse: bool
) -> list[JobInfo] | None:
    """A sort by name as the jobs of one task after another, the tasks in the database's order,
    each task's jobs in id order from its (name, status) index ranges; None when the filter
    allows no ranges (a pseudo-status, too many names) or job `after` is not among its tasks."""
    statuses = filters.allowed_statuses(parsed)
    names = matching_names(session, parsed)
    if statuses is None or names is None or len(statuses) > MAX_RANGES:
        return None
    names = names[::-1] if reverse else names
    if after is not None:
        name = session.scalar(select(Job.name).where(Job.id == after))
        if name is None:
            raise JobNotFound(after)
        if name not in names:
            return None
        names = names[names.index(name) :]
    pg = session.get_bind().dialect.name == "postgresql"
    rest = [t for t in parsed if t.field not in ("name", "status") and not filters.bounds_ids(t)]
    query = ranges(len(statuses), reverse, pg, texts(rest))
    rows: list[JobInfo] = []
    for i, name in enumerate(names):
        low, high = 0, MAX_ID
        if i == 0 and after is not None:
            low, high = (low, after - 1) if reverse else (after, high)
        low, high = filters.id_range(parsed, low, high)
        if low >= high or not statuses:
            continue
        params: dict[str, Any] = {"limit": count - len(rows), "low": low, "high": high}
        for j, status in enumerate(statuses):
            params.update({f"name_{j}": [name] if pg else name, f"status_{j}": status})
        rows += _infos(session, query, params)
        if len(rows) >= count:
            break
    return rows


def _infos(
    session: Session, query: AnySelect, params: dict[str, Any] | None = None
) -> list[JobInfo]:
    return infos_of(session, session.execute(query, params))


def by_name(parsed: Sequence[filters.Term]) -> bool:
    """Whether index ranges can serve the filter: it names tasks, and statuses only by = or !=."""
    return bool(filters.name_terms(parsed)) and filters.allowed_statuses(parsed) is not None


def texts(parsed: Iterable[filters.Term]) -> tuple[str, ...]:
    """Parsed terms as text again: the key of the statements built once per filter."""
    return tuple(f"{term.field}{term.op}{term.value}" for term in parsed)


@lru_cache(maxsize=256)
def nearby(terms: tuple[str, ...], newest: bool, paged: bool) -> AnySelect:
    """The first `:count` matches of `terms` among the next `:window` jobs in id order (after
    `:after` when `paged`)."""
    after: Any = bindparam("after") if paged else None
    near = keyset(select(*SUMMARY_COLUMNS), after, newest, bindparam("window")).subquery("near")
    condition = ClauseAdapter(near).traverse(filters.condition(terms))
    order = near.c.id.desc() if newest else near.c.id
    return select(near).where(condition).order_by(order).limit(bindparam("count"))


def by_id(parsed: Sequence[filters.Term], limit: int, after: int | None, newest: bool) -> AnySelect:
    """The page as one scan in id order (or whatever plan the database picks for the filter)."""
    return keyset(select(*SUMMARY_COLUMNS).where(filters.all_of(parsed)), after, newest, limit)


def keyset(query: AnySelect, after: Any, newest_first: bool, limit: Any) -> AnySelect:
    """`query`'s first `limit` rows by id after the id `after` (values or bound parameters)."""
    if after is not None:
        query = query.where(Job.id < after if newest_first else Job.id > after)
    return query.order_by(Job.id.desc() if newest_first else Job.id).limit(limit)


#: distinct task names a skip scan reads before giving up (the listing then scans by id)
MAX_NAMES = 100
#: (name, status) index ranges one listing merges at most
MAX_RANGES = 60


def by_ranges(
    session: Session, parsed: Sequence[filters.Term], limit: int, after: int | None, newest: bool
) -> tuple[AnySelect | None, dict[str, Any]] | None:
    """The page as the first rows of one index range per allowed (name, status), merged, and
    its parameters (no query when the filter allows no name or status); None when the filter
    has no name term, a pseudo-status or too many ranges."""
    statuses = filters.allowed_statuses(parsed)
    if not by_name(parsed) or statuses is None:
        return None
    names = matching_names(session, parsed)
    if names is None or len(names) * len(statuses) > MAX_RANGES:
        return None
    if not names or not statuses:
        return None, {}
    low = after if after is not None and not newest else 0
    high = after - 1 if after is not None and newest else MAX_ID
    low, high = filters.id_range(parsed, low, high)
    if low >= high:
        return None, {}
    pg = session.get_bind().dialect.name == "postgresql"
    pairs = [([name] if pg else name, status) for name in names for status in statuses]
    params: dict[str, Any] = {"limit": limit, "low": low, "high": high}
    for i, (name, status) in enumerate(pairs):
        params.update({f"name_{i}": name, f"status_{i}": status})
    rest = [t for t in parsed if t.field not in ("name", "status") and not filters.bounds_ids(t)]
    return ranges(len(pairs), newest, pg, texts(rest)), params


@lru_cache(maxsize=256)
def ranges(count: int, newest: bool, pg: bool, rest: tuple[str, ...]) -> AnySelect:
    """The merge of `count` ranges of jobs meeting the terms `rest`, the first `:limit` by id;
    range `i` holds the ids in `:low` < id <= `:high` of task `:name_i` in status `:status_i`."""
    condition = filters.condition(rest)
    members = (_member(_range(i, newest, pg, condition)) for i in range(count))
    merged = union_all(*members).subquery()
    order = merged.c.id.desc() if newest else merged.c.id
    return select(merged).order_by(order).limit(bindparam("limit"))


def _range(i: int, newest: bool, pg: bool, rest: ColumnElement[bool]) -> AnySelect:
    """Range `i` in (name, status, id) order. On PostgreSQL the name is `= ANY(:name_i)`, an
    array of one: with `name = :name_i` the order would reduce to the id's, which the primary
    key gives too, and the planner may take that and filter, reading half the table when the
    jobs it wants are all at the other end."""
    name = bindparam(f"name_{i}", type_=ARRAY(NAME_TYPE) if pg else NAME_TYPE)
    status = bindparam(f"status_{i}", type_=STATUS_TYPE)
    ids = Job.id > bindparam("low"), Job.id <= bindparam("high")
    where = (Job.name == (any_(name) if pg else name), Job.status == status, *ids, rest)
    key = (Job.name, Job.status, Job.id)
    order = [column.desc() for column in key] if newest else key
    return select(*SUMMARY_COLUMNS).where(*where).order_by(*order).limit(bindparam("limit"))


def _member(query: AnySelect) -> AnySelect:
    """A limited, ordered SELECT as a member of a UNION ALL (SQLite wants it in a subquery)."""
    return select(query.subquery())


def matching_names(session: Session, parsed: Sequence[filters.Term]) -> list[str] | None:
    """The task names the name terms allow (all without any), in the database's order: read
    by a skip scan unless one exact name is given; None when there are more than `MAX_NAMES`
    names in all."""
    terms = filters.name_terms(parsed)
    exact = filters.exact_names(parsed) if terms else None
    if exact is not None:
        return exact
    seen = distinct_names(MAX_NAMES + 1)
    match = and_(true(), *(filters.name_condition(term, seen.c.name) for term in terms))
    query = select(seen.c.name, match).where(seen.c.name.is_not(None)).order_by(seen.c.n)
    rows = session.execute(query).all()
    if len(rows) > MAX_NAMES:
        return None
    return [name for name, matches in rows if matches]


@cache
def distinct_names(count: int) -> CTE:
    """The first `count` distinct task names (then one NULL), one index seek each: a skip scan
    of the name index as a recursive CTE, since neither database skips by itself."""
    first: AnySelect = select(_name_after(None).label("name"), literal_column("1").label("n"))
    seen = first.cte("names", recursive=True)
    step = select(_name_after(seen.c.name), seen.c.n + 1)
    return seen.union_all(step.where(seen.c.name.is_not(None), seen.c.n < count))


def _name_after(name: Any) -> ScalarSelect[str]:
    if name is None:
        return select(func.min(Job.name)).scalar_subquery()
    return select(Job.name).where(Job.name > name).order_by(Job.name).limit(1).scalar_subquery()


def suggest_ids(session: Session, prefix: str, *, limit: int = 40) -> list[JobInfo]:
    """Jobs whose id starts with the digits `prefix`, newest first (all jobs for ""), for TAB
    completion: the prefix becomes id ranges (1, 10-19, 100-199, ...), so only index ranges are
    read.
    """
    if prefix and not prefix.isdigit():
        return []
    query = select(*SUMMARY_COLUMNS)
    if prefix:
        start, ranges = int(prefix), []
        for k in range(MAX_ID_DIGITS - len(prefix) + 1):
            low, high = start * 10**k, min((start + 1) * 10**k - 1, MAX_ID)
            if low > MAX_ID:
                break
            ranges.append(Job.id.between(low, high))
        query = query.where(or_(*ranges))
    rows = session.execute(query.order_by(Job.id.desc()).limit(max(1, min(limit, MAX_PAGE))))
    return [info_from_row(row) for row in rows]


def counts(session: Session, tasks: Sequence[str] | None = None) -> dict[str, int]:
    """Jobs per status (every status present, zeros included) plus the parts of QUEUED:
    RUNNABLE, BLOCKED and WAITING."""
    scope = Job.name.in_(tasks) if tasks is not None else true()
    # RUNNING jobs apart: on PostgreSQL only `ix_job_runner_id` holds them
    by_status = union_all(
        *(
            select(Job.status, func.count()).where(text(part), scope).group_by(Job.status)
            for part in (NOT_RUNNING_SQL, IS_RUNNING_SQL)
        )
    )
    pseudo = {
        name: select(func.count()).select_from(Job).where(text(sql), scope)
        for name, sql in filters.PSEUDO_STATUSES.items()
    }
    result = {status.value: 0 for status in Status}
    result.update({status.value: n for status, n in session.execute(by_status)})
    result.update({name: session.scalar(query) or 0 for name, query in pseudo.items()})
    return result


def neighbourhood(session: Session, job_id: int, *, max_subjobs: int = 1000) -> Neighbourhood:
    job = job_info(session, job_id)
    subjobs = list_subjobs(session, job_id, limit=max_subjobs + 1)
    total = read_total(session, job_id)
    return Neighbourhood(
        job,
        job_infos(session, parents_of(session, job_id)),
        job_infos(session, children_of(session, job_id)),
        job_info(session, job.super_id) if job.super_id else None,
        subjobs[:max_subjobs],
        max(0, total - max_subjobs),
    )


def read_total(session: Session, job_id: int) -> int:
    return session.scalar(select(Job.sub_total).where(Job.id == job_id)) or 0


def list_subjobs(session: Session, job_id: int, *, limit: int = 1000) -> list[JobInfo]:
    query = select(*SUMMARY_COLUMNS).where(Job.super_id == job_id).order_by(Job.id).limit(limit)
    return infos_of(session, session.execute(query))


def subtree(session: Session, job_id: int, *, max_children: int = 20, depth: int = 8) -> TreeNode:
    """The hierarchy below a job: each level shows at most `max_children` subjobs (failed and
    running ones first) and counts the rest by status, so a superjob of 100k subjobs stays cheap."""
    read_state(session, job_id, lock=False)
    return _node(session, job_info(session, job_id), max_children, depth)


def _node(session: Session, job: JobInfo, max_children: int, depth: int) -> TreeNode:
    query = select(Job.status, func.count()).where(Job.super_id == job.id).group_by(Job.status)
    counts: dict[Status, int] = {status: n for status, n in session.execute(query)}
    shown_counts = {status.value: n for status, n in counts.items()}
    if not counts or depth == 0:
        return TreeNode(job, shown_counts, [], sum(counts.values()))
    urgency = {Status.FAILED: 0, Status.RUNNING: 1, Status.STAND_BY: 2}
    rows = session.execute(
        select(*SUMMARY_COLUMNS)
        .where(Job.super_id == job.id)
        .order_by(Job.id)
        .limit(max_children * 4)
    )
    picked = sorted(infos_of(session, rows), key=lambda j: (urgency.get(j.status, 9), j.id))
    picked = sorted(picked[:max_children], key=lambda j: j.id)
    nodes = [_node(session, sub, max_children, depth - 1) for sub in picked]
    return TreeNode(job, shown_counts, nodes, sum(counts.values()) - len(nodes))


def dag(session: Session, job_id: int, *, limit: int = 5000) -> Dag:
    """The job with every ancestor and descendant among its siblings, and their edges."""
    read_state(session, job_id, lock=False)
    ids = _walk(session, job_id, up=True, limit=limit) | _walk(
        session, job_id, up=False, limit=limit
    )
    ids.add(job_id)
    query = select(Dependency.parent_id, Dependency.child_id).where(
        Dependency.parent_id.in_(ids), Dependency.child_id.in_(ids)
    )
    edges = [(parent, child) for parent, child in session.execute(query)]
    return Dag(job_infos(session, sorted(ids)), sorted(edges))


def _walk(session: Session, start: int, *, up: bool, limit: int) -> set[int]:
    near, far = (
        (Dependency.child_id, Dependency.parent_id)
        if up
        else (Dependency.parent_id, Dependency.child_id)
    )
    walk = select(far.label("id")).where(near == start).cte("walk", recursive=True)
    walk = walk.union(select(far).join(walk, near == walk.c.id))
    return set(session.scalars(select(walk.c.id).limit(limit)))
