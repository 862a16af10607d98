"""`job list --sort` orders all the matching jobs, not the page it fetched."""

from __future__ import annotations

from bt import Brownthrower
from tests.shell.conftest import Driver
from tests.shell.test_display_list import timed


def test_sort_finds_the_longest_job_beyond_the_first_page(run: Driver, app: Brownthrower) -> None:
    ids = [timed(app, 0, 40)] + [timed(app, 0, 1) for _ in range(3)]
    assert [j.id for j in run("job list --sort elapsed -r --limit 2").data] == [ids[0], ids[3]]


def test_the_next_sorted_page_continues_after_its_last_job(run: Driver, app: Brownthrower) -> None:
    ids = [timed(app, 0, 40)] + [timed(app, 0, 1) for _ in range(3)]
    line = f"job list --sort elapsed -r --limit 2 --after {ids[0]}"
    assert [j.id for j in run(line).data] == [ids[3], ids[2]]
