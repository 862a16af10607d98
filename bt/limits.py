"""Named concurrency limits: "at most N units of this at once, across every runner".

A limit is a row with a capacity and the units RUNNING jobs hold of it (`in_use`). A job names
the units it holds of each limit (its task's `limits`, or `job create --limit NAME[:UNITS]`);
its claim takes them all or none, and the transition that takes it out of RUNNING gives them
back (`bt.transitions`: that is the only code that changes `in_use`). Here (names and units in
`bt.limitnames`): setting, listing and removing limits, and the checks that keep a typo from
meaning "unlimited": a job naming a limit that does not exist is refused when it is created,
and a limit is not removed while a job that is not DONE still needs it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bt import errors, notify
from bt.limitnames import MAX_CAPACITY, check_name
from bt.models import JOB, JOB_LIMIT, LIMIT, RUNNABLE_SQL
from bt.status import Status
from bt.transitions import limits_of
from bt.values import LimitInfo

SHOWN_JOBS = 5  #: jobs named when a limit cannot be removed


def require(session: Session, names: Iterable[str]) -> None:
    """Every limit of `names` exists, and stays so until the transaction ends (PostgreSQL: a
    share lock that `remove` waits for); `LimitNotFound` naming the first that does not."""
    wanted = sorted(set(names))
    if not wanted:
        return
    query = select(LIMIT.c.name).where(LIMIT.c.name.in_(wanted)).with_for_update(read=True)
    found = set(session.scalars(query))
    for name in wanted:
        if name not in found:
            raise errors.LimitNotFound(name, _known(session))


def _known(session: Session) -> list[str]:
    return list(session.scalars(select(LIMIT.c.name).order_by(LIMIT.c.name).limit(20)))


def set_limit(session: Session, name: str, capacity: int) -> LimitInfo:
    """Create limit `name` or change its capacity. A capacity below the units in use lets the
    jobs holding them finish and admits no new one until the units fit."""
    check_name(name)
    if isinstance(capacity, bool) or not 0 <= capacity <= MAX_CAPACITY:
        raise errors.InvalidValue(
            f"A limit's capacity is a whole number from 0 to {MAX_CAPACITY:,}: {capacity!r}."
        )
    pg = session.get_bind().dialect.name == "postgresql"
    stmt = (pg_insert if pg else sqlite_insert)(LIMIT).values(name=name, capacity=capacity)
    session.execute(
        stmt.on_conflict_do_update(index_elements=["name"], set_={"capacity": capacity})
    )
    notify.notify_work(session)  # more room: waiting jobs may run now
    return get_limit(session, name)


def get_limit(session: Session, name: str) -> LimitInfo:
    """One limit with its counts; `LimitNotFound`."""
    found = list_limits(session, [name])
    if not found:
        raise errors.LimitNotFound(name, _known(session))
    return found[0]


def list_limits(session: Session, names: Sequence[str] | None = None) -> list[LimitInfo]:
    """Every limit (or those of `names`) by name, with the units in use, the jobs RUNNING with
    it and the jobs waiting for it (QUEUED, runnable but for the limits)."""
    query = select(LIMIT.c.name, LIMIT.c.capacity, LIMIT.c.in_use).order_by(LIMIT.c.name)
    if names is not None:
        query = query.where(LIMIT.c.name.in_(list(names)))
    rows = session.execute(query).all()
    if not rows:
        return []
    running = _jobs_per_limit(session, JOB.c.status == Status.RUNNING)
    waiting = _jobs_per_limit(session, JOB.c.has_limits.is_(True), RUNNABLE_SQL)
    return [
        LimitInfo(row.name, row.capacity, row.in_use, running[row.name], waiting[row.name])
        for row in rows
    ]


def _jobs_per_limit(session: Session, *conditions: object) -> Counter[str]:
    where = [text(c) if isinstance(c, str) else c for c in conditions]
    query = (
        select(JOB_LIMIT.c.name, func.count())
        .join(JOB, JOB.c.id == JOB_LIMIT.c.job_id)
        .where(JOB.c.has_limits.is_(True), *where)  # type: ignore[arg-type]
        .group_by(JOB_LIMIT.c.name)
    )
    return Counter({name: count for name, count in session.execute(query)})


def remove_limit(session: Session, name: str) -> None:
    """Remove limit `name`: `LimitNotFound`, or `InvalidOperation` while a job that is not
    DONE needs it (it could not run: a name is never taken for unlimited)."""
    check_name(name)
    lock = select(LIMIT.c.name).where(LIMIT.c.name == name).with_for_update()
    if session.scalar(lock) is None:
        raise errors.LimitNotFound(name, _known(session))
    needing = (
        select(JOB_LIMIT.c.job_id)
        .join(JOB, JOB.c.id == JOB_LIMIT.c.job_id)
        .where(JOB_LIMIT.c.name == name, JOB.c.status != Status.DONE)
        .order_by(JOB_LIMIT.c.job_id)
    )
    count = session.scalar(select(func.count()).select_from(needing.subquery())) or 0
    if count:
        shown = list(session.scalars(needing.limit(SHOWN_JOBS)))
        listed = ", ".join(map(str, shown)) + (" …" if count > len(shown) else "")
        raise errors.InvalidOperation(
            f"Limit {name!r} is still needed by {count} job(s) not DONE ({listed}); remove "
            f"or finish them first."
        )
    session.execute(delete(LIMIT).where(LIMIT.c.name == name))


def job_limits(session: Session, job_id: int) -> dict[str, int]:
    """The units job `job_id` holds of each limit while it runs."""
    return limits_of(session, [job_id]).get(job_id, {})


def any_limit(session: Session) -> bool:
    """Whether any limit exists (if none does, no job holds one)."""
    return session.scalar(select(select(LIMIT.c.name).limit(1).exists())) is True


def claimable(session: Session, tasks: Sequence[str] | None = None, *, scan: int = 10_000) -> int:
    """How many runnable jobs (of `tasks`, when given) runners could claim now under their
    limits: every runnable job that holds none, and of those that do, what fits beside the
    units in use, taken in claim order (priority, then id; at most `scan` of them looked at).
    For sizing pilots: LIMITED work, and limited work beyond its limit's room, asks for none."""
    scope = [JOB.c.name.in_(list(tasks))] if tasks is not None else []
    runnable = text(RUNNABLE_SQL)
    free = select(func.count()).select_from(JOB).where(runnable, JOB.c.has_limits.is_(False))
    total = session.scalar(free.where(*scope)) or 0
    limited = list(
        session.scalars(
            select(JOB.c.id)
            .where(runnable, JOB.c.has_limits.is_(True), *scope)
            .order_by(JOB.c.priority.desc(), JOB.c.id)
            .limit(scan)
        )
    )
    if not limited:
        return total
    needs = limits_of(session, limited)
    room = {
        row.name: row.capacity - row.in_use
        for row in session.execute(select(LIMIT.c.name, LIMIT.c.capacity, LIMIT.c.in_use))
    }
    for job_id in limited:
        need = needs.get(job_id, {})
        if need and all(room.get(name, 0) >= units for name, units in need.items()):
            total += 1
            for name, units in need.items():
                room[name] -= units
        if all(free_units <= 0 for free_units in room.values()):
            break
    return total
