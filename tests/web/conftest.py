"""Fixtures of the web tests: the dashboard of the test database in an in-process client.

The hub's thread is not started (no lifespan): `Dashboard.get` bumps its version before each
request instead, so every request sees the data the test just wrote, with no waiting.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx
import pytest
from starlette.testclient import TestClient

from bt import Brownthrower
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


def new_client(app: Brownthrower, *, login: bool) -> Dashboard:
    hub = Hub(app, refresh=None)
    server = create_app(app, token=TOKEN, hosts=allowed_hosts("127.0.0.1"), hub=hub)
    client = TestClient(server, base_url="http://127.0.0.1:8080", follow_redirects=False)
    if login:
        assert client.get(f"/login?token={TOKEN}").status_code == 303
    return Dashboard(client, hub)


@pytest.fixture
def web(app: Brownthrower) -> Iterator[Dashboard]:
    """The dashboard of the test database, logged in."""
    made = new_client(app, login=True)
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
