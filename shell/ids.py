"""Job id arguments: `12`, ranges `10-20`, several at once (`job submit 10-20 25`), and the
`job list` filter terms that select jobs in bulk (`job submit status=FAILED name=sim_*`).

Ids are 1 to 2^31-1 (the id column is 32 bits on PostgreSQL): a larger one names no job and is
refused as such before any database sees it. `bt.filters` (which builds SQL, so brings
SQLAlchemy) is imported when a filter term is first checked, not when the shell starts.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bt import errors
from bt.status import QUEUED_PARTS, Status
from shell.core import did_you_mean

MAX_ID = 2**31 - 1  #: the largest job id
MAX_RANGE = 100_000  #: ids one range may name (a typo like 1-10000000 should not hang the shell)
MAX_TERMS = 100  #: filter terms in one command (SQLite refuses very deep expressions)
_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")
_STATUSES = (*(s.value for s in Status), *QUEUED_PARTS)


def job_id(text: str) -> int:
    """An argparse `type`: one job id; `JobNotFound` for a whole number beyond the largest."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a job id (a positive whole number)")
    return _existing(int(text))


def _existing(number: int) -> int:
    if number > MAX_ID:
        raise errors.JobNotFound(number)
    return number


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
    _existing(last)
    return list(range(first, last + 1))


def selector(text: str) -> list[int] | str:
    """An argparse `type`: an id or range (its ids), or a filter term (checked, as text)."""
    from bt import filters

    if _RANGE.match(text.strip()):
        return id_range(text)
    if not filters.TERM.match(text.strip()):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a job id, a range like 10-20 or a filter like status=FAILED"
        )
    check_terms([text])
    return text


def check_terms(terms: Sequence[str]) -> None:
    """`FilterError` for too many terms, a malformed one (with a "did you mean" for a misspelt
    field or status) or a whole number no id column holds."""
    from bt import filters

    if len(terms) > MAX_TERMS:
        raise errors.FilterError(f"A filter has at most {MAX_TERMS} terms, not {len(terms):,}.")
    for term in terms:
        match = filters.TERM.match(term.strip())
        try:
            filters.parse_term(term)
        except errors.FilterError as exc:
            raise errors.FilterError(f"{exc}{_hint(match)}") from None
        if match and match["field"] in filters.INTEGER_FIELDS:
            _check_integer(term, match["value"])


def _check_integer(term: str, value: str) -> None:
    if value.lstrip("-").isdigit() and abs(int(value)) > MAX_ID:
        raise errors.FilterError(f"Filter {term!r}: {value} is beyond {MAX_ID:,}.")


def _hint(match: re.Match[str] | None) -> str:
    from bt import filters

    if match is None:
        return ""
    if match["field"] not in filters.FIELDS:
        return did_you_mean(match["field"], filters.FIELDS)
    if match["field"] == "status":
        return did_you_mean(match["value"].upper(), _STATUSES)
    return ""


@dataclass(frozen=True)
class Selection:
    """What the id arguments of a bulk command name: explicit ids and filter terms."""

    ids: list[int]
    terms: list[str]

    @classmethod
    def of(cls, arguments: Iterable[list[int] | str]) -> Selection:
        groups = list(arguments)
        terms = [a for a in groups if isinstance(a, str)]
        check_terms(terms)
        return cls(flatten(a for a in groups if not isinstance(a, str)), terms)


def ranges(numbers: Iterable[int]) -> str:
    """Ids as commands take them, runs joined: `3-7 9 12-13`."""
    runs: list[list[int]] = []
    for number in sorted(set(numbers)):
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return " ".join(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs)


def flatten(groups: Iterable[Iterable[int]]) -> list[int]:
    """The ids of several arguments, in order, each once."""
    return list(dict.fromkeys(i for group in groups for i in group))
