"""Database outages a test can start and end: a private PostgreSQL server stopped and started
again on the same port and data (the shared test cluster stays up), or SQLite's write lock held
by another connection."""

from __future__ import annotations

import os
import shlex
import sqlite3
import subprocess
import time
from pathlib import Path

import psycopg
from sqlalchemy import make_url

from bt.db import Database
from bt.schema import upgrade
from tests import pgbouncer, pgcluster


class Outage:
    """Takes a test database away (`begin`) and gives it back (`end`)."""

    url: str
    pooled = False  #: reached through PgBouncer

    def begin(self) -> None:
        raise NotImplementedError

    def end(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Give the database back if needed and release what the outage holds."""


class SqliteLock(Outage):
    """Another connection holds the write lock: every write waits, then fails as contention."""

    def __init__(self, path: Path) -> None:
        self.url = f"sqlite:///{path}"
        _migrate(self.url)
        self.holder: sqlite3.Connection | None = None

    def begin(self) -> None:
        self.holder = sqlite3.connect(str(make_url(self.url).database), isolation_level=None)
        self.holder.execute("BEGIN IMMEDIATE")

    def end(self) -> None:
        if self.holder is not None:
            self.holder.execute("ROLLBACK")
            self.holder.close()
            self.holder = None

    def close(self) -> None:
        self.end()


class StoppedServer(Outage):
    """A private PostgreSQL cluster whose server is stopped (connections refused) meanwhile."""

    def __init__(self) -> None:
        self.cluster = pgcluster.Cluster()
        self.url = self.cluster.start()
        _migrate(self.url)
        self.data = self.cluster.base / "pg" / "data"
        self.options = _server_options(self.data / "postmaster.opts")

    def begin(self) -> None:
        self._pg_ctl("-m", "fast", "-w", "stop")

    def end(self) -> None:
        log = str(self.cluster.base / "pg" / "server.log")
        self._pg_ctl("-w", "-t", "30", "-l", log, "-o", self.options, "start")

    def close(self) -> None:
        self.cluster.stop()

    def _pg_ctl(self, *args: str) -> None:
        command = [str(_pg_bin() / "pg_ctl"), "-D", str(self.data), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True)


class BouncedServer(StoppedServer):
    """The same stopped server, reached through a PgBouncer of its own (pooled mode): the
    bouncer stays up and queues what it cannot pass on."""

    pooled = True

    def __init__(self) -> None:
        super().__init__()
        self.bouncer = pgbouncer.Bouncer()
        self.url = self.bouncer.start(self.url)

    def end(self) -> None:
        """Start the server again, and return once the bouncer passes queries again (it
        refuses them for `server_login_retry` after failing to log in)."""
        super().end()
        deadline = time.monotonic() + 30
        while not _answers(self.url) and time.monotonic() < deadline:
            time.sleep(0.1)

    def close(self) -> None:
        self.bouncer.stop()
        super().close()


def _answers(url: str) -> bool:
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(conninfo, prepare_threshold=None, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


def _migrate(url: str) -> None:
    db = Database(url)
    upgrade(db)
    db.dispose()


def _pg_bin() -> Path:
    if os.environ.get("PGBIN"):
        return Path(os.environ["PGBIN"])
    return sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parts[-2]))[-1]


def _server_options(opts: Path) -> str:
    """The options the server was started with (`postmaster.opts`), less its data directory."""
    words = shlex.split(opts.read_text())[1:]
    at = words.index("-D")
    return shlex.join(words[:at] + words[at + 2 :])
