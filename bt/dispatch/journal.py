"""A dispatcher's journal: what its passes saw and did, kept in its state directory.

The running dispatcher rewrites `dispatcher.json` after each pass (atomically); the shell's
`dispatcher status` reads it to show the demand, the backoff, recent submissions and failures
with their reasons, the last submission error and the tail of the last failed pilot's output;
a restarted dispatcher reads it back to keep its backoff. It holds no secret: pilot output is
already in the same directory, and the database URL never reaches it.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bt.dispatch.sizing import Demand, Sizing

FILE = "dispatcher.json"
KEEP = 10  #: recent submissions and failures kept


@dataclass(frozen=True)
class Entry:
    """Something that happened at `at` (seconds since the epoch)."""

    at: float
    text: str


@dataclass(frozen=True)
class FailedPilot:
    """The last pilot that failed, with the end of its output."""

    batch_id: str
    at: float
    text: str
    tail: list[str]


@dataclass
class Journal:
    """The latest state of one dispatcher, as its passes recorded it."""

    dispatcher_id: str = ""
    updated: float | None = None  #: when the last pass ended
    mode: str = ""
    demand: Demand | None = None  #: on-demand: the last pass's demand
    sizing: Sizing | None = None
    lookahead: bool = True  #: whether soon-runnable work was counted
    backoff: dict[str, Any] = field(default_factory=dict)  #: `Backoff.to_dict()`
    capacity: Entry | None = None  #: the last refusal for a quota
    submit_error: Entry | None = None  #: the last failed submission
    failed_pilot: FailedPilot | None = None
    submissions: list[Entry] = field(default_factory=list)  #: recent, oldest first
    failures: list[Entry] = field(default_factory=list)  #: recent, oldest first
    pilots: list[str] = field(default_factory=list)  #: live pilots' batch ids at the last pass

    def submitted(self, at: float, batch_id: str) -> None:
        self.submissions = [*self.submissions, Entry(at, batch_id)][-KEEP:]

    def failed(self, at: float, text: str) -> None:
        self.failures = [*self.failures, Entry(at, text)][-KEEP:]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Journal:
        """The journal `to_dict` wrote (unknown keys ignored, missing ones defaulted)."""
        failed = data.get("failed_pilot")
        return cls(
            dispatcher_id=str(data.get("dispatcher_id", "")),
            updated=data.get("updated"),
            mode=str(data.get("mode", "")),
            demand=Demand(**data["demand"]) if data.get("demand") else None,
            sizing=Sizing(**data["sizing"]) if data.get("sizing") else None,
            lookahead=bool(data.get("lookahead", True)),
            backoff=dict(data.get("backoff") or {}),
            capacity=_entry(data.get("capacity")),
            submit_error=_entry(data.get("submit_error")),
            failed_pilot=FailedPilot(**failed) if failed else None,
            submissions=[Entry(**e) for e in data.get("submissions", [])],
            failures=[Entry(**e) for e in data.get("failures", [])],
            pilots=[str(p) for p in data.get("pilots", [])],
        )


def _entry(data: dict[str, Any] | None) -> Entry | None:
    return Entry(**data) if data else None


def load(directory: Path) -> Journal | None:
    """The journal in a dispatcher's state directory; None if there is none (or unreadable)."""
    try:
        data = json.loads((directory / FILE).read_text())
        return Journal.from_dict(data)
    except (OSError, ValueError, TypeError, KeyError):
        return None


def save(directory: Path, journal: Journal) -> None:
    """Write the journal atomically (readers never see half of it)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / FILE
    temporary = path.with_name(f".{FILE}.{os.getpid()}")
    try:
        temporary.write_text(json.dumps(journal.to_dict(), indent=1))
        temporary.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
