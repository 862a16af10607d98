"""A job waiting for its retry shows: `QUEUED (retry at HH:MM)` in `job list`, the
`status=WAITING` filter, and a WAITING count in `status`."""

from __future__ import annotations

from bt import Brownthrower
from shell.dispatcher.screen import bt_counts
from tests.factories import job
from tests.shell.conftest import Driver
from tests.shell.test_failure_handling import failed_once


def test_job_list_shows_when_a_waiting_retry_may_run(run: Driver, app: Brownthrower) -> None:
    job_id = failed_once(app, retries=1, retry_delay=600)
    due = app.jobs.get(job_id).not_before
    assert due is not None
    row = run("job list --columns id,status").out.splitlines()[1]
    assert row.split(maxsplit=1) == [str(job_id), f"QUEUED (retry at {due.astimezone():%H:%M})"]


def test_status_waiting_selects_the_jobs_waiting_for_a_retry(
    run: Driver, app: Brownthrower
) -> None:
    waiting = failed_once(app, retries=1, retry_delay=600)
    job(app, submit=True)
    assert [j.id for j in run("job list status=WAITING").data] == [waiting]


def test_status_counts_waiting_jobs_below_queued(run: Driver, app: Brownthrower) -> None:
    failed_once(app, retries=1, retry_delay=600)
    result = run("status")
    lines = [line.split() for line in result.out.splitlines()]
    assert result.data["WAITING"] == 1 and ["WAITING", "1"] in lines


def test_the_dispatchers_bt_box_counts_waiting_jobs(app: Brownthrower) -> None:
    failed_once(app, retries=1, retry_delay=600)
    assert bt_counts(app.jobs.counts())["WAITING"] == 1
