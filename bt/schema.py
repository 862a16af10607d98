"""Schema management: the database is created and upgraded only through Alembic migrations.

Checking that a database is current needs no Alembic: the revision it is at is one plain query
of `alembic_version`, and the newest revision is read from the migration files' `revision` and
`down_revision` lines. Alembic (a tenth of a second to import) is loaded only to migrate, so a
program opening a current database starts without it.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text

from bt import errors
from bt.db import Database, wrap_errors

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
PG_MIGRATION_LOCK = 0x6274  #: advisory lock id so concurrent first starts migrate once
VERSION_TABLE = "alembic_version"
_REVISION_LINE = re.compile(
    r"^(?P<key>revision|down_revision)\s*(?::[^=]*)?=\s*(?P<value>None|['\"][^'\"]+['\"])\s*$",
    re.MULTILINE,
)


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@cache
def head_revision() -> str:
    """The newest migration: the one revision no other migration revises.

    Read from the files' `revision = ...` and `down_revision = ...` lines; when the lines do
    not tell (a merge, a computed value), Alembic works it out."""
    pairs = [_revision_lines(path) for path in _migration_files()]
    known = [pair for pair in pairs if pair is not None]
    revised = {down for _, down in known}
    heads = [revision for revision, _ in known if revision not in revised]
    return heads[0] if len(heads) == 1 and len(known) == len(pairs) else _alembic_head()


def _migration_files() -> list[Path]:
    return [p for p in sorted(MIGRATIONS.glob("versions/*.py")) if p.name != "__init__.py"]


def _revision_lines(path: Path) -> tuple[str, str | None] | None:
    """A migration file's (revision, down_revision), or None when its lines do not say."""
    found = {m["key"]: m["value"] for m in _REVISION_LINE.finditer(path.read_text("utf-8"))}
    if "revision" not in found or "down_revision" not in found:
        return None
    down = found["down_revision"]
    return found["revision"][1:-1], None if down == "None" else down[1:-1]


def _alembic_head() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with wrap_errors(db.masked_url), db.engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(rows) > 1:
        raise errors.SchemaError(
            f"The database {db.masked_url} records several schema revisions ({', '.join(rows)})."
        )
    return rows[0] if rows else None


def upgrade(db: Database, revision: str = "head") -> None:
    """Migrate the database to `revision` (creating the schema in an empty database)."""
    from alembic import command

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
