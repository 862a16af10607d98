from __future__ import annotations

import pytest

from bt import errors
from bt.status import (
    TRANSITIONS,
    Action,
    Status,
    SubjobCounts,
    bucket_deltas,
    derivation,
    next_status,
)


def test_submit_queues_a_stashed_job() -> None:
    assert next_status(1, Status.STASHED, Action.SUBMIT) is Status.QUEUED


def test_submit_of_a_running_job_is_refused_naming_the_allowed_statuses() -> None:
    with pytest.raises(errors.InvalidTransition, match=r"allowed from: STASHED, FAILED"):
        next_status(7, Status.RUNNING, Action.SUBMIT)


def test_done_is_final() -> None:
    assert not any(Status.DONE in sources for sources in TRANSITIONS.values())


def test_status_parse_accepts_stand_by_spellings() -> None:
    assert Status.parse("stand_by") is Status.STAND_BY
    assert Status.parse("STAND-BY") is Status.STAND_BY


def test_status_parse_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="unknown status 'LATE'"):
        Status.parse("LATE")


@pytest.mark.parametrize(
    ("counts", "action"),
    [
        (SubjobCounts(0, 0, 0), None),
        (SubjobCounts(3, 3, 0), Action.SUBJOBS_DONE),
        (SubjobCounts(3, 2, 1), Action.SUBJOBS_FAILED),
        (SubjobCounts(3, 0, 3), Action.SUBJOBS_FAILED),
        (SubjobCounts(3, 2, 0), Action.SUBJOBS_ACTIVE),
        (SubjobCounts(3, 0, 1), Action.SUBJOBS_ACTIVE),
    ],
)
def test_superjob_derivation_follows_the_original_rules(
    counts: SubjobCounts, action: Action | None
) -> None:
    assert derivation(counts) is action


def test_a_subjob_finishing_moves_one_count_from_active_to_done() -> None:
    assert bucket_deltas(Status.RUNNING, Status.DONE) == SubjobCounts(0, 1, 0)


def test_a_new_subjob_adds_to_the_total() -> None:
    assert bucket_deltas(None, Status.QUEUED) == SubjobCounts(1, 0, 0)


def test_moving_between_active_statuses_changes_no_count() -> None:
    assert bucket_deltas(Status.QUEUED, Status.RUNNING) == SubjobCounts()
