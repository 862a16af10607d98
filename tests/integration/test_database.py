from __future__ import annotations

import pytest
from sqlalchemy import insert, text

from bt import Brownthrower, errors
from bt.db import Database
from bt.models import Dependency, Job
from bt.status import Status
from tests.factories import job, runner, subjob_ids, superjob


def test_a_dependency_between_non_siblings_is_refused_by_the_database(
    app: Brownthrower,
) -> None:
    parent = superjob(app, runner(app))
    sub, top = subjob_ids(app, parent)[0], job(app)
    with pytest.raises(errors.StoreError, match="refused"):
        app.db.write(
            lambda s: s.execute(insert(Dependency).values(parent_id=top, child_id=sub, scope=0))
        )


def test_a_self_dependency_is_refused_by_the_database(app: Brownthrower) -> None:
    top = job(app)
    with pytest.raises(errors.StoreError):
        app.db.write(
            lambda s: s.execute(insert(Dependency).values(parent_id=top, child_id=top, scope=0))
        )


def test_an_unknown_status_is_refused_by_the_database(app: Brownthrower) -> None:
    with pytest.raises(errors.StoreError):
        app.db.write(
            lambda s: s.execute(
                text("INSERT INTO job (name, status, scope) VALUES ('noop', 'LOST', 0)")
            )
        )


def test_running_without_a_token_is_refused_by_the_database(app: Brownthrower) -> None:
    with pytest.raises(errors.StoreError):
        app.db.write(
            lambda s: s.execute(insert(Job).values(name="noop", status=Status.RUNNING, scope=0))
        )


def test_an_unreachable_server_is_one_clear_error() -> None:
    db = Database("postgresql+psycopg://bt:s3cret@127.0.0.1:1/bt?connect_timeout=2")
    with pytest.raises(errors.DatabaseUnavailable) as caught:
        db.write(lambda s: s.execute(text("SELECT 1")))
    assert "127.0.0.1:1" in str(caught.value) and "s3cret" not in str(caught.value)


def test_writes_are_retried_on_transient_conflicts(app: Brownthrower) -> None:
    calls: list[int] = []

    def flaky(session: object) -> str:
        calls.append(1)
        if len(calls) < 3:
            raise errors.Contention("simulated")
        return "ok"

    assert (app.db.write(flaky), len(calls)) == ("ok", 3)


def test_a_write_whose_connection_died_is_retried_once(app: Brownthrower) -> None:
    calls: list[int] = []

    def once_disconnected(session: object) -> str:
        calls.append(1)
        if len(calls) == 1:
            raise errors.Disconnected("simulated lost connection")
        return "ok"

    assert (app.db.write(once_disconnected), len(calls)) == ("ok", 2)


def test_a_write_is_not_retried_over_a_lasting_outage(app: Brownthrower) -> None:
    def always_disconnected(session: object) -> str:
        raise errors.Disconnected("simulated lost connection")

    with pytest.raises(errors.Disconnected):
        app.db.write(always_disconnected)


def test_an_edit_conflict_is_reported_at_once(app: Brownthrower) -> None:
    calls: list[int] = []

    def conflicting(session: object) -> str:
        calls.append(1)
        raise errors.ChangedMeanwhile("changed by another client")

    with pytest.raises(errors.ChangedMeanwhile):
        app.db.write(conflicting)
    assert len(calls) == 1


def test_shifted_database_times_are_not_mixed_up_by_the_statement_cache(
    database: Database,
) -> None:
    from sqlalchemy import select

    from bt.sqltypes import db_now

    with database.read() as session:
        soon, later = (session.scalar(select(db_now(s))) for s in (5, 600))
    assert soon is not None and later is not None
    assert (later - soon).total_seconds() > 500


def test_a_given_sqlite_url_in_a_missing_directory_is_refused(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path}/nonexistent/dir/x.db")
    with pytest.raises(errors.DatabaseUnavailable, match="does not exist"):
        Brownthrower(db).jobs.counts()
    assert not (tmp_path / "nonexistent").exists()


def test_the_embedded_default_creates_its_data_directory(tmp_path, monkeypatch) -> None:
    from bt.config import default_database_url

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    db = Database(default_database_url())
    with db.read() as session:
        session.execute(text("SELECT 1"))
    db.dispose()
    assert (tmp_path / "data" / "brownthrower").is_dir()
