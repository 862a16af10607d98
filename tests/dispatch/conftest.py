"""Fixtures of the dispatcher tests: a real single-node Slurm, backends, and waiting helpers.

The Slurm cluster (scripts/slurm-cluster) starts on the first test that asks for it and stops at
the end of the session. Without root or the Slurm binaries those tests skip; with `CI=true` they
fail instead, so CI cannot go green by skipping.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bt import Brownthrower
from bt.dispatch.backend import Backend
from tests.conftest import IN_CI
from tests.dispatch.helpers import (
    Dispatchers,
    backend_of,
    cancel_everything,
    make_local,
    make_slurm,
)

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "slurm-cluster"


def slurm_unavailable() -> str | None:
    """Why no Slurm cluster can be started here, or None."""
    if os.geteuid() != 0:
        return "the single-node Slurm needs root"
    missing = [b for b in ("slurmctld", "slurmd", "munged", "sbatch") if not _which(b)]
    return f"not installed: {', '.join(missing)} (scripts/bootstrap --dev)" if missing else None


def _which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[Path]:
    """A running single-node Slurm; `SLURM_CONF` points at it for the whole session."""
    reason = slurm_unavailable()
    if reason:
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: Slurm tests must run)")
        pytest.skip(reason)
    base = Path(tempfile.mkdtemp(prefix="bt-slurmtest-"))
    done = subprocess.run(
        [str(SCRIPT), "start", str(base / "slurm")], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"cannot start Slurm: {done.stderr.strip()}")
    conf = done.stdout.strip().splitlines()[-1]
    os.environ["SLURM_CONF"] = conf
    yield Path(conf)
    subprocess.run([str(SCRIPT), "stop", str(base / "slurm")], capture_output=True, check=False)
    os.environ.pop("SLURM_CONF", None)
    for _ in range(20):  # the daemons' last writes may still land for a moment
        shutil.rmtree(base, ignore_errors=True)
        if not base.exists():
            break
        time.sleep(0.25)


@pytest.fixture(params=["local", pytest.param("slurm", marks=pytest.mark.slurm)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each backend in turn (Slurm on the test cluster); its pilots are cancelled afterwards."""
    if request.param == "slurm":
        request.getfixturevalue("slurm_cluster")
        made: Backend = make_slurm(tmp_path)
    else:
        made = make_local(tmp_path)
    yield made
    cancel_everything(made)


@pytest.fixture(params=["local", pytest.param("slurm", marks=pytest.mark.slurm)])
def kind(request: pytest.FixtureRequest) -> str:
    """Each backend's name in turn (starting the test Slurm for `slurm`)."""
    if request.param == "slurm":
        request.getfixturevalue("slurm_cluster")
    return str(request.param)


@pytest.fixture
def dispatchers(app: Brownthrower, db_url: str, tmp_path: Path) -> Iterator[Dispatchers]:
    made = Dispatchers(app, db_url, tmp_path)
    yield made
    made.close()
    for kind in ("local", "slurm"):
        if kind == "local" or os.environ.get("SLURM_CONF"):
            leftover = backend_of(db_url, tmp_path, kind)
            cancel_everything(leftover)
