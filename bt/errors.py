"""The errors brownthrower raises: one small hierarchy whose messages a user can act on.

Every error's class docstring is its default message. Driver errors (SQLAlchemy, psycopg, sqlite3)
never escape the library: `bt.db` wraps them into `StoreError` subclasses, keeping the original
as ``__cause__``.
"""

from __future__ import annotations


class BrownthrowerError(Exception):
    """Something went wrong in brownthrower."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())

    @property
    def message(self) -> str:
        return str(self)


class ConfigError(BrownthrowerError):
    """The configuration is not valid."""


class StoreError(BrownthrowerError):
    """The database refused the operation."""


class DatabaseUnavailable(StoreError):
    """The database cannot be reached; check the URL and that the server is running."""


class Disconnected(DatabaseUnavailable):
    """The connection to the database was lost; a write is retried once on a new connection."""


class ConflictError(StoreError):
    """Another client changed the same jobs at the same time."""


class Contention(ConflictError):
    """Another client kept changing the same jobs; the operation was retried and then given up.

    Raised for serialization failures, deadlocks and SQLite busy errors: `Database.write` retries
    these with backoff before letting the last one through.
    """


class ChangedMeanwhile(ConflictError):
    """Another client changed the job while it was being edited; nothing was overwritten.

    Never retried: the user must look at the new value first.
    """


class SchemaError(StoreError):
    """The database schema is not at the version this brownthrower needs; run `db upgrade`."""


class NotFound(BrownthrowerError):
    """The requested object does not exist."""


class JobNotFound(NotFound):
    """The specified job does not exist."""

    def __init__(self, job_id: int) -> None:
        super().__init__(f"Job {job_id} does not exist.")
        self.job_id = job_id


class TaskNotFound(NotFound):
    """The task is not available in this environment."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Task '{name}' is not available in this environment.")
        self.name = name


class LimitNotFound(NotFound):
    """The concurrency limit does not exist: create it first (`limit set NAME N`)."""

    def __init__(self, name: str, known: list[str] | None = None) -> None:
        listed = f" (limits: {', '.join(known)})" if known else " (there are no limits yet)"
        super().__init__(
            f"Limit '{name}' does not exist{listed}; create it with `limit set {name} N`."
        )
        self.name = name
        self.known = known or []


class PluginLoadError(BrownthrowerError):
    """A task plugin could not be loaded."""


class InvalidTransition(BrownthrowerError):
    """The operation is not allowed in the job's current status."""

    def __init__(self, job_id: int, status: str, action: str, allowed: tuple[str, ...]) -> None:
        where = ", ".join(allowed) if allowed else "no status"
        super().__init__(f"Job {job_id} cannot {action} while {status} (allowed from: {where}).")
        self.job_id = job_id
        self.status = status
        self.action = action


class InvalidOperation(BrownthrowerError):
    """The operation is not allowed on this job."""


class DependencyError(InvalidOperation):
    """The dependency cannot be created or removed."""


class InvalidValue(BrownthrowerError):
    """A value given to brownthrower is not valid."""


class InvalidYaml(InvalidValue):
    """The text is not valid YAML."""


class ValueTooLarge(InvalidValue):
    """The value is larger than brownthrower stores."""


class FilterError(InvalidValue):
    """A job filter is malformed."""


class TokenMismatch(BrownthrowerError):
    """The job is no longer held by this claim (it was aborted, recovered or removed)."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its class name when it has none)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
