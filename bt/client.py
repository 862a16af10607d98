"""`Brownthrower`: the composition root of the core library — database, registry, services.

The database layer and the services are imported when a database is opened, not with this
module: a program (the shell, the dispatcher) imports `Brownthrower` at start and pays for
SQLAlchemy only once it uses a database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bt.config import Settings, load_settings
from bt.registry import TaskRegistry
from bt.values import DatabaseInfo

if TYPE_CHECKING:
    from bt.db import Database


class Brownthrower:
    """One brownthrower database with the task plugins installed here."""

    def __init__(self, db: Database, registry: TaskRegistry | None = None) -> None:
        from bt.dashboard import DashboardService
        from bt.services import (
            ClaimService,
            JobService,
            LimitService,
            RunnerService,
            TagService,
        )

        self.db = db
        self.registry = registry if registry is not None else TaskRegistry()
        self.jobs = JobService(db, self.registry)
        self.tags = TagService(db)
        self.runners = RunnerService(db)
        self.claims = ClaimService(db, self.registry)
        self.limits = LimitService(db)
        self.dashboard = DashboardService(db)

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        settings: Settings | None = None,
        registry: TaskRegistry | None = None,
        auto_upgrade: bool | None = None,
        echo: bool = False,
        single: bool = False,
        io_timeout: float | None = None,
        program: str = "brownthrower",
    ) -> Brownthrower:
        """Open the configured database, creating its schema on first use.

        A database at an older schema is upgraded automatically only for the embedded default
        (or when `auto_upgrade` says so); a shared server waits for an explicit `db upgrade`.
        A daemon opens it `single`: one connection shared by its threads, dropped when
        unanswered for `io_timeout` seconds (`bt.db`). `program` names its connections
        (`application_name`: `pg_stat_activity` tells who holds which).
        """
        from bt.db import IO_TIMEOUT, Database
        from bt.schema import ensure_schema

        settings = settings or load_settings(url)
        db = Database(
            settings.database_url,
            echo=echo,
            pooled=settings.pooled,
            single=single,
            io_timeout=io_timeout or IO_TIMEOUT,
            program=program,
        )
        if auto_upgrade is None:
            auto_upgrade = settings.source == "embedded default"
        try:
            ensure_schema(db, auto_upgrade=auto_upgrade)
        except BaseException:
            db.dispose()  # a refused database keeps no connection open
            raise
        return cls(db, registry)

    @property
    def url(self) -> str:
        """The database URL, password included: for this process's own connections only."""
        return self.db.url

    @property
    def masked_url(self) -> str:
        """The database URL with the password replaced by `***`: what may be shown."""
        return self.db.masked_url

    @property
    def has_notifications(self) -> bool:
        """Whether the database pushes events (`bt.notify.Listener` works on it): PostgreSQL,
        not through a pooler."""
        return self.db.listens

    @property
    def pooled(self) -> bool:
        """Whether the database is reached through a transaction-mode pooler."""
        return self.db.pooled

    def close(self) -> None:
        """Close every database connection this client holds."""
        self.db.dispose()

    def __enter__(self) -> Brownthrower:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def inspect_database(url: str, *, pooled: bool = False) -> DatabaseInfo:
    """Where the database at `url` is and which schema it has; works at any schema version.

    `DatabaseUnavailable` when it cannot be reached.
    """
    from bt.db import Database
    from bt.schema import current_revision, head_revision

    db = Database(url, pooled=pooled)
    try:
        return DatabaseInfo(db.masked_url, db.dialect, current_revision(db), head_revision())
    finally:
        db.dispose()


def upgrade_database(url: str, *, pooled: bool = False) -> tuple[str | None, str]:
    """Migrate the database at `url` to the current schema; the revisions before and after.
    Through a pooler too: the whole migration is one transaction, its lock transaction-level."""
    from bt.db import Database
    from bt.schema import current_revision, head_revision, upgrade

    db = Database(url, pooled=pooled)
    try:
        before, head = current_revision(db), head_revision()
        if before != head:
            upgrade(db)
        return before, head
    finally:
        db.dispose()
