"""The shell beside a farm: it holds no connection at its prompt, says clearly what to do when
the server has no connection slot left, and works through PgBouncer (pooled mode)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from tests.acceptance.conftest import PROMPT, piped, program_env, spawn
from tests.conftest import require_pgbouncer, require_postgresql

pytestmark = pytest.mark.postgresql


def _admin() -> str:
    return make_url(require_postgresql()).set(drivername="postgresql").render_as_string(False)


def _as_admin(statement: str) -> None:
    with psycopg.connect(_admin(), autocommit=True) as conn:
        conn.execute(statement)  # type: ignore[arg-type]


def _connections(url: str) -> int:
    """Connections to `url`'s database (the test holds none to it)."""
    with psycopg.connect(_admin(), autocommit=True) as conn:
        query = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
        return int(conn.execute(query, [make_url(url).database]).fetchone()[0])  # type: ignore[index]


@pytest.fixture
def pg_only(pg_url: str) -> str:
    return pg_url


def test_the_shell_holds_no_connection_at_its_prompt(pg_only: str, tmp_path: Path) -> None:
    terminal = spawn(program_env(pg_only, tmp_path))
    try:
        terminal.sendline("status")
        terminal.expect("QUEUED")
        terminal.expect(PROMPT)
        assert _connections(pg_only) == 0
    finally:
        terminal.terminate(force=True)


@pytest.fixture
def refused_role() -> Iterator[str]:
    """A role the server gives no connection slot (its limit is 0): refused like a full server."""
    role = f"bt_full_{uuid.uuid4().hex[:8]}"
    _as_admin(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 0")
    yield role
    _as_admin(f"DROP ROLE {role}")


def test_a_server_without_a_free_slot_gets_one_line_saying_what_to_do(
    pg_only: str, refused_role: str, tmp_path: Path
) -> None:
    url = make_url(pg_only).set(username=refused_role).render_as_string(hide_password=False)
    done = piped(program_env(url, tmp_path), "status\n")
    assert done.returncode == 3
    assert "PgBouncer" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_piped_script_works_through_pgbouncer_in_pooled_mode(
    pg_only: str, tmp_path: Path
) -> None:
    url = make_url(require_pgbouncer()).set(database=make_url(pg_only).database)
    env = {**program_env(url.render_as_string(False), tmp_path), "BT_DATABASE_POOLED": "1"}
    script = "job create noop --submit\n" * 30 + "job list status=QUEUED --json\n"
    done = piped(env, script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count('"status": "QUEUED"') == 30


@pytest.fixture
def empty_pg_database() -> Iterator[str]:
    """A PostgreSQL database with no schema at all."""
    name = f"bt_empty_{uuid.uuid4().hex[:8]}"
    _as_admin(f'CREATE DATABASE "{name}"')
    yield name
    _as_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_db_upgrade_and_db_check_work_through_pgbouncer(
    empty_pg_database: str, tmp_path: Path
) -> None:
    url = make_url(require_pgbouncer()).set(database=empty_pg_database)
    env = {**program_env(url.render_as_string(False), tmp_path), "BT_DATABASE_POOLED": "1"}
    done = piped(env, "db upgrade\ndb check\ndb info --json\n")
    assert done.returncode == 0, done.stderr
    assert "No problems found" in done.stdout
    assert '"schema": "0' in done.stdout
