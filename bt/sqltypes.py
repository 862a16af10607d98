"""Column types and SQL expressions that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal

UTC = dt.UTC


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on both databases (SQLite stores it as naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a timezone-aware value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class db_now(FunctionElement[dt.datetime]):
    """The database server's current UTC time, optionally shifted by `seconds`.

    Every timestamp brownthrower writes comes from the database clock, so runners on hosts whose
    clocks drift still agree on leases and ordering.
    """

    type = UTCDateTime()
    inherit_cache = True
    name = "db_now"
    #: `seconds` is rendered into the SQL, so it must be part of the compiled-statement cache
    #: key: without it, every shift would reuse the SQL compiled for the first one
    _traverse_internals = [
        *FunctionElement._traverse_internals,
        ("seconds", InternalTraversal.dp_plain_obj),
    ]

    def __init__(self, seconds: float = 0.0) -> None:
        super().__init__()
        self.seconds = float(seconds)


@compiles(db_now, "postgresql")
def _pg_now(element: db_now, compiler: SQLCompiler, **kw: Any) -> str:
    if element.seconds:
        return f"(now() + make_interval(secs => {element.seconds!r}))"
    return "now()"


@compiles(db_now, "sqlite")
def _sqlite_now(element: db_now, compiler: SQLCompiler, **kw: Any) -> str:
    shift = f", '{element.seconds:+f} seconds'" if element.seconds else ""
    # SQLAlchemy stores SQLite datetimes with six fractional digits; %f gives three.
    return f"(strftime('%Y-%m-%d %H:%M:%f', 'now'{shift}) || '000')"
