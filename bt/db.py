"""The database layer: engines for SQLite and PostgreSQL, short transactions, retries, wrapping.

Every write is one short transaction run by `Database.write`, which retries it with jittered
exponential backoff on serialization failures, deadlocks and SQLite busy errors, and turns driver
errors into `bt.errors.StoreError` subclasses.

On PostgreSQL every connection has a connect timeout, TCP keepalives and `TCP_USER_TIMEOUT`, so
a connection whose packets are black-holed fails within `io_timeout` instead of hanging for the
kernel's quarter of an hour. A daemon (`single=True`: runner, dispatcher) holds one connection
that all its threads take turns on, with a statement timeout. Pooled mode (`pooled=True`, for
PgBouncer in transaction mode) disables psycopg's prepared statements and sets nothing at the
session level.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import create_engine, event, make_url
from sqlalchemy.engine import Connection, CursorResult, Engine, Result
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bt import errors
from bt.config import default_data_dir, mask_url
from bt.notify import send_pending

log = logging.getLogger(__name__)

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT = 5.0  #: seconds SQLite waits for a lock before our own retry takes over
MAX_ATTEMPTS = 8  #: tries of one write transaction before `Contention` gets through
BACKOFF_BASE = 0.02  #: seconds; doubled on every retry, with full jitter
RETRYABLE_SQLSTATES = {"40001", "40P01"}  #: serialization failure, deadlock detected
DISCONNECT_SQLSTATE_CLASS = "08"  #: connection exceptions
IO_TIMEOUT = 15.0  #: seconds a PostgreSQL connection may go unanswered before it is dropped
CONNECT_TIMEOUT = 10  #: seconds to establish a PostgreSQL connection
STATEMENT_TIMEOUT = 120  #: seconds a daemon's statement may run (direct connections only)
POOL_WAIT = 300.0  #: seconds a thread waits for the shared connection before giving up
#: what PostgreSQL says when it has no connection slot for a client (SQLSTATE 53300)
TOO_MANY_CLIENTS = ("too many clients", "remaining connection slots", "too many connections")
FARM_HINT = (
    "the server has no connection slot left: run pilots through PgBouncer in pooled mode "
    "(BT_DATABASE_POOLED=1; see 'Running a farm' in the README) or raise max_connections"
)


class Database:
    """One database, opened from a URL: sessions for reads, retried transactions for writes."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pooled: bool = False,
        single: bool = False,
        io_timeout: float = IO_TIMEOUT,
        program: str = "brownthrower",
    ) -> None:
        self.url = url
        self.masked_url = mask_url(url)
        self.dialect = make_url(url).get_backend_name()
        self.pooled = pooled and self.dialect == "postgresql"  #: through PgBouncer: no LISTEN
        self.single = single  #: one connection shared by every thread (a daemon)
        self.engine = _create_engine(
            url, echo=echo, pooled=pooled, single=single, io_timeout=io_timeout, program=program
        )
        write_engine: Engine = self.engine
        if self.is_sqlite:
            write_engine = self.engine.execution_options(bt_write=True)
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(write_engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_postgresql(self) -> bool:
        return self.dialect == "postgresql"

    @property
    def listens(self) -> bool:
        """Whether LISTEN/NOTIFY can wake this process (PostgreSQL, not through a pooler)."""
        return self.is_postgresql and not self.pooled

    def dispose(self) -> None:
        """Close every pooled connection (call after fork, and when done)."""
        self.engine.dispose()

    def release(self) -> None:
        """Close the connections not in use now, so that an idle process holds none (the
        shell between commands); the next use connects again."""
        self.engine.pool.dispose()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; its transaction ends (rolled back) when the block ends."""
        with wrap_errors(self.masked_url), self._reader() as session:
            yield session

    def write(self, operation: Callable[[Session], T], *, attempts: int = MAX_ATTEMPTS) -> T:
        """Run `operation` in one write transaction, retrying it on transient conflicts.

        `operation` may run several times, so it must only touch the database through the session.
        """
        for attempt in range(1, attempts + 1):
            try:
                return self._write_once(operation)
            except (errors.Contention, errors.Disconnected) as exc:
                if not _worth_retrying(exc, attempt, attempts):
                    raise
                delay = random.uniform(0, BACKOFF_BASE * 2**attempt)
                log.debug("write conflict, retry %d in %.3fs", attempt, delay)
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _write_once(self, operation: Callable[[Session], T]) -> T:
        with wrap_errors(self.masked_url), self._writer() as session, session.begin():
            result = operation(session)
            send_pending(session, is_postgresql=self.is_postgresql)
            return result


def _worth_retrying(exc: errors.StoreError, attempt: int, attempts: int) -> bool:
    """Contention is retried up to `attempts` times, a lost connection once."""
    if attempt == attempts:
        return False
    return not (isinstance(exc, errors.Disconnected) and attempt > 1)


def _create_engine(
    url: str, *, echo: bool, pooled: bool, single: bool, io_timeout: float, program: str
) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT}, pool_pre_ping=False
        )
        if parsed.database and parsed.database != ":memory:":
            _make_directory(engine, Path(parsed.database).expanduser().parent, mask_url(url))
        _configure_sqlite(engine)
        return engine
    # A daemon's one connection is never checked before use (its idle polls would double):
    # its writes are retried once on a dead connection and its reads on the next poll.
    return create_engine(
        url,
        echo=echo,
        connect_args={
            "application_name": program,
            **postgresql_connect_args(pooled=pooled, single=single, io_timeout=io_timeout),
        },
        pool_pre_ping=not single,
        pool_size=1 if single else 2,
        max_overflow=0 if single else 4,
        pool_timeout=POOL_WAIT,
    )


def postgresql_connect_args(*, pooled: bool, single: bool, io_timeout: float) -> dict[str, Any]:
    """psycopg's connection arguments: timeouts and keepalives that notice a dead or
    black-holed peer within about `io_timeout` seconds; no prepared statements when pooled;
    a statement timeout for a daemon's direct connection (a pooler refuses startup options)."""
    args: dict[str, Any] = {
        "connect_timeout": CONNECT_TIMEOUT,
        "keepalives": 1,
        "keepalives_idle": max(1, round(io_timeout / 3)),
        "keepalives_interval": max(1, round(io_timeout / 6)),
        "keepalives_count": 3,
        "tcp_user_timeout": max(1000, round(io_timeout * 1000)),
    }
    if pooled:
        args["prepare_threshold"] = None
    elif single:
        args["options"] = f"-c statement_timeout={STATEMENT_TIMEOUT * 1000}"
    return args


def _make_directory(engine: Engine, directory: Path, where: str) -> None:
    """The SQLite file's directory: the embedded default's data directory is created if
    missing; any other must exist when connecting (a typo in a given URL must not create
    directories and an empty database). `DatabaseUnavailable` otherwise."""
    if directory == default_data_dir() and not directory.is_dir():
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise errors.DatabaseUnavailable(
                f"Cannot use the database {where}: cannot create {directory} ({exc.strerror})."
            ) from exc

    @event.listens_for(engine, "do_connect")
    def check(*_args: Any) -> None:
        if not directory.is_dir():
            raise errors.DatabaseUnavailable(
                f"Cannot use the database {where}: the directory {directory} does not exist."
            )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        writer = connection.get_execution_options().get("bt_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


@contextmanager
def wrap_errors(where: str) -> Iterator[None]:
    """Re-raise driver errors as `StoreError`s a user can act on; the original is the cause."""
    try:
        yield
    except errors.BrownthrowerError:
        raise
    except SQLAlchemyError as exc:
        raise classify(exc, where) from exc


def classify(exc: SQLAlchemyError, where: str) -> errors.StoreError:
    """The `StoreError` that explains a driver error."""
    detail = errors.first_line(getattr(exc, "orig", None) or exc)
    if _is_retryable(exc):
        return errors.Contention(f"Another client kept changing the same jobs ({detail}).")
    if isinstance(exc, IntegrityError):
        return errors.StoreError(f"The database refused the change: {detail}")
    if isinstance(exc, DBAPIError) and (exc.connection_invalidated or _is_disconnect(exc)):
        return errors.Disconnected(f"Lost the connection to {where}: {detail}")
    if isinstance(exc, OperationalError) and _no_slot(exc, detail):
        return errors.DatabaseUnavailable(f"Cannot use the database {where}: {FARM_HINT}.")
    if isinstance(exc, OperationalError):
        return errors.DatabaseUnavailable(f"Cannot use the database {where}: {detail}")
    return errors.StoreError(f"Database error on {where}: {detail}")


def _no_slot(exc: SQLAlchemyError, detail: str) -> bool:
    """Whether the server refused the connection for want of a free slot."""
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return sqlstate == "53300" or any(message in detail for message in TOO_MANY_CLIENTS)


def _is_retryable(exc: SQLAlchemyError) -> bool:
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in RETRYABLE_SQLSTATES:
        return True
    message = str(orig or "").lower()
    return isinstance(exc, OperationalError) and (
        "database is locked" in message or "database is busy" in message
    )


def _is_disconnect(exc: DBAPIError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    return sqlstate.startswith(DISCONNECT_SQLSTATE_CLASS)


def affected(result: Result[Any]) -> int:
    """Rows changed by an UPDATE or DELETE executed through a session."""
    return cast(CursorResult[Any], result).rowcount
