"""Fixtures shared by every test tier.

`db_url` gives each database test a fresh SQLite file and a fresh database on a throwaway
PostgreSQL cluster that this test run starts itself (one per pytest-xdist worker). Without
PostgreSQL the PostgreSQL half skips; with `CI=true` a skip is a failure, so CI can never go
green by skipping. The tests of runners, claims, aborts and outages take `farm_db_url` (through
`db_url` overridden in their conftest): the same two, plus the PostgreSQL database reached
through a throwaway PgBouncer in transaction mode (pooled mode), started on first use.
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
from tests import pgbouncer, pgcluster

for _name in [n for n in os.environ if n.startswith("BT_")]:
    if _name != pgcluster.URL_VARIABLE:
        del os.environ[_name]

IN_CI = os.environ.get("CI", "").lower() == "true"
_cluster: pgcluster.Cluster | None = None
_bouncer: pgbouncer.Bouncer | None = None
POOLED_URLS: set[str] = set()  #: the test databases reached through PgBouncer (pooled mode)


def pytest_configure(config: pytest.Config) -> None:
    global _cluster
    if os.environ.get(pgcluster.URL_VARIABLE) or hands_out_tests(config):
        return
    if pgcluster.server_available() is None:
        _cluster = pgcluster.Cluster()
        os.environ[pgcluster.URL_VARIABLE] = _cluster.start()


def hands_out_tests(config: pytest.Config) -> bool:
    """Whether this process only hands the tests to pytest-xdist workers. Each worker starts a
    cluster of its own: some of what a server shows is cluster-wide (the current snapshot that
    the dashboard watches, connection counts), and one worker's tests must not see another's."""
    worker = hasattr(config, "workerinput")
    return not worker and bool(getattr(config.option, "numprocesses", None))


def pytest_unconfigure(config: pytest.Config) -> None:
    if _bouncer is not None:
        _bouncer.stop()
    if _cluster is not None:
        _cluster.stop()


def require_pgbouncer() -> str:
    """The URL of the test run's PgBouncer (started on first use), or skip (fail in CI)."""
    global _bouncer
    server = require_postgresql()
    if _bouncer is None:
        if (reason := pgbouncer.available()) is not None:
            if IN_CI:
                pytest.fail(reason + " (CI=true: PgBouncer tests must run)")
            pytest.skip(reason)
        _bouncer = pgbouncer.Bouncer()
        _bouncer.start(server)
    assert _bouncer.url is not None
    return _bouncer.url


def is_pooled(url: str) -> bool:
    """Whether `url` is a test database reached through PgBouncer."""
    return url in POOLED_URLS


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
    yield from fresh_database(request, tmp_path)


def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The fresh database of `request.param`: `sqlite`, `postgresql` or `pgbouncer`."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'bt.db'}"
        db = Database(url)
        upgrade(db)
        db.dispose()
        yield url
        return
    direct = new_pg_database(request.getfixturevalue("pg_template"))
    if request.param == "pgbouncer":
        bounced = make_url(require_pgbouncer()).set(database=make_url(direct).database)
        url = bounced.render_as_string(hide_password=False)
        POOLED_URLS.add(url)
    else:
        url = direct
    yield url
    POOLED_URLS.discard(url)
    drop_pg_database(direct)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgresql),
        pytest.param("pgbouncer", marks=pytest.mark.postgresql),
    ]
)
def farm_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """`db_url`'s databases, plus the PostgreSQL one through PgBouncer (`is_pooled` says)."""
    yield from fresh_database(request, tmp_path)


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
    db = Database(db_url, pooled=is_pooled(db_url))
    yield db
    db.dispose()


@pytest.fixture
def app(db_url: str, registry: TaskRegistry) -> Iterator[Brownthrower]:
    """The core library on a fresh database, with the test registry."""
    client = Brownthrower(Database(db_url, pooled=is_pooled(db_url)), registry)
    yield client
    client.close()
