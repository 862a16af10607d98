"""Smaller shell fixes: each test pins one behaviour a user tripped over."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest
from rich.console import Console

from bt import Brownthrower
from shell.commands.job_live import counts_line
from tests.factories import claim, job, runner, superjob
from tests.shell.conftest import Driver

FAKE_EDITOR = Path(__file__).with_name("fake_editor.py")


def plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *steps: dict[str, object]) -> str:
    """The fake editor's command line, following `steps`."""
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(list(steps)))
    monkeypatch.setenv("FAKE_EDITOR_PLAN", str(path))
    return f"{sys.executable} {FAKE_EDITOR}"


def test_set_editor_is_the_editor_job_edit_opens(
    run: Driver, app: Brownthrower, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = plan(tmp_path, monkeypatch, {"body": "[1, 2]\n"})
    monkeypatch.setenv("EDITOR", "false")
    job_id = job(app, "add2")
    run(f'set editor "{fake}"')
    assert not run(f"job edit input {job_id}").failed
    assert app.jobs.get(job_id).input == "[1, 2]\n"


def test_an_edit_left_with_only_comments_says_the_config_is_now_empty(
    run: Driver, app: Brownthrower, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDITOR", plan(tmp_path, monkeypatch, {"body": "#     radius: 2\n"}))
    job_id = job(app, "noop", config="radius: 1\n")
    result = run(f"job edit config {job_id}")
    assert "is now empty" in result.err and "successfully" not in result.out


def test_dot_file_counts_every_job_drawn_subjobs_included(
    run: Driver, app: Brownthrower, tmp_path: Path
) -> None:
    top = superjob(app, runner(app), subjobs=3)
    result = run(f"job graph {top} --dot {tmp_path / 'g.dot'}")
    drawn = set(re.findall(r"^\s*j(\d+) \[", (tmp_path / "g.dot").read_text(), re.MULTILINE))
    assert len(drawn) == 4 and "graph of 4 jobs" in result.out


def test_clone_says_the_copy_depends_on_the_originals_parents(
    run: Driver, app: Brownthrower
) -> None:
    parent, child = job(app), job(app)
    app.jobs.link(parent, child)
    assert f"which depends on job {parent} like the original" in run(f"job clone {child}").out


def test_cloning_many_by_filter_lists_the_new_ids(run: Driver, app: Brownthrower) -> None:
    for _ in range(101):
        job(app, "noop")
    assert "New jobs: 102-202." in run("job clone name=noop").out


def test_create_json_has_the_failure_handling(run: Driver) -> None:
    row = json.loads(run("job create noop --retries 2 --retry-delay 5 --time-limit 1h --json").out)
    assert (row["retries"], row["retry_delay"], row["time_limit"]) == (2, 5, 3600)


def test_top_counts_wrap_between_pairs_at_80_columns() -> None:
    counts = {"BLOCKED": 0, "DONE": 1, "FAILED": 123, "QUEUED": 4, "RUNNABLE": 1, "RUNNING": 29}
    shown = io.StringIO()
    Console(file=shown, width=80).print(counts_line({**counts, "STAND-BY": 2, "STASHED": 7}))
    assert all(len(line.split()) % 2 == 0 for line in shown.getvalue().splitlines())


def test_watch_says_q_quits(run: Driver, app: Brownthrower) -> None:
    assert "(q to quit)" in run(f"job watch {job(app)} --once").out


def test_task_show_gives_the_failure_handling_its_jobs_take(offline: Driver) -> None:
    shown = offline("task show flaky").out
    assert "retries        : 2" in shown and "retry delay    : 500ms, then x2 per retry" in shown
    assert "time limit     : none" in shown


def test_a_time_limit_out_of_range_names_its_bounds_in_units(run: Driver) -> None:
    result = run("job create noop --time-limit 400d")
    assert "The time limit must be from 0.001 s to 1 year: 400 days." in result.err


def test_submitting_a_job_whose_parent_failed_warns_it_is_blocked(
    run: Driver, app: Brownthrower
) -> None:
    parent, child = job(app, submit=True), job(app)
    app.claims.fail(claim(app, runner(app)), "exception", "Traceback ...", exit_code=1)
    app.jobs.link(parent, child)
    assert f"Job {child} is BLOCKED: a parent has FAILED" in run(f"job submit {child}").err


def test_removing_a_linked_job_gives_the_unlink_command(run: Driver, app: Brownthrower) -> None:
    parent, child = job(app), job(app)
    app.jobs.link(parent, child)
    assert f"remove its links first (job unlink {parent} {child})" in run(f"job remove {child}").err
