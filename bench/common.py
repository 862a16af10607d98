"""Shared set-up for the benchmarks: databases to measure on, timing helpers."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bt import Brownthrower
from bt.db import Database
from bt.registry import TaskRegistry
from bt.schema import upgrade

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def postgresql_cluster() -> Iterator[str]:
    """A throwaway PostgreSQL cluster with default durability (fsync and synchronous commit on)."""
    base = Path(tempfile.mkdtemp(prefix="bt-bench-"))
    base.chmod(0o755)
    env = {**os.environ, "PG_FSYNC": "on", "PG_SYNC_COMMIT": "on"}
    script = str(ROOT / "scripts" / "pg-cluster")
    out = subprocess.run(
        [script, "start", str(base / "pg")], check=True, capture_output=True, text=True, env=env
    )
    try:
        yield out.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([script, "stop", str(base / "pg")], check=False, capture_output=True)


@contextmanager
def databases(which: list[str]) -> Iterator[dict[str, str]]:
    """URLs of a fresh SQLite file and/or a fresh PostgreSQL cluster."""
    with tempfile.TemporaryDirectory(prefix="bt-bench-") as tmp:
        urls = {}
        if "sqlite" in which:
            urls["sqlite"] = f"sqlite:///{tmp}/bench.db"
        if "postgresql" in which:
            with postgresql_cluster() as url:
                urls["postgresql"] = url
                yield urls
                return
        yield urls


def fresh_app(url: str) -> Brownthrower:
    """An empty, migrated database (dropping what a previous measurement left)."""
    db = Database(url)
    with db.engine.begin() as conn:
        for table in (
            "job_event",
            "job_attempt",
            "job_limit",
            "concurrency_limit",
            "chore",
            "tag",
            "dependency",
            "job",
            "runner",
            "id_counter",
            "alembic_version",
        ):
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    upgrade(db)
    return Brownthrower(db, TaskRegistry())


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
