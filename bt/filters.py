"""The `job list` filter language, parsed here so every front end shares it.

A filter is one or more terms `field op value`, all of which must hold. Fields: id, super_id,
name, status, priority, attempts, created, queued, started, ended. Operators: = != < <= > >=.
Values may contain any character but spaces (`status=STAND-BY`, `name=catalog.v2-*`); status also
takes RUNNABLE (QUEUED, every parent DONE), BLOCKED (QUEUED behind a failed parent), WAITING
(QUEUED until its retry delay has passed) and LIMITED (runnable but for a concurrency limit
without room; RUNNABLE leaves those out). Names take
globs (`*`, `?`) with = and !=. `none` matches an empty field (`super_id=none` for top-level jobs,
`ended=none`). Timestamps are ISO dates or datetimes, in UTC unless they say otherwise.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, text, true
from sqlalchemy.orm import InstrumentedAttribute

from bt.errors import FilterError
from bt.models import BLOCKED_SQL, LIMITED_SQL, OVER_LIMIT_SQL, RUNNABLE_SQL, Job
from bt.status import BLOCKED, LIMITED, RUNNABLE, WAITING, Status

TERM = re.compile(r"^(?P<field>[a-z_]+)\s*(?P<op><=|>=|!=|=|<|>)\s*(?P<value>\S+)$")
OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
INTEGER_FIELDS = {
    "id": Job.id,
    "super_id": Job.super_id,
    "priority": Job.priority,
    "attempts": Job.attempts,
}
TIME_FIELDS = {
    "created": Job.ts_created,
    "queued": Job.ts_queued,
    "started": Job.ts_started,
    "ended": Job.ts_ended,
}
FIELDS = (*INTEGER_FIELDS, "name", "status", *TIME_FIELDS)
NULLABLE = {"super_id", "queued", "started", "ended"}


@dataclass(frozen=True)
class Term:
    """One parsed `field op value` term."""

    field: str
    op: str
    value: str
    condition: ColumnElement[bool]


def parse(terms: Iterable[str]) -> list[Term]:
    """Parse every term; the first malformed one raises `FilterError` naming it."""
    return [parse_term(text) for text in terms if text.strip()]


def condition(terms: Sequence[str]) -> ColumnElement[bool]:
    """The SQL condition of all `terms` together (true when there are none)."""
    return all_of(parse(terms))


def all_of(parsed: Iterable[Term]) -> ColumnElement[bool]:
    """The SQL condition of all parsed terms together (true when there are none)."""
    return and_(true(), *(term.condition for term in parsed))


def name_terms(parsed: Sequence[Term]) -> list[Term]:
    """The terms on the task name."""
    return [term for term in parsed if term.field == "name"]


def name_condition(term: Term, column: Any) -> ColumnElement[bool]:
    """A name term's condition on another column holding names (a list of task names)."""
    return _name_condition(term.op, term.value, column)


def exact_names(parsed: Sequence[Term]) -> list[str] | None:
    """The one name the name terms allow when they are all `name=` without a glob ([] when
    they differ, or when there are none); None when any needs the database to match (a glob,
    !=, <, ...)."""
    terms = name_terms(parsed)
    if any(term.op != "=" or is_glob(term.value) for term in terms):
        return None
    values = {term.value for term in terms}
    return list(values) if len(values) == 1 else []


def allowed_statuses(parsed: Sequence[Term]) -> list[Status] | None:
    """The statuses the status terms allow together (all of them without a status term), in
    order; None when a term is not `=` or `!=` of a real status (a pseudo-status, an order)."""
    allowed = set(Status)
    for term in parsed:
        if term.field != "status":
            continue
        if term.op not in ("=", "!=") or term.value.strip().upper() in PSEUDO_STATUSES:
            return None
        status = Status.parse(term.value)
        allowed &= {status} if term.op == "=" else set(Status) - {status}
    return [status for status in Status if status in allowed]


def id_range(parsed: Sequence[Term], low: int, high: int) -> tuple[int, int]:
    """`low < id <= high` narrowed by every term that `bounds_ids`."""
    for term in filter(bounds_ids, parsed):
        value = int(term.value)
        if term.op in ("=", "<", "<="):
            high = min(high, value - 1 if term.op == "<" else value)
        if term.op in ("=", ">", ">="):
            low = max(low, value if term.op == ">" else value - 1)
    return low, high


