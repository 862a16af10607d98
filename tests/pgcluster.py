"""The throwaway PostgreSQL cluster the test run starts for itself (scripts/pg-cluster)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "pg-cluster"
URL_VARIABLE = "BT_TEST_POSTGRESQL_URL"  #: set it to use your own server instead


def server_available() -> str | None:
    """Why no cluster can be started here, or None when one can."""
    if os.environ.get(URL_VARIABLE):
        return None
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not bins and not os.environ.get("PGBIN"):
        return "PostgreSQL server binaries are not installed"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser"
    return None


class Cluster:
    """Start on `start()`, stop on `stop()`; `url` is the maintenance database's URL."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="bt-pgtest-"))
        self.base.chmod(0o755)  # the server runs as `postgres` and must reach its directory
        self.url: str | None = None

    def start(self, env: dict[str, str] | None = None) -> str:
        """Start the server (`env`: settings of scripts/pg-cluster, such as PG_LISTEN)."""
        out = subprocess.run(
            [str(SCRIPT), "start", str(self.base / "pg")],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.url = out.stdout.strip().splitlines()[-1]
        return self.url

    def halt(self) -> None:
        """Stop the server, keeping its data: an outage until `resume()`."""
        subprocess.run(
            [str(SCRIPT), "halt", str(self.base / "pg")], check=True, capture_output=True
        )

    def resume(self) -> None:
        """Start the halted server again, on the same port."""
        subprocess.run(
            [str(SCRIPT), "resume", str(self.base / "pg")], check=True, capture_output=True
        )

    def stop(self) -> None:
        subprocess.run(
            [str(SCRIPT), "stop", str(self.base / "pg")], check=False, capture_output=True
        )
        shutil.rmtree(self.base, ignore_errors=True)
