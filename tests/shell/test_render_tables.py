"""Tables at terminal widths from 80 columns up: what goes first, what is never cut."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from rich.console import Console, RenderableType

from bt import Status
from bt.values import JobInfo
from shell import render
from shell.commands.task import task_table
from shell.render_graph import kind_table

AT = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
FULL = render.timestamp(AT)
STATUSES = [(status, False) for status in Status] + [(Status.QUEUED, True)]


def jobs(name: str = "catalog.generate") -> list[JobInfo]:
    """One job per status, QUEUED (blocked) included, with every timestamp set."""
    return [
        JobInfo(10_000 + n, 9_999, name, status, created=AT, queued=AT, started=AT, ended=AT,
                blocked=blocked)
        for n, (status, blocked) in enumerate(STATUSES)
    ]  # fmt: skip


def lines(renderable: RenderableType, width: int) -> list[str]:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(renderable)
    return console.file.getvalue().splitlines()  # type: ignore[attr-defined]


@pytest.mark.parametrize("width", [80, 100, 120])
def test_a_narrow_job_list_keeps_id_name_and_the_whole_status(width: int) -> None:
    shown = lines(render.job_table(jobs()), width)[1:]
    assert len(shown) == len(STATUSES)
    for line, job in zip(shown, jobs(), strict=True):
        assert line.startswith(str(job.id)) and f"catalog.generate  {job.shown_status}" in line


def test_a_narrow_table_is_no_wider_than_the_terminal() -> None:
    assert max(len(line.rstrip()) for line in lines(render.job_table(jobs()), 80)) <= 80


def test_timestamps_shorten_to_month_day_hours_minutes_before_columns_go() -> None:
    header, first = lines(render.job_table(jobs()), 110)[:2]
    assert header.split() == list(render.JOB_COLUMNS)
    assert FULL[5:16] in first and FULL not in first


def test_created_and_queued_go_first_at_80_columns() -> None:
    header = lines(render.job_table(jobs()), 80)[0].split()
    assert header[:2] == ["id", "super_id"] and "created" not in header and "queued" not in header
    assert "ended" in header


def test_a_wide_terminal_shows_the_original_table() -> None:
    header, first = lines(render.job_table(jobs()), 200)[:2]
    assert header.split() == list(render.JOB_COLUMNS) and first.count(FULL) == 4


def test_a_long_name_wraps_whole_instead_of_being_cut() -> None:
    name = "a_very_long_job_name_" * 4
    first, rest = lines(render.job_table(jobs(name)[:1]), 80)[1:]
    assert first.split()[1] + rest.split()[0] == name and "STASHED" in first


def test_the_graph_tables_keep_kind_id_name_and_status_at_80_columns() -> None:
    job = jobs()[-1]
    row = lines(kind_table([("PARENT", job)]), 80)[1]
    assert row.split()[:2] == ["PARENT", str(job.id)] and "QUEUED (blocked)" in row


def test_a_task_summary_wraps_rather_than_being_cut() -> None:
    from bt import TaskRegistry

    entries = TaskRegistry().entries()
    shown = " ".join(lines(task_table(entries), 80))
    for entry in entries:
        if entry.task is not None:
            assert all(word in shown for word in entry.task.summary().split())


def test_the_history_table_keeps_attempt_and_outcome_at_80_columns() -> None:
    from bt.values import Attempt

    attempt = Attempt(1, 3, "node-17.cluster.example.org", AT, AT, AT, "retried", 1, "boom " * 20)
    header = lines(render.history_table([attempt]), 80)[0].split()
    assert header[0] == "attempt" and "outcome" in header and "reason" in header
