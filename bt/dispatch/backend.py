"""The one small interface between the dispatcher and a batch system: submit, status, cancel.

A backend is built for one dispatcher: it marks every pilot it submits with that dispatcher's
pilot name, and `status()` lists only pilots carrying it — so the batch system itself, not the
dispatcher's memory, says which pilots exist, and a restarted dispatcher finds the ones it had.
States use Slurm's vocabulary (`PENDING`, `RUNNING`, `COMPLETED`, `FAILED`, `CANCELLED`, ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bt.errors import BrownthrowerError

#: States of a pilot that is queued or running: it counts towards the pilots the dispatcher keeps.
LIVE_STATES = frozenset(
    {
        "PENDING",
        "CONFIGURING",
        "RUNNING",
        "SUSPENDED",
        "REQUEUED",
        "REQUEUE_HOLD",
        "REQUEUE_FED",
        "RESIZING",
        "SIGNALING",
        "STOPPED",
        "STAGE_OUT",
        "RESV_DEL_HOLD",
    }
)
#: Not live any more, but the final state is still to come.
ENDING_STATES = frozenset({"COMPLETING"})
#: Final states that mean the pilot did not end well (worth a warning).
FAILED_STATES = frozenset(
    {"FAILED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE", "PREEMPTED"}
)


class BatchError(BrownthrowerError):
    """The batch system refused or failed a request."""


class AtCapacity(BatchError):
    """The batch system refused a submission for a quota (jobs per user, QOS): the target is
    full, not broken."""


@dataclass(frozen=True)
class Pilot:
    """One pilot as the batch system sees it."""

    batch_id: str
    state: str
    reason: str = ""
    elapsed: float | None = None  #: seconds it has run (or ran), when the batch system says

    @property
    def live(self) -> bool:
        """Queued or running (not ended, nor on its way out)."""
        return self.state in LIVE_STATES

    @property
    def final(self) -> bool:
        """Ended, with its final state known."""
        return not self.live and self.state not in ENDING_STATES

    @property
    def pending(self) -> bool:
        """Queued, not started yet (the first to go when there are too many)."""
        return self.state == "PENDING"


class Backend(Protocol):
    """A batch system holding one dispatcher's pilots."""

    #: What to show as the batch system on the screen (kind, partition, limits).
    description: str

    def submit(self, command: Sequence[str], env: Mapping[str, str]) -> str:
        """Start a pilot running `command` with `env` added to its environment; its batch id.

        `env` is where secrets travel (the database URL): it never reaches argv or a script.
        """
        ...

    def status(self) -> list[Pilot]:
        """This dispatcher's pilots: live ones and those that ended recently."""
        ...

    def cancel(self, batch_id: str) -> None:
        """Ask a pilot to stop (SIGTERM first: its runner hands its jobs back)."""
        ...

    def log(self, batch_id: str) -> Path | None:
        """Where the pilot's output (stdout and stderr) goes; None if this is not known."""
        ...
