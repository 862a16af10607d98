"""Schema management: the database is created and upgraded only through Alembic migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bt import errors
from bt.db import Database, wrap_errors

MIGRATIONS = Path(__file__).with_name("migrations")
PG_MIGRATION_LOCK = 0x6274  #: advisory lock id so concurrent first starts migrate once


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with wrap_errors(db.masked_url), db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> None:
    """Migrate the database to `revision` (creating the schema in an empty database)."""
    with wrap_errors(db.masked_url), db.engine.begin() as conn:
        if db.is_postgresql:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_MIGRATION_LOCK})
        config = alembic_config()
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def ensure_schema(db: Database, *, auto_upgrade: bool = True) -> None:
    """Make sure the schema is current: create it if empty, upgrade it if allowed, else refuse."""
    current = current_revision(db)
    if current == head_revision():
        return
    if current is None or auto_upgrade:
        upgrade(db)
        return
    raise errors.SchemaError(
        f"The database {db.masked_url} is at schema {current}, this brownthrower needs "
        f"{head_revision()}: run `brownthrower db upgrade`."
    )
