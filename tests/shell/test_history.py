"""`job history`: a row per attempt, every transition, one attempt's failure, and --json."""

from __future__ import annotations

import json

import pytest

from bt import Brownthrower, tagnames
from tests.factories import claim, job, runner
from tests.shell.conftest import Driver


@pytest.fixture
def retried(app: Brownthrower) -> int:
    """A job that failed, was retried, and failed for good; its id."""
    job_id = job(app, submit=True, retries=1, retry_delay=0)
    who = runner(app)
    stderr = {tagnames.STDERR: "warning: low disk\nerror: no space left\n"}
    app.claims.fail(claim(app, who), "exception", "Traceback: first", exit_code=1)
    app.claims.fail(claim(app, who), "timeout", "Traceback: second", exit_code=2, tags=stderr)
    return job_id


def test_history_prints_a_row_per_attempt(run: Driver, retried: int) -> None:
    lines = [line.split() for line in run(f"job history {retried}").out.splitlines()]
    assert lines[0] == [
        "attempt", "runner", "host", "queued", "started", "ended", "duration", "outcome",
        "exit_code", "cpu", "peak_rss", "read", "written", "reason",
    ]  # fmt: skip
    assert [(row[0], row[2], *row[-3:]) for row in lines[1:]] == [
        ("1", "test", "retried", "1", "exception"),
        ("2", "test", "FAILED", "2", "timeout"),
    ]


def test_history_returns_the_attempts(run: Driver, retried: int) -> None:
    attempts = run(f"job history {retried}").data
    assert [(a.number, a.outcome, a.reason) for a in attempts] == [
        (1, "retried", "exception"),
        (2, "FAILED", "timeout"),
    ]


def test_history_events_prints_every_transition(run: Driver, retried: int) -> None:
    lines = [line.split() for line in run(f"job history {retried} --events").out.splitlines()]
    assert lines[0] == ["at", "from", "to", "attempt", "runner", "host", "exit_code", "reason"]
    assert lines[1][2:] == ["QUEUED", "0"]  # the submitted job's creation: no old status
    assert [line[2:4] for line in lines[2:]] == [
        ["QUEUED", "RUNNING"],
        ["RUNNING", "QUEUED"],
        ["QUEUED", "RUNNING"],
        ["RUNNING", "FAILED"],
    ]


def test_history_attempt_shows_its_reason_traceback_and_stderr_tail(
    run: Driver, retried: int
) -> None:
    out = run(f"job history {retried} --attempt 2").out
    assert out.startswith(f"### JOB {retried}, ATTEMPT 2 OF 2:")
    assert "reason    : timeout" in out and "### TRACEBACK:\nTraceback: second" in out
    assert "### STDERR (TAIL):\nwarning: low disk\nerror: no space left" in out


def test_history_attempt_keeps_an_earlier_failure(run: Driver, retried: int) -> None:
    attempt = run(f"job history {retried} --attempt 1").data
    assert (attempt.traceback, attempt.exit_code) == ("Traceback: first", 1)


def test_history_of_an_attempt_that_does_not_exist_is_one_error(run: Driver, retried: int) -> None:
    result = run(f"job history {retried} --attempt 3")
    assert result.failed
    assert result.err == f"ERROR: Job {retried} has no attempt 3; its attempts are 1, 2.\n"


def test_history_of_an_unknown_job_is_the_usual_error(run: Driver) -> None:
    result = run("job history 99")
    assert result.failed and result.err == "ERROR: Job 99 does not exist.\n"


def test_history_of_a_job_that_never_ran_says_so(run: Driver, app: Brownthrower) -> None:
    result = run(f"job history {job(app)}")
    assert not result.failed and result.data == [] and "has not run yet" in result.err


@pytest.mark.parametrize(
    ("options", "first_keys"),
    [
        ("", {"attempt", "runner_id", "host", "duration", "outcome", "exit_code", "traceback"}),
        ("--events", {"at", "old_status", "new_status", "attempt", "reason", "stderr"}),
    ],
)
def test_history_json_is_a_list_of_objects(
    run: Driver, retried: int, options: str, first_keys: set[str]
) -> None:
    shown = json.loads(run(f"job history {retried} {options} --json").out)
    assert isinstance(shown, list) and first_keys <= set(shown[0])


def test_history_attempt_json_is_one_object(run: Driver, retried: int) -> None:
    shown = json.loads(run(f"job history {retried} --attempt 2 --json").out)
    assert (shown["attempt"], shown["outcome"], shown["traceback"]) == (
        2,
        "FAILED",
        "Traceback: second",
    )
