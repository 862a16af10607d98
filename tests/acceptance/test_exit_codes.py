"""One exit-code table (`bt.cli.common.EXIT_CODES`) for the three installed programs: the same
error gives `brownthrower`, `bt-runner` and `bt-dispatcher` the same status and the same single
`PROGRAM: error: MESSAGE` line on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bt.cli.common import RET_DATABASE, RET_ERROR, RET_USAGE
from bt.db import Database

BIN = Path(sys.executable).parent
#: Each program with arguments that reach the database: two shell commands (the second must not
#: run once the database has failed), a runner in drain mode, one dispatcher pass.
PROGRAMS = {"brownthrower": ["status", "job list"], "bt-runner": [], "bt-dispatcher": ["--once"]}
UNREACHABLE = {
    "sqlite-file-not-creatable": "sqlite:////proc/brownthrower.db",
    "postgresql-refused": "postgresql://nobody@127.0.0.1:1/bt",
}


def run(program: str, tmp_path: Path, *more: str, **env: str) -> tuple[int, list[str]]:
    """`program` with its arguments and `more`, in `tmp_path` with private XDG dirs and `env`:
    its exit status and its stderr lines."""
    if not (BIN / program).exists():
        pytest.skip(f"{BIN / program} is not installed (scripts/bootstrap)")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("BT_", "XDG_"))}
    xdg = {f"XDG_{d}_HOME": str(tmp_path / d.lower()) for d in ("DATA", "STATE", "CONFIG")}
    done = subprocess.run(
        [str(BIN / program), *PROGRAMS[program], *more],
        env={**base, **xdg, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stderr.splitlines()


def outcomes(tmp_path: Path, *more: str, **env: str) -> dict[str, tuple[int, list[str]]]:
    """Each program's status and stderr lines, the `PROGRAM: ` prefix taken off."""
    found = {}
    for program in PROGRAMS:
        code, lines = run(program, tmp_path, *more, **env)
        found[program] = code, [line.removeprefix(f"{program}: ") for line in lines]
    return found


def assert_alike(found: dict[str, tuple[int, list[str]]], code: int, start: str) -> None:
    """Every program exited `code` with one and the same `error:` line, starting `start`."""
    first = next(iter(found.values()))
    assert all(outcome == first for outcome in found.values()), found
    status, lines = first
    assert status == code and len(lines) == 1 and lines[0].startswith(f"error: {start}"), found


@pytest.mark.parametrize("url", UNREACHABLE.values(), ids=UNREACHABLE)
def test_an_unreachable_database_gives_status_3_and_one_error_line_from_every_program(
    url: str, tmp_path: Path
) -> None:
    found = outcomes(tmp_path, "-u", url)
    assert_alike(found, RET_DATABASE, "Cannot use the database")


def test_a_database_directory_that_cannot_be_made_counts_as_unreachable(tmp_path: Path) -> None:
    found = outcomes(tmp_path, "-u", "sqlite:////proc/nope/x.db")
    assert_alike(found, RET_DATABASE, "Cannot use the database")


def test_a_database_at_another_schema_gives_status_3_from_every_program(
    database: Database, db_url: str, tmp_path: Path
) -> None:
    with database.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    found = outcomes(tmp_path, BT_DATABASE_URL=db_url)
    assert_alike(found, RET_DATABASE, "The database")


def test_a_missing_config_file_gives_status_1_and_one_error_line_from_every_program(
    tmp_path: Path,
) -> None:
    found = outcomes(tmp_path, BT_CONFIG=str(tmp_path / "missing.toml"))
    assert_alike(found, RET_ERROR, "Config file")


def test_an_unknown_option_gives_status_2_from_every_program(tmp_path: Path) -> None:
    found = {program: run(program, tmp_path, "--no-such-option")[0] for program in PROGRAMS}
    assert set(found.values()) == {RET_USAGE}, found
