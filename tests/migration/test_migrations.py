from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from bt import Brownthrower, errors
from bt.config import load_settings
from bt.db import Database
from bt.models import Base
from bt.schema import alembic_config, current_revision, ensure_schema, head_revision, upgrade

# SQLite cannot reflect expression indexes (ix_job_runnable sorts by "priority DESC") nor
# compare server defaults reliably; PostgreSQL compares everything.
SQLITE_BLIND_SPOTS = {"ix_job_runnable"}


def differences(db: Database) -> list[object]:
    with db.engine.connect() as conn:
        options = {"compare_server_default": db.is_postgresql}
        diff = compare_metadata(MigrationContext.configure(conn, opts=options), Base.metadata)
    if db.is_sqlite:
        diff = [d for d in diff if not (isinstance(d, tuple) and d[1].name in SQLITE_BLIND_SPOTS)]
    return diff


@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression")
def test_the_migrated_schema_equals_the_models(database: Database) -> None:
    assert differences(database) == []


def test_sqlite_has_the_partial_runnable_index(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    ensure_schema(db)
    with db.engine.connect() as conn:
        sql = conn.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'ix_job_runnable'"))
    assert "WHERE status = 'QUEUED' AND pending_parents = 0" in sql


def test_a_fresh_database_is_migrated_to_head(database: Database) -> None:
    assert current_revision(database) == head_revision()


def test_the_embedded_default_is_created_on_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    with Brownthrower.open(settings=load_settings(None, {})) as app:
        assert app.jobs.counts()["QUEUED"] == 0
    assert (tmp_path / "brownthrower" / "brownthrower.db").exists()


def test_an_outdated_shared_database_asks_for_an_upgrade(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    ensure_schema(db)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    with pytest.raises(errors.SchemaError, match="run `brownthrower db upgrade`"):
        ensure_schema(db, auto_upgrade=False)


NAME_INDEXES = {"ix_job_name_id", "ix_job_name_status_id"}


def job_indexes(db: Database) -> set[str]:
    return {index["name"] for index in inspect(db.engine).get_indexes("job") if index["name"]}


def test_0003_swaps_the_name_index_for_name_status_and_back(database: Database) -> None:
    upgrade(database)
    with database.engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, "0002")
    assert NAME_INDEXES & job_indexes(database) == {"ix_job_name_id"}
    upgrade(database)
    assert NAME_INDEXES & job_indexes(database) == {"ix_job_name_status_id"}


def index_sql(db: Database, name: str) -> str:
    """The definition of index `name`, as the database's catalog keeps it."""
    catalog = (
        "SELECT indexdef FROM pg_indexes WHERE indexname = :n"
        if db.is_postgresql
        else "SELECT sql FROM sqlite_master WHERE name = :n"
    )
    with db.engine.connect() as conn:
        return str(conn.execute(text(catalog), {"n": name}).scalar_one())


def test_0004_indexes_super_id_and_runner_id_only_where_set(database: Database) -> None:
    upgrade(database)
    for column in ("super_id", "runner_id"):
        assert f"{column} IS NOT NULL" in index_sql(database, f"ix_job_{column}")


def downgrade(db: Database, revision: str) -> None:
    with db.engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def test_0006_adds_the_limits_and_takes_them_away_again(database: Database) -> None:
    upgrade(database)
    assert "has_limits" in index_sql(database, "ix_job_runnable")
    downgrade(database, "0005")
    tables = set(inspect(database.engine).get_table_names())
    assert not {"concurrency_limit", "job_limit"} & tables
    columns = {column["name"] for column in inspect(database.engine).get_columns("job")}
    assert "has_limits" not in columns
    assert "has_limits" not in index_sql(database, "ix_job_runnable")
    upgrade(database)
    assert {"concurrency_limit", "job_limit"} <= set(inspect(database.engine).get_table_names())
    assert differences(database) == []


def test_0007_adds_the_figures_of_each_attempt_and_takes_them_away_again(
    database: Database,
) -> None:
    upgrade(database)
    downgrade(database, "0006")
    columns = {column["name"] for column in inspect(database.engine).get_columns("job_event")}
    assert not {"realtime", "cpu_user", "peak_rss", "wchar", "batch_id", "slots"} & columns
    upgrade(database)
    columns = {column["name"] for column in inspect(database.engine).get_columns("job_event")}
    assert {"realtime", "cpu_user", "peak_rss", "wchar", "batch_id", "slots"} <= columns
    assert differences(database) == []
