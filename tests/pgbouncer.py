"""The throwaway PgBouncer (transaction mode) the test run starts in front of its PostgreSQL
cluster when a test asks for the pooled database (scripts/pgbouncer)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "pgbouncer"


def available() -> str | None:
    """Why no PgBouncer can be started here, or None when one can."""
    if shutil.which("pgbouncer") is None and not Path("/usr/sbin/pgbouncer").exists():
        return "PgBouncer is not installed"
    return None


class Bouncer:
    """Start on `start(server_url)`, stop on `stop()`; `url` leads to the maintenance database
    through the bouncer (any database name works: the bouncer forwards it)."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="bt-bouncer-"))
        self.base.chmod(0o755)
        self.url: str | None = None

    def start(self, server_url: str) -> str:
        out = subprocess.run(
            [str(SCRIPT), "start", str(self.base / "b"), server_url],
            check=True,
            capture_output=True,
            text=True,
        )
        self.url = out.stdout.strip().splitlines()[-1]
        return self.url

    def stop(self) -> None:
        subprocess.run([str(SCRIPT), "stop", str(self.base / "b")], check=False)
        shutil.rmtree(self.base, ignore_errors=True)
