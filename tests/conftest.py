"""Fixtures shared by every test tier.

`db_url` gives each database test a fresh SQLite file and a fresh database on a throwaway
PostgreSQL cluster that this test run starts itself. Without PostgreSQL the PostgreSQL half skips;
with `CI=true` a skip is a failure, so CI can never go green by skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from bt import Brownthrower
from bt.db import Database
from bt.registry import TaskRegistry
from bt.schema import upgrade
from tests import pgcluster

for _name in [n for n in os.environ if n.startswith("BT_")]:
    if _name != pgcluster.URL_VARIABLE:
        del os.environ[_name]

IN_CI = os.environ.get("CI", "").lower() == "true"
_cluster: pgcluster.Cluster | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _cluster
    if getattr(config, "workerinput", None) or os.environ.get(pgcluster.URL_VARIABLE):
        return
    if pgcluster.server_available() is None:
        _cluster = pgcluster.Cluster()
        os.environ[pgcluster.URL_VARIABLE] = _cluster.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    if _cluster is not None:
        _cluster.stop()


def require_postgresql() -> str:
    """The maintenance URL of the test server, or skip (fail in CI) when there is none."""
    url = os.environ.get(pgcluster.URL_VARIABLE)
    if url:
        return url
    reason = f"no PostgreSQL: {pgcluster.server_available()}"
    if IN_CI:
        pytest.fail(reason + " (CI=true: PostgreSQL tests must run)")
    pytest.skip(reason)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_template() -> str:
    """A migrated template database, copied for every test (much faster than migrating)."""
    admin = require_postgresql()
    name = f"bt_template_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    with psycopg.connect(_libpq(admin), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    db = Database(make_url(admin).set(database=name).render_as_string(hide_password=False))
    upgrade(db)
    db.dispose()
    return name


def new_pg_database(template: str) -> str:
    admin = require_postgresql()
    name = f"bt_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(admin), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    admin = require_postgresql()
    name = make_url(url).database
    with psycopg.connect(_libpq(admin), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'bt.db'}"
        db = Database(url)
        upgrade(db)
        db.dispose()
        yield url
        return
    url = new_pg_database(request.getfixturevalue("pg_template"))
    yield url
    drop_pg_database(url)


@pytest.fixture
def registry() -> TaskRegistry:
    """The installed plugins: bt-examples (plugins/) and bt-test-tasks (tests/plugin_dist/)."""
    return TaskRegistry()


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database only, for what exists on PostgreSQL alone (NOTIFY)."""
    url = new_pg_database(pg_template)
    yield url
    drop_pg_database(url)


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    """A `Database` on the fresh test database, disposed afterwards."""
    db = Database(db_url)
    yield db
    db.dispose()


@pytest.fixture
def app(db_url: str, registry: TaskRegistry) -> Iterator[Brownthrower]:
    """The core library on a fresh database, with the test registry."""
    client = Brownthrower(Database(db_url), registry)
    yield client
    client.close()
