"""Crash-loop backoff, a pure state machine driven by the times the test gives it."""

from __future__ import annotations

import pytest

from bt.dispatch.backoff import Backoff, Failure, duration, summary

T0 = 1_000_000.0


def crash(at: float, ran: float | None = 1.5) -> Failure:
    return Failure(
        at, "pilot", "pilot 7 FAILED (exit code 1) after 2 s without claiming a job", ran
    )


def refused(at: float) -> Failure:
    return Failure(at, "submit", "submission failed: sbatch: error: invalid partition")


def test_two_failures_do_not_stop_submissions() -> None:
    backoff = Backoff()
    assert not backoff.failed(crash(T0)) and not backoff.failed(crash(T0 + 1))
    assert not backoff.blocked(T0 + 2)


def test_the_third_failure_in_a_row_stops_submissions_for_a_minute() -> None:
    backoff = Backoff()
    for i in range(3):
        started = backoff.failed(crash(T0 + i))
    assert started
    assert backoff.until == T0 + 2 + 60
    assert backoff.blocked(T0 + 61) and not backoff.blocked(T0 + 62)


def test_each_failure_after_a_backoff_doubles_it_up_to_30_minutes() -> None:
    backoff = Backoff()
    at = T0
    for _ in range(3):
        backoff.failed(crash(at))
    waits = []
    for _ in range(8):
        assert backoff.until is not None
        at = backoff.until  # the backoff is over: the next pilot fails too
        backoff.failed(crash(at))
        waits.append(backoff.until - at)
    assert waits == [120, 240, 480, 960, 1800, 1800, 1800, 1800]


def test_a_failure_during_a_backoff_does_not_lengthen_it() -> None:
    backoff = Backoff()
    for i in range(3):
        backoff.failed(crash(T0 + i))
    until = backoff.until
    assert not backoff.failed(crash(T0 + 10))
    assert backoff.until == until


def test_a_pilot_that_claims_a_job_clears_everything() -> None:
    backoff = Backoff()
    for i in range(4):
        backoff.failed(crash(T0 + i))
    assert backoff.succeeded()
    assert not backoff.blocked(T0 + 5) and backoff.streak == [] and backoff.level == 0
    assert backoff.allowance(T0 + 5, on_trial=50) is None
    assert not backoff.succeeded()  # nothing left to clear


def test_submission_failures_count_like_pilot_failures() -> None:
    backoff = Backoff()
    backoff.failed(crash(T0, ran=0.4))
    backoff.failed(refused(T0 + 1))
    assert backoff.failed(refused(T0 + 2))
    assert backoff.reason == "1 pilot exited within 1 s, 2 submissions failed"


@pytest.mark.parametrize(
    ("failures", "on_trial", "allowed"),
    [
        (0, 0, None),  # nothing failed: as many as wanted
        (0, 30, None),
        (1, 0, 2),  # after a failure, at most 3 - failures pilots on trial at once
        (1, 1, 1),
        (2, 0, 1),
        (2, 1, 0),
        (1, 5, 0),
    ],
)
def test_fewer_pilots_go_out_while_failures_are_counted(
    failures: int, on_trial: int, allowed: int | None
) -> None:
    backoff = Backoff()
    for i in range(failures):
        backoff.failed(crash(T0 + i))
    assert backoff.allowance(T0 + 10, on_trial) == allowed


def test_none_go_out_during_a_backoff_and_one_at_a_time_after_it() -> None:
    backoff = Backoff(first=5)
    for i in range(3):
        backoff.failed(crash(T0 + i))
    assert backoff.allowance(T0 + 3, on_trial=0) == 0
    assert backoff.allowance(T0 + 8, on_trial=0) == 1
    assert backoff.allowance(T0 + 8, on_trial=1) == 0


def test_the_state_says_until_when_and_why() -> None:
    backoff = Backoff()
    for i in range(3):
        backoff.failed(crash(T0 + i))
    state = backoff.state(T0 + 10)
    assert state.startswith("backing off until ")
    assert state.endswith(": 3 pilots exited within 2 s")


def test_the_state_counts_failures_before_a_backoff() -> None:
    backoff = Backoff()
    assert backoff.state(T0) == "ok"
    backoff.failed(refused(T0))
    assert backoff.state(T0) == "1 failure in a row (1 submission failed)"


def test_a_pilot_whose_run_time_is_unknown_is_said_to_have_failed() -> None:
    assert summary([crash(T0, ran=None), crash(T0, ran=3)]) == (
        "2 pilots failed before claiming a job"
    )


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0.2, "1 s"), (2, "2 s"), (119.5, "120 s"), (150, "3 min"), (9000, "3 h")],
)
def test_durations_round_up(seconds: float, words: str) -> None:
    assert duration(seconds) == words


def test_the_state_survives_a_restart() -> None:
    backoff = Backoff()
    for i in range(3):
        backoff.failed(crash(T0 + i))
    again = Backoff()
    again.restore(backoff.to_dict())
    assert again.until == backoff.until and again.level == 1 and again.streak == backoff.streak
    assert again.state(T0 + 10) == backoff.state(T0 + 10)
