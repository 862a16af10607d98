"""How driver errors become brownthrower errors (and which ones are retried)."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import OperationalError

from bt import errors
from bt.db import classify


def driver_error(message: str) -> OperationalError:
    return OperationalError("UPDATE job ...", {}, sqlite3.OperationalError(message))


def test_a_busy_sqlite_database_is_contention_and_retried() -> None:
    assert isinstance(classify(driver_error("database is locked"), "x.db"), errors.Contention)


def test_other_operational_errors_name_the_database() -> None:
    error = classify(driver_error("unable to open database file"), "sqlite:///x.db")
    assert isinstance(error, errors.DatabaseUnavailable)
    assert "sqlite:///x.db" in str(error)
