"""A listing by task name looks among the nearest jobs, then merges (name, status) index ranges:
it lists exactly what one scan in id order does, on every page, in both orders, with the
database's own LIKE (SQLite ignores the case of ASCII letters, PostgreSQL does not)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from sqlalchemy import text

from bt import Brownthrower
from bt.filters import parse
from bt.listing import MAX_NAMES, by_id, by_ranges, info_from_row
from bt.values import JobSpec, NodeSpec

NAMES = ("echo", "noop", "echo.v2", "ech_o", "Echo", "echoes")
PAGE = 4


def jobs_named(app: Brownthrower, names: Sequence[str], count: int) -> None:
    """`count` jobs named after `names` in turn (renamed in SQL: the names need no task)."""
    app.jobs.create_graph([NodeSpec(i, JobSpec("noop")) for i in range(count)])
    cases = " ".join(f"WHEN {i} THEN '{name}'" for i, name in enumerate(names))
    rename = f"UPDATE job SET name = CASE id % {len(names)} {cases} END"
    app.db.write(lambda s: s.execute(text(rename)))


@pytest.fixture
def mixed(app: Brownthrower) -> Brownthrower:
    """60 jobs, names interleaved, statuses STASHED, QUEUED, DONE and FAILED in another cycle."""
    jobs_named(app, NAMES, 60)
    statuses = "CASE id % 4 WHEN 0 THEN 'QUEUED' WHEN 1 THEN 'DONE' WHEN 2 THEN 'FAILED' END"
    app.db.write(lambda s: s.execute(text(f"UPDATE job SET status = {statuses} WHERE id % 4 < 3")))
    return app


def pages(
    app: Brownthrower, terms: list[str], newest: bool, *, ranged: bool
) -> Iterator[list[int]]:
    """Every page of the listing, read by index ranges or by one scan in id order."""
    after, parsed = None, parse(terms)
    while True:
        with app.db.read() as session:
            plan = by_ranges(session, parsed, PAGE + 1, after, newest) if ranged else None
            query, params = plan or (by_id(parsed, PAGE + 1, after, newest), {})
            rows = [] if query is None else list(session.execute(query, params))
            ids = [info_from_row(row).id for row in rows]
        yield ids[:PAGE]
        if len(ids) <= PAGE:
            return
        after = ids[PAGE - 1]


FILTERS = [
    ["name=ech*"],
    ["name=echo"],
    ["name=ech?"],
    ["name=none*"],
    ["name=ech_*"],
    ["name=e*", "name!=echo"],
    ["name!=noop"],
    ["status=DONE", "name=echo"],
    ["status!=QUEUED", "name=ech*"],
    ["status=RUNNING", "name=ech*"],
    ["name=ech*", "id>7", "id<=50"],
    ["name=ech*", "id>=12", "id<30", "id!=18"],
    ["name=echo", "id=13"],
    ["name=noop", "id>50", "id<10"],
    ["name=noop", "priority>=0"],
    ["name=ech*", "super_id=none", "attempts=0", "created>=2000-01-01", "ended=none"],
    ["name=echo", "name=noop"],
]


@pytest.mark.parametrize("newest", [False, True], ids=["oldest", "newest"])
@pytest.mark.parametrize("terms", FILTERS, ids=" ".join)
def test_a_listing_by_name_pages_like_a_scan_by_id(
    mixed: Brownthrower, terms: list[str], newest: bool
) -> None:
    expected = list(pages(mixed, terms, newest, ranged=False))
    assert list(pages(mixed, terms, newest, ranged=True)) == expected
    assert served_pages(mixed, terms, newest) == expected


def served_pages(app: Brownthrower, terms: list[str], newest: bool) -> list[list[int]]:
    """Every page as the service lists it (looking among the nearest jobs first)."""
    served, after = [], None
    while True:
        page = app.jobs.list(terms, limit=PAGE, after=after, newest_first=newest)
        served.append([j.id for j in page.jobs])
        if (after := page.next_after) is None:
            return served


def test_a_glob_matching_several_names_lists_them_all(mixed: Brownthrower) -> None:
    names = {j.name for j in mixed.jobs.list(["name=echo*"], limit=100).jobs}
    assert {"echo", "echo.v2", "echoes"} <= names and "noop" not in names


def test_a_glob_matching_no_name_lists_nothing(mixed: Brownthrower) -> None:
    assert mixed.jobs.list(["name=zz*"]).jobs == []


def test_the_service_pages_a_glob_across_pages(mixed: Brownthrower) -> None:
    first = mixed.jobs.list(["name=ech*"], limit=3, newest_first=True)
    second = mixed.jobs.list(["name=ech*"], limit=3, newest_first=True, after=first.next_after)
    ids = [j.id for j in first.jobs + second.jobs]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 6


@pytest.mark.parametrize(
    "terms", [["name=ech*"], ["status=DONE", "name=noop"], ["name=noop", "priority>0"]]
)
def test_a_filter_on_names_is_read_by_ranges(mixed: Brownthrower, terms: list[str]) -> None:
    with mixed.db.read() as session:
        assert by_ranges(session, parse(terms), 5, None, False) is not None


@pytest.mark.parametrize("terms", [["status=DONE"], ["status=BLOCKED", "name=noop"], []])
def test_a_filter_without_names_or_with_a_pseudo_status_scans_by_id(
    mixed: Brownthrower, terms: list[str]
) -> None:
    with mixed.db.read() as session:
        assert by_ranges(session, parse(terms), 5, None, False) is None


def test_more_names_than_a_skip_scan_reads_fall_back_to_a_scan_by_id(app: Brownthrower) -> None:
    jobs_named(app, [f"task{i}" for i in range(MAX_NAMES + 1)], MAX_NAMES + 1)
    with app.db.read() as session:
        assert by_ranges(session, parse(["name=task1*"]), 5, None, False) is None
    assert len(app.jobs.list(["name=task1*"]).jobs) == 12