def bounds_ids(term: Term) -> bool:
    """Whether the term bounds a range of ids (id terms but `!=`)."""
    return term.field == "id" and term.op != "!="


def parse_term(text: str) -> Term:
    match = TERM.match(text.strip())
    if match is None:
        raise FilterError(
            f"Filter {text!r} is not of the form field<op>value, e.g. status=QUEUED or id>=10 "
            f"(fields: {', '.join(FIELDS)}; operators: {' '.join(OPERATORS)})."
        )
    field, op, value = match["field"], match["op"], match["value"]
    if field not in FIELDS:
        raise FilterError(
            f"Filter {text!r}: unknown field {field!r} (fields: {', '.join(FIELDS)})."
        )
    try:
        return Term(field, op, value, _condition(field, op, value))
    except ValueError as exc:
        raise FilterError(f"Filter {text!r}: {exc}.") from exc


def _condition(field: str, op: str, value: str) -> ColumnElement[bool]:
    if value.lower() in ("none", "null"):
        return _null_condition(field, op, column(field))
    if field == "name":
        return _name_condition(op, value)
    if field == "status":
        return _status_condition(op, value)
    parsed = _integer(value) if field in INTEGER_FIELDS else parse_time(value)
    return OPERATORS[op](column(field), parsed)  # type: ignore[no-any-return]


#: a job WAITING for its retry: the literal predicate of `ix_job_not_before`, and QUEUED
WAITING_SQL = "not_before IS NOT NULL AND status = 'QUEUED'"
#: pseudo-statuses a filter accepts, as the literal predicates of their partial indexes (and,
#: for the LIMITED part of the runnable index and the rest of it, whether a limit has room)
PSEUDO_STATUSES = {
    RUNNABLE: f"{RUNNABLE_SQL} AND NOT ({OVER_LIMIT_SQL})",
    BLOCKED: BLOCKED_SQL,
    WAITING: WAITING_SQL,
    LIMITED: LIMITED_SQL,
}


def _status_condition(op: str, value: str) -> ColumnElement[bool]:
    """`status=QUEUED`, and the pseudo-statuses `status=RUNNABLE`, `BLOCKED`, `WAITING` and
    `LIMITED`."""
    pseudo = PSEUDO_STATUSES.get(value.strip().upper())
    if pseudo is None:
        return OPERATORS[op](Job.status, Status.parse(value))  # type: ignore[no-any-return]
    if op not in ("=", "!="):
        raise ValueError(f"{value.upper()} takes = or !=, not {op}")
    # `not_` cannot negate a text clause: the negation is written out
    return text(pseudo if op == "=" else f"NOT ({pseudo})")  # type: ignore[return-value]


def column(field: str) -> InstrumentedAttribute[Any]:
    """The column of a field of `FIELDS`."""
    if field in INTEGER_FIELDS:
        return INTEGER_FIELDS[field]
    if field in TIME_FIELDS:
        return TIME_FIELDS[field]
    return Job.name if field == "name" else Job.status


def _null_condition(field: str, op: str, column: Any) -> ColumnElement[bool]:
    if field not in NULLABLE:
        raise ValueError(f"{field} is never empty")
    if op not in ("=", "!="):
        raise ValueError("only = and != compare with none")
    return column.is_(None) if op == "=" else column.is_not(None)  # type: ignore[no-any-return]


def _name_condition(op: str, value: str, column: Any = Job.name) -> ColumnElement[bool]:
    if not is_glob(value):
        return OPERATORS[op](column, value)  # type: ignore[no-any-return]
    if op not in ("=", "!="):
        raise ValueError("globs work with = and != only")
    pattern = glob_to_like(value)
    like = column.like(pattern, escape="\\")
    return like if op == "=" else ~like  # type: ignore[no-any-return]


def is_glob(value: str) -> bool:
    return "*" in value or "?" in value


def glob_to_like(glob: str) -> str:
    """A glob (`*`, `?`) as a LIKE pattern with `\\` escaping LIKE's own wildcards."""
    escaped = glob.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def _integer(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a whole number") from None


def parse_time(value: str) -> dt.datetime:
    """An ISO date or datetime; naive values are UTC."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not an ISO date or datetime (e.g. 2026-11-26T10:30)"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
