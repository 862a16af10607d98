"""The dispatchers page: what each dispatcher's journal in this user's state directory says.

A dispatcher keeps no row in the database: its last pass is recorded in `dispatcher.json` in
its state directory (`bt.dispatch.journal`), `<user state dir>/dispatchers/<id>/`, or the
directory a pointer there names (`bt.dispatch.statedir`). This page reads those journals only:
it asks no batch system and changes nothing, so it shows dispatchers run by this user on this
machine (or a shared file system) and nothing when there are none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from bt.dispatch import journal, statedir
from bt.dispatch.options import state_dir

MAX_DISPATCHERS = 50  #: journals read at most


@dataclass(frozen=True)
class DispatcherView:
    """One dispatcher's journal and where it was found."""

    ident: str
    directory: Path
    record: journal.Journal

    @property
    def updated(self) -> dt.datetime | None:
        at = self.record.updated
        return None if at is None else dt.datetime.fromtimestamp(at, dt.UTC)


def base_dir() -> Path:
    """Where dispatchers keep their state by default (the parent of every `<id>`)."""
    return state_dir("x").parent


def dispatchers(base: Path | None = None) -> list[DispatcherView]:
    """Every dispatcher with a journal under `base` (default: `base_dir()`), by id."""
    base = base or base_dir()
    try:
        idents = sorted(p.name for p in base.iterdir() if p.is_dir())[:MAX_DISPATCHERS]
    except OSError:
        return []
    found = []
    for ident in idents:
        override = statedir.recorded(ident) if base == base_dir() else None
        directory = state_dir(ident, override) if override else base / ident
        recorded = journal.load(directory)
        if recorded is not None:
            found.append(DispatcherView(ident, directory, recorded))
    return found


def when(seconds: float | None) -> dt.datetime | None:
    """A journal time (seconds since the epoch) as a UTC datetime."""
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, dt.UTC)
