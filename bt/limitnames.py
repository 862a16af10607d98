"""Limit names and units: what a job may ask of a concurrency limit, checked before anything
is written (`bt.limits` does the rest).

Free of SQLAlchemy, so the shell parses `--limit NAME[:UNITS]` without loading the database
layer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bt import errors

NAME_LENGTH = 100  #: characters in a limit's name (as in a task's)
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")  #: a limit's name: no spaces, no `:`
MAX_UNITS = 1_000_000  #: the most units of one limit a job may hold
MAX_CAPACITY = 1_000_000_000  #: the largest capacity


def check_name(name: str) -> str:
    """`name` if it may name a limit; `InvalidValue` otherwise."""
    if not isinstance(name, str) or len(name) > NAME_LENGTH or not NAME.fullmatch(name):
        raise errors.InvalidValue(
            f"A limit name has 1 to {NAME_LENGTH} letters, digits, '_', '.' or '-', starting "
            f"with a letter or digit: {name!r}."
        )
    return name


def checked_limits(limits: Mapping[str, int] | None, task: str = "") -> dict[str, int]:
    """The units of each limit a job holds, checked and sorted by name (empty for none)."""
    checked: dict[str, int] = {}
    for name, units in sorted((limits or {}).items()):
        check_name(name)
        if isinstance(units, bool) or not isinstance(units, int) or not 1 <= units <= MAX_UNITS:
            of = f" of task {task!r}" if task else ""
            raise errors.InvalidValue(
                f"The units of limit {name!r}{of} must be a whole number from 1 to "
                f"{MAX_UNITS:,}: {units!r}."
            )
        checked[name] = units
    return checked


def parse_limit(text: str) -> tuple[str, int]:
    """`NAME` (one unit) or `NAME:UNITS`, as `job create --limit` takes them."""
    name, _, units = text.strip().partition(":")
    if not units:
        return check_name(name), 1
    try:
        count = int(units)
    except ValueError:
        raise errors.InvalidValue(
            f"Expected NAME or NAME:UNITS with UNITS a whole number: {text!r}."
        ) from None
    return name, checked_limits({check_name(name): count})[name]
