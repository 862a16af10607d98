"""PostgreSQL pushes the few events runners must hear at once: aborts and new work."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

from bt import Brownthrower
from bt.db import Database
from bt.registry import TaskRegistry
from tests.factories import claim, job, runner


@pytest.fixture
def pg_app(pg_url: str, registry: TaskRegistry) -> Iterator[Brownthrower]:
    client = Brownthrower(Database(pg_url), registry)
    yield client
    client.close()


@pytest.fixture
def listener(pg_url: str) -> Iterator[psycopg.Connection[object]]:
    url = make_url(pg_url).set(drivername="postgresql")
    conn = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
    conn.execute("LISTEN bt_abort")
    conn.execute("LISTEN bt_work")
    yield conn
    conn.close()


def received(conn: psycopg.Connection[object]) -> set[tuple[str, str]]:
    return {(n.channel, n.payload) for n in conn.notifies(timeout=0.5, stop_after=5)}


def test_aborting_a_running_job_notifies_its_id(
    pg_app: Brownthrower, listener: psycopg.Connection[object]
) -> None:
    job_id = job(pg_app, submit=True)
    claim(pg_app, runner(pg_app))
    received(listener)
    pg_app.jobs.abort(job_id)
    assert ("bt_abort", str(job_id)) in received(listener)


def test_submitting_a_runnable_job_notifies_new_work(
    pg_app: Brownthrower, listener: psycopg.Connection[object]
) -> None:
    job(pg_app, submit=True)
    assert ("bt_work", "") in received(listener)
