"""Job id arguments: `12`, ranges `10-20`, several at once (`job submit 10-20 25`)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable

MAX_RANGE = 100_000  #: ids one range may name (a typo like 1-10000000 should not hang the shell)
_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


def job_id(text: str) -> int:
    """An argparse `type`: one positive job id."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a job id (a positive whole number)")
    return int(text)


def id_range(text: str) -> list[int]:
    """An argparse `type`: `N` or `N-M` as the list of ids it names."""
    match = _RANGE.match(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a job id or a range like 10-20")
    first = int(match[1])
    last = int(match[2]) if match[2] else first
    if first < 1 or last < first:
        raise argparse.ArgumentTypeError(f"{text!r} is not a range of positive ids, low-high")
    if last - first >= MAX_RANGE:
        raise argparse.ArgumentTypeError(f"{text!r} names more than {MAX_RANGE:,} jobs")
    return list(range(first, last + 1))


def flatten(groups: Iterable[Iterable[int]]) -> list[int]:
    """The ids of several arguments, in order, each once."""
    return list(dict.fromkeys(i for group in groups for i in group))
