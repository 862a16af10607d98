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
from bt.status import Status

# SQLite cannot reflect expression indexes (ix_job_runnable sorts by "priority DESC") nor
# compare server defaults reliably; PostgreSQL compares everything.
SQLITE_BLIND_SPOTS = {"ix_job_runnable"}


def differences(db: Database) -> list[object]:
    with db.engine.connect() as conn:
        options = {"compare_server_default": db.is_postgresql}
        diff = compare_metadata(MigrationContext.configure(conn, opts=options), Base.metadata)
    if db.is_sqlite:
        diff = [d for d in diff if not (isinstance(d, tuple) and d[1].name in SQLITE_BLIND_SPOTS)]
    return [d for d in diff if not elsewhere(d, db)]


def elsewhere(difference: object, db: Database) -> bool:
    """A constraint the models create on the other database only (`ddl_if`), which
    autogenerate does not know of."""
    if not isinstance(difference, tuple) or difference[0] not in ("add_fk", "add_constraint"):
        return False
    names = {
        str(constraint.name)
        for table in Base.metadata.tables.values()
        for constraint in table.constraints
        if constraint._ddl_if is not None and constraint._ddl_if.dialect != db.engine.dialect.name
    }
    return str(difference[1].name) in names


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


def test_a_database_refused_at_open_is_left_with_no_connection(database: Database) -> None:
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    database.dispose()  # SQLite keeps a closed connection's file open while another is open
    with pytest.raises(errors.SchemaError):
        Brownthrower.open(database.url, auto_upgrade=False, program="bt-refused")
    assert connections_of(database, "bt-refused") == 0


def connections_of(database: Database, program: str) -> int:
    """Open connections to `database`: on PostgreSQL those named `program`, on SQLite this
    process's open files of the database."""
    if database.is_postgresql:
        query = "SELECT count(*) FROM pg_stat_activity WHERE application_name = :p"
        with database.engine.connect() as conn:
            return int(conn.scalar(text(query), {"p": program}))
    path = Path(database.url.removeprefix("sqlite:///")).resolve()
    fds = Path("/proc/self/fd").iterdir()
    return sum(1 for fd in fds if fd.exists() and fd.resolve() == path)


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
    downgrade(database, "0007")
    for column in ("super_id", "runner_id"):
        assert f"{column} IS NOT NULL" in index_sql(database, f"ix_job_{column}")


def test_0008_on_postgresql_indexes_running_jobs_by_runner_only(database: Database) -> None:
    """Only PostgreSQL's indexes change (SQLite writes no WAL)."""
    pg = database.is_postgresql
    assert ("'RUNNING'" if pg else "runner_id IS NOT NULL") in index_sql(
        database, "ix_job_runner_id"
    )
    assert ("'DONE'" in index_sql(database, "ix_job_status_id")) is pg


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


FIGURES = {"realtime", "cpu_user", "peak_rss", "wchar", "batch_id", "slots"}


def columns_of(database: Database, table: str) -> set[str]:
    return {column["name"] for column in inspect(database.engine).get_columns(table)}


def test_0007_adds_the_figures_of_each_attempt_and_takes_them_away_again(
    database: Database,
) -> None:
    downgrade(database, "0006")
    assert not FIGURES & columns_of(database, "job_event")
    upgrade(database, "0007")
    assert columns_of(database, "job_event") >= FIGURES


def test_0008_moves_the_figures_to_one_row_per_attempt_and_back(database: Database) -> None:
    downgrade(database, "0007")
    assert "job_attempt" not in inspect(database.engine).get_table_names()
    upgrade(database)
    assert columns_of(database, "job_attempt") >= FIGURES
    assert not FIGURES & columns_of(database, "job_event")
    assert differences(database) == []


#: a job submitted, run twice (a retry, then DONE), as events before 0008
EVENTS_0007 = [
    (None, "QUEUED", 0, None, None, None),
    ("QUEUED", "RUNNING", 1, 7, None, None),
    ("RUNNING", "QUEUED", 1, 7, "exception", 1.5),
    ("QUEUED", "RUNNING", 2, 8, None, None),
    ("RUNNING", "DONE", 2, 8, None, 2.5),
]


def history_at_0007(database: Database) -> None:
    downgrade(database, "0007")
    insert = text(
        "INSERT INTO job_event (job_id, at, old_status, new_status, attempt, runner_id, host,"
        " reason, traceback, realtime, cpu_user, cpu_sys) VALUES (1, :at, :old, :new, :attempt,"
        " :runner, 'h', :reason, :reason, :realtime, :realtime, 0)"
    )
    with database.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO job (id, name, status, attempts) VALUES (1, 't', 'DONE', 2)")
        )
        for minute, (old, new, attempt, runner, reason, realtime) in enumerate(EVENTS_0007):
            at = f"2026-01-01 00:0{minute}:00"
            values = {"old": old, "new": new, "attempt": attempt, "runner": runner}
            conn.execute(insert, {**values, "at": at, "reason": reason, "realtime": realtime})


def test_0008_folds_claim_and_end_events_into_attempts(database: Database) -> None:
    history_at_0007(database)
    upgrade(database)
    app = Brownthrower(database)
    attempts = app.jobs.history(1)
    assert [(a.number, a.outcome, a.runner_id) for a in attempts] == [
        (1, "retried", 7),
        (2, "DONE", 8),
    ]
    assert [a.usage.realtime if a.usage else None for a in attempts] == [1.5, 2.5]
    assert attempts[1].queued is not None and attempts[1].queued.minute == 2


def test_0008_keeps_the_other_events_and_the_order_of_everything(database: Database) -> None:
    history_at_0007(database)
    upgrade(database)
    events = Brownthrower(database).jobs.events(1)
    assert [(e.old_status, e.new_status) for e in events] == [
        (None if old is None else Status(old), Status(new)) for old, new, *_ in EVENTS_0007
    ]
    with database.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM job_event")) == 1
        assert conn.scalar(text("SELECT max(seq) FROM job_attempt")) == 2
