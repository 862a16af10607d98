"""Job statuses, the actions that move a job between them, and the one table that allows them.

Pure: no database here. `bt.transitions` is the only code that writes a status, and it asks
`next_status` first.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bt.errors import InvalidTransition


class Status(enum.StrEnum):
    """Where a job stands. The values are what the database stores and users type."""

    STASHED = "STASHED"  #: being prepared; config and input can be edited; never runs
    QUEUED = "QUEUED"  #: waiting to run as soon as every parent is DONE
    RUNNING = "RUNNING"  #: held by a runner (prolog, run or epilog executing)
    STAND_BY = "STAND-BY"  #: waiting for its subjobs to finish
    DONE = "DONE"  #: finished successfully; final
    FAILED = "FAILED"  #: finished with an error, was aborted or its runner was lost

    @classmethod
    def parse(cls, text: str) -> Status:
        """The status named by `text`, case-insensitively; `STAND_BY` is accepted too."""
        key = text.strip().upper().replace("_", "-")
        for status in cls:
            if status.value == key:
                return status
        raise ValueError(f"unknown status {text!r}; expected one of {', '.join(cls)}")


class Action(enum.StrEnum):
    """What can happen to a job. User actions first, then the runner's, then derivations."""

    EDIT = "be edited"
    LINK = "be linked"
    REMOVE = "be removed"
    SUBMIT = "be submitted"
    RESET = "be reset"
    ABORT = "be aborted"
    CLAIM = "be claimed"
    FINISH = "finish"
    FAIL = "fail"
    SPAWN = "wait for subjobs"
    REQUEUE = "be requeued"
    RETRY = "be retried"
    SUBJOBS_ACTIVE = "follow active subjobs"
    SUBJOBS_DONE = "follow done subjobs"
    SUBJOBS_FAILED = "follow failed subjobs"


S = Status

RUNNABLE = "RUNNABLE"  #: pseudo-status in counts and filters: QUEUED with every parent DONE
#: pseudo-status in counts and filters: QUEUED with a parent FAILED or itself BLOCKED, so it
#: cannot run until someone acts (resubmits or removes the failed parent, or unlinks it)
BLOCKED = "BLOCKED"
#: pseudo-status in counts and filters: QUEUED after a failed run, waiting for its retry delay
WAITING = "WAITING"
#: pseudo-status in counts and filters: QUEUED, every parent DONE, but a concurrency limit it
#: needs has no room for it now (RUNNABLE then counts only the jobs that are not LIMITED)
LIMITED = "LIMITED"
QUEUED_PARTS = (RUNNABLE, BLOCKED, WAITING, LIMITED)  #: the pseudo-statuses, parts of QUEUED

#: Every allowed (action, from-status) pair and the status it leads to. Nothing else is allowed.
TRANSITIONS: dict[Action, dict[Status, Status]] = {
    Action.EDIT: {S.STASHED: S.STASHED},
    Action.LINK: {S.STASHED: S.STASHED, S.QUEUED: S.QUEUED, S.FAILED: S.FAILED},
    Action.REMOVE: {S.STASHED: S.STASHED, S.FAILED: S.FAILED},
    Action.SUBMIT: {S.STASHED: S.QUEUED, S.FAILED: S.QUEUED},
    Action.RESET: {S.QUEUED: S.STASHED, S.FAILED: S.STASHED},
    Action.ABORT: {S.QUEUED: S.FAILED, S.RUNNING: S.FAILED},
    Action.CLAIM: {S.QUEUED: S.RUNNING},
    Action.FINISH: {S.RUNNING: S.DONE},
    Action.FAIL: {S.RUNNING: S.FAILED},
    Action.SPAWN: {S.RUNNING: S.STAND_BY},
    Action.REQUEUE: {S.RUNNING: S.QUEUED},
    Action.RETRY: {S.RUNNING: S.QUEUED},
    Action.SUBJOBS_ACTIVE: {S.STAND_BY: S.STAND_BY, S.FAILED: S.STAND_BY, S.QUEUED: S.STAND_BY},
    Action.SUBJOBS_DONE: {S.STAND_BY: S.QUEUED, S.FAILED: S.QUEUED, S.QUEUED: S.QUEUED},
    Action.SUBJOBS_FAILED: {S.STAND_BY: S.FAILED, S.FAILED: S.FAILED, S.QUEUED: S.FAILED},
}

#: Statuses from which a superjob's recursive submit/abort is accepted (it acts on its subjobs).
SUPERJOB_SUBMITTABLE = frozenset({S.STAND_BY, S.FAILED, S.STASHED})
SUPERJOB_ABORTABLE = frozenset({S.STAND_BY, S.QUEUED, S.RUNNING})


def blocks_children(status: Status, blocking_parents: int) -> bool:
    """Whether a job in `status` with `blocking_parents` keeps its QUEUED children BLOCKED."""
    return status is S.FAILED or (status is S.QUEUED and blocking_parents > 0)


def allowed_from(action: Action) -> tuple[Status, ...]:
    """The statuses from which `action` is allowed."""
    return tuple(TRANSITIONS[action])


def next_status(job_id: int, status: Status, action: Action) -> Status:
    """The status `action` leads to from `status`, or `InvalidTransition` naming what is allowed."""
    target = TRANSITIONS[action].get(status)
    if target is None:
        allowed = tuple(s.value for s in allowed_from(action))
        raise InvalidTransition(job_id, status.value, action.value, allowed)
    return target


@dataclass(frozen=True)
class SubjobCounts:
    """How many direct subjobs a superjob has, and how many of them are DONE or FAILED."""

    total: int = 0
    done: int = 0
    failed: int = 0

    @property
    def active(self) -> int:
        return self.total - self.done - self.failed


def derivation(counts: SubjobCounts) -> Action | None:
    """The derivation a superjob follows given its subjobs (inventory §2.2), or None for a leaf.

    All DONE → the epilog must run (QUEUED); only DONE and FAILED → FAILED; otherwise STAND-BY.
    """
    if counts.total == 0:
        return None
    if counts.done == counts.total:
        return Action.SUBJOBS_DONE
    if counts.active == 0:
        return Action.SUBJOBS_FAILED
    return Action.SUBJOBS_ACTIVE


def bucket_deltas(old: Status | None, new: Status | None) -> SubjobCounts:
    """How a subjob moving from `old` to `new` (None = absent) changes its superjob's counts."""

    def weight(status: Status | None) -> tuple[int, int, int]:
        if status is None:
            return (0, 0, 0)
        return (1, int(status is S.DONE), int(status is S.FAILED))

    before, after = weight(old), weight(new)
    return SubjobCounts(*(a - b for a, b in zip(after, before, strict=True)))
