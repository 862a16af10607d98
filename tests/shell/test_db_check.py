"""`db check` in the shell: one line per finding, and the command fails when there are any."""

from __future__ import annotations

import json

from bt import Brownthrower
from tests.factories import job
from tests.shell.conftest import Driver


def test_db_check_of_a_consistent_database_succeeds(run: Driver, app: Brownthrower) -> None:
    job(app)
    result = run("db check")
    assert "No problems found." in result.out and not result.failed


def test_db_check_reports_a_stuck_job_and_fails(run: Driver, app: Brownthrower) -> None:
    parent, child = job(app), job(app, submit=True)
    app.jobs.link(parent, child)
    result = run("db check")
    assert f"ERROR: stuck: 1 job(s) QUEUED behind a STASHED parent: {child}" in result.err
    assert result.failed


def test_db_check_json_lists_the_findings(run: Driver, app: Brownthrower) -> None:
    parent, child = job(app), job(app, submit=True)
    app.jobs.link(parent, child)
    (finding,) = json.loads(run("db check --json").out)
    assert finding["kind"] == "stuck" and finding["job_ids"] == [child]
