"""The database password reaches pilots, and nowhere else: not argv, scripts, logs or output."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bt import Brownthrower
from bt.db import Database
from tests.conftest import drop_pg_database, new_pg_database
from tests.dispatch import workload
from tests.dispatch.helpers import Dispatchers, backend_of, live_ids, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgresql]
PASSWORD = f"pw-{uuid.uuid4().hex}"  # the test server trusts local users: any password works


@pytest.fixture
def secret_url(pg_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database, reached through a URL with a password."""
    url = new_pg_database(pg_template)
    yield make_url(url).set(password=PASSWORD).render_as_string(hide_password=False)
    drop_pg_database(url)


def everything_ps_shows() -> str:
    done = subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True, check=True)
    return done.stdout


def slurm_views(batch_ids: set[str]) -> str:
    """The batch scripts and job records Slurm shows for the pilots."""
    texts = []
    for batch_id in batch_ids:
        for command in (["scontrol", "write", "batch_script", batch_id, "-"],
                        ["scontrol", "show", "job", batch_id]):  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            texts.append(done.stdout)
    assert any("exec " in text for text in texts)  # the scripts were really read
    return "\n".join(texts)


def files_under(*roots: Path) -> Iterator[tuple[Path, str]]:
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.name.endswith((".db", ".db-wal", ".db-shm")):
                yield path, path.read_text(errors="replace")


def test_the_password_appears_in_no_argv_script_log_or_output(
    secret_url: str, kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    app = Brownthrower(Database(secret_url))
    runs = Dispatchers(app, secret_url, tmp_path)
    try:
        workload.submit_jobs(app, "sleep", 2, input="2")
        workload.submit_jobs(app, "environ", 2)
        process = runs.start(kind, "--pilots", "2", "--cancel-on-exit", "-v")
        wait_for(lambda: app.jobs.counts()["RUNNING"] == 2, process=process)
        seen = everything_ps_shows()
        if kind == "slurm":
            seen += slurm_views(live_ids(backend_of(secret_url, tmp_path, kind)))
        wait_for(lambda: workload.finished(app), process=process)
        process.terminate()
        out, err = process.communicate(timeout=60)
    finally:
        runs.close()
        app.close()
    assert "***" in out + err  # the masked URL was printed
    assert PASSWORD not in seen + out + err
    roots = [tmp_path]
    if kind == "slurm":
        roots.append(request.getfixturevalue("slurm_cluster").parent / "log")
    files = dict(files_under(*roots))
    assert any("brownthrower pilot" in text for text in files.values())  # pilot logs were read
    assert [str(path) for path, text in files.items() if PASSWORD in text] == []
