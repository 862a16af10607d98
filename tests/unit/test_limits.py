"""What a job may ask of a limit, checked before anything is written: names, units, `--limit`
values; and the LIMITED pseudo-status in the status tables."""

from __future__ import annotations

import pytest

from bt import errors
from bt.limitnames import check_name, checked_limits, parse_limit
from bt.status import LIMITED, QUEUED_PARTS


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("db", ("db", 1)),
        ("db:3", ("db", 3)),
        (" nfs.v2-a:10 ", ("nfs.v2-a", 10)),
        ("0x:1", ("0x", 1)),
    ],
)
def test_limit_values_are_a_name_and_units(text: str, parsed: tuple[str, int]) -> None:
    assert parse_limit(text) == parsed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("db:0", "from 1 to 1,000,000: 0"),
        ("db:x", "NAME or NAME:UNITS"),
        ("db:1:2", "NAME or NAME:UNITS"),
        (":2", "A limit name"),
        ("-db", "A limit name"),
        ("a b", "A limit name"),
        ("x" * 101, "A limit name"),
        ("db:2000000", "from 1 to"),
    ],
)
def test_bad_limit_values_are_refused(text: str, message: str) -> None:
    with pytest.raises(errors.InvalidValue, match=message):
        parse_limit(text)


def test_a_jobs_limits_are_checked_and_sorted() -> None:
    assert list(checked_limits({"nfs": 3, "db": 1})) == ["db", "nfs"]
    assert checked_limits(None) == {} == checked_limits({})
    with pytest.raises(errors.InvalidValue, match="of task 'sim'"):
        checked_limits({"db": 1.5}, "sim")  # type: ignore[dict-item]
    assert check_name("a" * 100) == "a" * 100


def test_limited_is_a_part_of_queued() -> None:
    assert QUEUED_PARTS[-1] == LIMITED == "LIMITED"


def test_an_unknown_limit_says_how_to_create_it() -> None:
    error = errors.LimitNotFound("catlog_db", ["catalog_db"])
    assert str(error) == (
        "Limit 'catlog_db' does not exist (limits: catalog_db); create it with "
        "`limit set catlog_db N`."
    )
    assert isinstance(error, errors.NotFound)
