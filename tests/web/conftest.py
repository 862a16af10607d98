"""Fixtures of the web tests: the dashboard of the test database in an in-process client.

The hub's thread is not started (no lifespan): `Dashboard.get` bumps its version before each
request instead, so every request sees the data the test just wrote, with no waiting.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from bt import Brownthrower, tagnames
from bt.values import JobSpec, NodeSpec
from tests import factories
from web.hub import Hub
from web.security import allowed_hosts
from web.server import create_app

TOKEN = "test-token-0123456789abcdef"


@dataclass
class Dashboard:
    """A test client of the dashboard, logged in (or not), and its hub."""

    client: TestClient
    hub: Hub

    def get(self, path: str, **options: Any) -> httpx.Response:
        """GET `path` as the database is now."""
        self.hub.bump()
        return self.client.get(path, **options)


def new_client(app: Brownthrower, *, login: bool, dispatcher_dir: Path | None = None) -> Dashboard:
    """A test client of `app`'s dashboard (logged in with `login`)."""
    hub = Hub(app, refresh=None)
    hosts = allowed_hosts("127.0.0.1")
    server = create_app(app, token=TOKEN, hosts=hosts, hub=hub, dispatcher_dir=dispatcher_dir)
    client = TestClient(server, base_url="http://127.0.0.1:8080", follow_redirects=False)
    if login:
        assert client.get(f"/login?token={TOKEN}").status_code == 303
    return Dashboard(client, hub)


@pytest.fixture
def web(app: Brownthrower, tmp_path: Path) -> Iterator[Dashboard]:
    """The dashboard of the test database, logged in (no dispatcher: an empty state folder,
    not the user's, where other tests' dispatchers leave journals)."""
    made = new_client(app, login=True, dispatcher_dir=tmp_path / "dispatchers")
    yield made
    made.client.close()
    made.hub.watcher.close()


@pytest.fixture
def stranger(app: Brownthrower) -> Iterator[Dashboard]:
    """The dashboard of the test database, never logged in."""
    made = new_client(app, login=False)
    yield made
    made.client.close()
    made.hub.watcher.close()


HOSTILE = '<script>alert(1)</script> "><img src=x onerror=alert(1)> \x1b[31mred\x1b[0m\x07'


@dataclass(frozen=True)
class Campaign:
    """Jobs in every state the pages show: done, failed, running, a superjob, a chain."""

    done: int
    failed: int
    running: int
    superjob: int
    chain: list[int]


def campaign(app: Brownthrower) -> Campaign:
    """A small campaign: a done job, a failed one (reason, traceback, output), a running one
    with captured output, a superjob of three subjobs and a chain of four linked jobs."""
    runner = factories.runner(app)
    done = factories.job(app, submit=True)
    factories.run_next(app, runner, output="answer: 42\n")
    failed = factories.job(app, submit=True)
    claim = factories.claim(app, runner)
    app.claims.fail(claim, "boom: it broke", "Traceback (most recent call last):\nValueError", 1,
                    tags={tagnames.STDERR: "some error output\n"})  # fmt: skip
    superjob = factories.superjob(app, runner, 3, submit=False)
    running = factories.job(app, submit=True)
    claim = factories.claim(app, runner)
    app.claims.put_tags(claim, {tagnames.STDOUT: "step 1\nstep 2\n"})
    nodes = [NodeSpec(i, JobSpec("noop"), submit=True) for i in range(4)]
    ids = app.jobs.create_graph(nodes, [(0, 1), (1, 2), (2, 3)])
    return Campaign(done, failed, running, superjob, [ids[i] for i in range(4)])


def rename(app: Brownthrower, job_id: int, name: str) -> None:
    """Give a job any name (a task that is installed no more), bypassing the checks."""
    update = text("UPDATE job SET name = :name WHERE id = :id")
    app.db.write(lambda s: s.execute(update, {"name": name, "id": job_id}))
