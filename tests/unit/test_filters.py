from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.dialects import sqlite

from bt import errors
from bt.filters import glob_to_like, parse_term, parse_time


def sql(text: str) -> str:
    compiled = parse_term(text).condition.compile(
        dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}
    )
    return str(compiled)


def test_less_or_equal_is_understood() -> None:
    assert sql("id<=5") == "job.id <= 5"


def test_values_may_contain_dashes() -> None:
    assert sql("status=STAND-BY") == "job.status = 'STAND-BY'"


def test_status_values_are_case_insensitive() -> None:
    assert sql("status!=done") == "job.status != 'DONE'"


def test_name_globs_become_like_patterns() -> None:
    assert sql("name=catalog.*") == "job.name LIKE 'catalog.%' ESCAPE '\\'"


def test_globs_escape_like_wildcards() -> None:
    assert glob_to_like("a_b%*") == "a\\_b\\%%"


def test_none_selects_top_level_jobs() -> None:
    assert sql("super_id=none") == "job.super_id IS NULL"


def test_timestamps_accept_iso_dates_as_utc() -> None:
    assert parse_time("2026-11-26") == dt.datetime(2026, 11, 26, tzinfo=dt.UTC)


def test_a_term_without_operator_is_an_error_naming_it() -> None:
    with pytest.raises(errors.FilterError, match="Filter 'status' is not of the form"):
        parse_term("status")


def test_an_unknown_field_is_an_error_naming_it() -> None:
    with pytest.raises(errors.FilterError, match="unknown field 'colour'"):
        parse_term("colour=red")


def test_a_non_numeric_id_is_an_error() -> None:
    with pytest.raises(errors.FilterError, match="'abc' is not a whole number"):
        parse_term("id>abc")


def test_an_unknown_status_is_an_error() -> None:
    with pytest.raises(errors.FilterError, match="unknown status 'LATE'"):
        parse_term("status=LATE")


def test_none_needs_a_nullable_field() -> None:
    with pytest.raises(errors.FilterError, match="id is never empty"):
        parse_term("id=none")


def test_a_bad_timestamp_is_an_error() -> None:
    with pytest.raises(errors.FilterError, match="not an ISO date"):
        parse_term("created>yesterday")
