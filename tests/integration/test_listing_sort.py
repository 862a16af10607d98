"""`job list --sort FIELD` sorts in the database: every page continues the order of all the
matching jobs, ties by id, empty values last in both directions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import text

from bt import Brownthrower, errors
from bt.models import JOB
from bt.values import JobInfo
from tests.factories import claim, job, runner, superjob

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)  #: what `elapsed` runs to for jobs not ended
FIELDS = ["name", "status", "super_id", "priority", "ended", "elapsed", "host"]


@pytest.fixture
def varied(app: Brownthrower) -> Brownthrower:
    """15 jobs: a superjob with 2 subjobs and 12 more (8 of them queued), of which 6 were
    claimed on hosts a and b in turn and 5 failed; names x, y and z in turn; times set apart
    by whole minutes for jobs 4 to 10 (9 has not ended): ties in every field, empty values."""
    hosts = [app.runners.register(host=h, pid=1, slots=1, tasks=["*"], lease=60) for h in "ab"]
    superjob(app, runner(app))
    for i in range(12):
        job(app, submit=i < 8, priority=i % 2)
    for i in range(6):
        held = claim(app, hosts[i % 2])
        if i < 5:
            app.claims.fail(held, "exception", "boom")
    names = "UPDATE job SET name = CASE id % 3 WHEN 0 THEN 'x' WHEN 1 THEN 'y' ELSE 'z' END"
    app.db.write(lambda s: s.execute(text(names)))
    for job_id in range(4, 11):
        ended = None if job_id == 9 else T0 + dt.timedelta(minutes=job_id % 5)
        store(app, job_id, ts_started=T0 + dt.timedelta(minutes=job_id % 3), ts_ended=ended)
    return app


def store(app: Brownthrower, job_id: int, **values: object) -> None:
    """Set columns of a job directly."""
    app.db.write(lambda s: s.execute(JOB.update().where(JOB.c.id == job_id).values(**values)))


def value(app: Brownthrower, info: JobInfo, field: str) -> Any:
    """A job's value of `field`, worked out apart from the database's sort."""
    if field == "host":
        history = app.jobs.history(info.id)
        return history[-1].host if history else None
    if field == "elapsed":
        end = info.ended or NOW
        return None if info.started is None else (end - info.started).total_seconds()
    if field == "status":
        return info.status.value
    return getattr(info, field)


def expected(app: Brownthrower, field: str, reverse: bool, terms: Sequence[str] = ()) -> list[int]:
    jobs = app.jobs.list(terms, limit=100).jobs
    known = [j for j in jobs if value(app, j, field) is not None]
    empty = [j.id for j in jobs if value(app, j, field) is None]
    ordered = sorted(known, key=lambda j: (value(app, j, field), j.id), reverse=reverse)
    return [j.id for j in ordered] + sorted(empty, reverse=reverse)


def paged(
    app: Brownthrower, field: str, reverse: bool, terms: Sequence[str] = (), size: int = 2
) -> list[int]:
    ids, after = [], None
    while True:
        page = app.jobs.list(
            terms, limit=size, after=after, newest_first=reverse, sort=field, now=NOW
        )
        ids += [j.id for j in page.jobs]
        if page.next_after is None:
            return ids
        after = page.next_after


@pytest.mark.parametrize("reverse", [False, True], ids=["ascending", "reversed"])
@pytest.mark.parametrize("field", FIELDS)
def test_sorted_pages_continue_the_order_of_all_matching_jobs(
    varied: Brownthrower, field: str, reverse: bool
) -> None:
    assert paged(varied, field, reverse) == expected(varied, field, reverse)


NAME_FILTERS = [
    ["status!=STASHED"],
    ["name=y", "status=FAILED"],
    ["name=*", "id>3", "id<=12"],
    ["priority=1"],
    ["status=RUNNABLE"],
    ["status>FAILED"],
]


@pytest.mark.parametrize("reverse", [False, True], ids=["ascending", "reversed"])
@pytest.mark.parametrize("terms", NAME_FILTERS, ids=" ".join)
def test_sorted_by_name_with_a_filter_pages_in_order(
    varied: Brownthrower, terms: list[str], reverse: bool
) -> None:
    assert paged(varied, "name", reverse, terms) == expected(varied, "name", reverse, terms)


def test_the_first_page_holds_the_longest_job_whichever_page_it_is_on(app: Brownthrower) -> None:
    ids = [job(app) for _ in range(5)]
    for i, job_id in enumerate(ids):
        store(app, job_id, ts_started=T0, ts_ended=T0 + dt.timedelta(seconds=40 if i == 4 else 3))
    page = app.jobs.list(limit=2, sort="elapsed", newest_first=True)
    assert [j.id for j in page.jobs] == [ids[4], ids[3]]


def test_a_sorted_page_after_a_removed_job_says_it_is_gone(app: Brownthrower) -> None:
    gone = job(app)
    app.jobs.remove(gone)
    with pytest.raises(errors.JobNotFound):
        app.jobs.list(sort="name", after=gone)
