"""What runs cost, where users look: `job history` and `job show` figures, `job stats` with
exact quantiles, `job trace` columns and `job report` files (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import update

from bt import Brownthrower, Failed, Finished, RunResult, Usage
from bt.db import Database
from bt.models import JobAttempt
from shell.commands.job_stats import TRACE_COLUMNS
from tests.factories import claim, job, runner
from tests.shell.conftest import Driver

MB = 1 << 20
T0 = dt.datetime(2026, 3, 4, 9, 0, 0, tzinfo=dt.UTC)
WAITS = [0.0, 5.0, 10.0, 15.0, 20.0]
RUNS = [1.0, 2.0, 3.0, 4.0, 10.0]
RSS = [100, 200, 300, 400, 1000]  #: MiB


def usage(run: float, rss_mb: int) -> Usage:
    return Usage(
        realtime=run, cpu_user=run / 2, cpu_sys=run / 4, peak_rss=rss_mb * MB, minflt=10,
        majflt=1, vol_ctxt=5, inv_ctxt=6, inblock=0, oublock=8, rchar=1000, wchar=2000,
        read_bytes=0, write_bytes=4096, exit_code=0, host="test", batch_id="77", slots=1,
    )  # fmt: skip


@pytest.fixture
def campaign(app: Brownthrower, database: Database) -> list[int]:
    """Five noop jobs run with known waits, run times and peak RSS; the last one failed with
    reason `boom`. Their ids."""
    ids = [job(app, submit=True) for _ in RUNS]
    who = runner(app)
    for i, job_id in enumerate(ids):
        claimed = claim(app, who)
        assert claimed.job_id == job_id
        figures = usage(RUNS[i], RSS[i])
        if i < len(ids) - 1:
            end: Finished | Failed = Finished(claimed, RunResult(output="1\n"), usage=figures)
        else:
            failed = Usage(**{**figures.as_dict(), "exit_code": 1})
            end = Failed(claimed, "boom", "Traceback: boom", 1, usage=failed)
        app.claims.settle([end])
    with database.engine.begin() as conn:
        for i, job_id in enumerate(ids):
            started = T0 + dt.timedelta(seconds=WAITS[i])
            ended = started + dt.timedelta(seconds=RUNS[i])
            conn.execute(
                update(JobAttempt)
                .where(JobAttempt.job_id == job_id)
                .values(queued_at=T0, started_at=started, ended_at=ended)
            )
    return ids


def test_history_shows_cpu_peak_rss_and_io_of_each_attempt(
    run: Driver, campaign: list[int]
) -> None:
    lines = [line.split() for line in run(f"job history {campaign[4]}").out.splitlines()]
    assert lines[0][-5:] == ["cpu", "peak_rss", "read", "written", "reason"]
    assert lines[1][-5:] == ["7.5s", "1000MiB", "1000B", "1.95KiB", "boom"]


def test_history_json_and_show_carry_the_figures(run: Driver, campaign: list[int]) -> None:
    (attempt,) = json.loads(run(f"job history {campaign[0]} --json").out)
    assert attempt["usage"]["peak_rss"] == 100 * MB and attempt["usage"]["batch_id"] == "77"
    shown = run(f"job show {campaign[4]}").out
    assert "### LAST ATTEMPT (1) COST:" in shown and "1000MiB (largest process)" in shown
    details = json.loads(run(f"job show {campaign[4]} --json").out)
    assert details["last_usage"]["exit_code"] == 1 and details["last_usage"]["realtime"] == 10.0
    assert "WHAT IT COST" in run(f"job history {campaign[4]} --attempt 1").out


def test_narrow_terminals_drop_the_figures_first(run: Driver, campaign: list[int]) -> None:
    from rich.console import Console

    from shell import render

    console = Console(width=80, file=io.StringIO())
    console.print(render.history_table(run(f"job history {campaign[0]}").data))
    header = console.file.getvalue().splitlines()[0].split()  # type: ignore[attr-defined]
    assert "written" not in header and "read" not in header
    assert {"attempt", "outcome"} <= set(header)


def test_stats_gives_the_exact_quantiles(run: Driver, campaign: list[int]) -> None:
    (group,) = run("job stats --json").data
    assert group.key == "noop" and group.jobs == 5 and group.by_status == {"DONE": 4, "FAILED": 1}
    assert (group.run.p50, group.run.p90, group.run.max) == (3.0, pytest.approx(7.6), 10.0)
    assert (group.wait.p50, group.wait.p90, group.wait.max) == (10.0, pytest.approx(18.0), 20.0)
    assert (group.peak_rss.p50, group.peak_rss.max) == (300 * MB, 1000 * MB)
    assert group.cpu_efficiency.p50 == pytest.approx(0.75)
    assert group.failures == [("boom", 1)]
    assert group.slowest[0] == campaign[4] and group.largest[0] == campaign[4]
    data = json.loads(run("job stats --by status --json").out)
    assert [g["key"] for g in data] == ["DONE", "FAILED"]
    out = run(f"job stats id<={campaign[1]}").out
    assert "### TASK noop:" in out and "jobs" in out and "p50 1.5 s" in out


def test_trace_has_one_row_per_attempt_with_nextflow_columns(
    run: Driver, campaign: list[int]
) -> None:
    lines = run("job trace --tsv").out.splitlines()
    rows = [dict(zip(TRACE_COLUMNS, line.split("\t"), strict=True)) for line in lines[1:]]
    assert lines[0].split("\t")[:10] == [
        "task_id", "name", "status", "exit", "submit", "start", "complete", "duration",
        "realtime", "%cpu",
    ]  # fmt: skip
    assert [int(r["task_id"]) for r in rows] == campaign
    last = rows[-1]
    assert last["status"] == "FAILED" and last["exit"] == "1" and last["reason"] == "boom"
    assert last["%cpu"] == "75.0" and last["peak_rss"] == str(1000 * MB)
    assert last["duration"] == "30.000" and last["realtime"] == "10.000"
    parsed = list(csv.reader(io.StringIO(run("job trace --csv name=noop").out)))
    assert tuple(parsed[0]) == TRACE_COLUMNS and len(parsed) == 6


def test_report_writes_a_self_contained_file_with_a_row_per_failure(
    run: Driver, campaign: list[int], tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    result = run(f"job report --html {page}")
    assert not result.failed and len(result.data) == 5
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html
    external = re.findall(r"https?://[^\s\"'<>]+", html)
    assert all(url.startswith("http://www.w3.org/") for url in external), external
    assert html.count("boom") >= 2  # the summary's reasons and the failures table row
    svg = tmp_path / "timeline.svg"
    run(f"job report --svg {svg}")
    assert svg.read_text().startswith("<?xml") and "<svg" in svg.read_text()
    assert run("job report").failed
