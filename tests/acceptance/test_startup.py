"""The installed `brownthrower status` on a current database: Alembic is not loaded to check
the schema, only to migrate it (the time it saves is measured by bench/startup.py)."""

from __future__ import annotations

import re
import subprocess

from tests.acceptance.conftest import PROGRAM

_IMPORTED = re.compile(r"^import time:.*\| +(\S+)$", re.MULTILINE)


def imported_by_status(env: dict[str, str]) -> set[str]:
    """The modules `brownthrower status` imports (`-X importtime` on its standard error)."""
    done = subprocess.run(
        [str(PROGRAM), "status"],
        env={**env, "PYTHONPROFILEIMPORTTIME": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return set(_IMPORTED.findall(done.stderr))


def test_status_on_a_current_database_does_not_import_alembic(env: dict[str, str]) -> None:
    assert sorted(m for m in imported_by_status(env) if m.split(".")[0] == "alembic") == []
