"""The dispatcher's screen, rendered from snapshots, and the shell's `dispatcher status`."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from rich.console import Console, RenderableType

from bt import Brownthrower
from bt.dispatch import PassReport, Pilot, Snapshot
from bt.dispatch.backoff import Backoff, Failure
from bt.dispatch.journal import Entry, FailedPilot, Journal
from bt.dispatch.sizing import Demand, Sizing
from shell.app import build_shell
from shell.dispatcher.screen import history, print_screen, screen
from tests.dispatch.helpers import Dispatchers, drive, running

SETTINGS = [("Runner command", "bt-runner --loop"), ("Eligible tasks", "sum4 add2")]
COUNTS = {
    "DONE": 13135,
    "FAILED": 2327,
    "QUEUED": 4,
    "RUNNABLE": 1,
    "BLOCKED": 3,
    "WAITING": 5,
    "LIMITED": 6,
    "RUNNING": 29,
    "STAND-BY": 2,
}
PILOTS = [Pilot("1", "RUNNING"), Pilot("2", "RUNNING"), Pilot("3", "PENDING")]
AT = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def text(renderable: RenderableType) -> str:
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def snapshot(counts: dict[str, int] | None = COUNTS, warnings: list[str] | None = None) -> Snapshot:
    report = PassReport(pilots=PILOTS, desired=3, warnings=warnings or [])
    return Snapshot(SETTINGS, counts, report, dt.datetime(2024, 1, 1, tzinfo=dt.UTC))


def test_the_screen_shows_the_settings_over_the_two_boxes() -> None:
    shown = text(screen(snapshot(), "Brownthrower dispatcher static")).splitlines()
    assert shown[0].strip() == "Brownthrower dispatcher static"
    assert shown[1].startswith("Runner command:") and "bt-runner --loop" in shown[1]
    assert "BT status" in shown[3] and "batch status" in shown[3]


def test_the_bt_status_box_counts_the_statuses_in_order() -> None:
    shown = text(screen(snapshot(), "t"))
    rows = [line.split("│")[1].split() for line in shown.splitlines()[4 : 4 + len(COUNTS)]]
    assert rows == [[s, str(COUNTS[s])] for s in COUNTS]


def test_the_bt_status_box_counts_blocked_jobs_apart_below_queued() -> None:
    shown = text(screen(snapshot(), "t")).splitlines()
    assert shown[8].split("│")[1].startswith("   BLOCKED") and shown[8].split()[2] == "3"


def test_the_batch_status_box_counts_pilots_per_state() -> None:
    shown = text(screen(snapshot(), "t")).splitlines()
    assert shown[4].split("│")[3].split() == ["PENDING", "1"]
    assert shown[5].split("│")[3].split() == ["RUNNING", "2"]


def test_counts_the_database_could_not_give_show_as_unavailable() -> None:
    assert "unavailable" in text(screen(snapshot(counts=None), "t"))


def test_warnings_show_under_the_boxes() -> None:
    shown = text(screen(snapshot(warnings=["cannot submit a pilot: sbatch failed"]), "t"))
    assert "warning: cannot submit a pilot: sbatch failed" in shown


def test_the_shell_prints_the_dispatchers_boxes_once(
    dispatchers: Dispatchers, app: Brownthrower, tmp_path: Path
) -> None:
    drive(dispatchers.build("local", "--pilots", "1"), lambda s: running(s) == 1)
    shell = build_shell(None, client=app, scripted=True, auto_suggest=False)
    shell.stdout = io.StringIO()
    shell.onecmd_plus_hooks(f"dispatcher status --name t --state-dir {tmp_path}")
    shown = shell.stdout.getvalue()
    assert "BT status" in shown and "batch status" in shown
    batch_rows = [line.split("│")[3].split() for line in shown.splitlines() if line.count("│") == 4]
    assert ["RUNNING", "1"] in batch_rows


def test_the_screen_printed_into_a_pipe_keeps_each_setting_on_one_line() -> None:
    url = "postgresql+psycopg://bt:***@db.example.org:5432/" + "brownthrower_" * 8
    shown = io.StringIO()
    print_screen(
        screen(Snapshot([("Database", url)], COUNTS, PassReport(pilots=PILOTS), AT), "t"), shown
    )
    assert any(url in line for line in shown.getvalue().splitlines())
    assert "\x1b" not in shown.getvalue()


def crash_looping_journal() -> Journal:
    """A journal as an on-demand dispatcher leaves it after three pilots crashed at start."""
    backoff = Backoff()
    at = AT.timestamp()
    journal = Journal(dispatcher_id="t-1234abcd", updated=at + 3, mode="on-demand")
    for i in range(3):
        text_ = f"pilot {10 + i} FAILED (exit code 1) after 1 s without claiming a job"
        backoff.failed(Failure(at + i, "pilot", text_, 0.4))
        journal.submitted(at + i - 1, str(10 + i))
        journal.failed(at + i, text_)
    journal.backoff = backoff.to_dict()
    journal.demand = Demand(3, 50, idle=0, pending=2, live=2)
    journal.sizing = Sizing(51, submit=0)
    journal.submit_error = Entry(at, "sbatch failed (exit 1): sbatch: error: invalid partition")
    tail = [f"line {n}" for n in range(9)] + ["ImportError: No module named 'numpyy'"]
    journal.failed_pilot = FailedPilot("12", at + 2, "pilot 12 FAILED", tail)
    journal.pilots = ["13", "14"]
    return journal


def test_the_screen_shows_the_demand_the_backoff_and_the_failed_pilots_output() -> None:
    shot = Snapshot(SETTINGS, COUNTS, PassReport(pilots=PILOTS), AT, crash_looping_journal())
    shown = text(screen(shot, "t"))
    assert "Demand:" in shown
    assert "runnable 3, soon runnable 50, idle 0, pending 2 → wanted 51" in shown
    assert "backing off until" in shown and "3 pilots exited within 1 s" in shown
    assert "sbatch: error: invalid partition" in shown
    assert "│ ImportError: No module named 'numpyy'" in shown
    assert shown.count("│ line") == 9  # the last 10 lines of its output


def test_dispatcher_status_lists_submissions_failures_and_pilots_owned() -> None:
    shown = text(history(crash_looping_journal()))
    assert "Pilots owned:     13 14" in shown
    assert "Submitted:" in shown and all(f" {n}" in shown for n in ("10", "11", "12"))
    assert shown.count("without claiming a job") == 3


def test_dispatcher_status_without_a_journal_says_no_dispatcher_ran_there() -> None:
    assert "none recorded" in text(history(None))
