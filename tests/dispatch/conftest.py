"""Fixtures of the dispatcher tests: a real single-node Slurm, backends, and waiting helpers.

The Slurm cluster (scripts/slurm-cluster) starts on the first test that asks for it and stops at
the end of the session. Without root or the Slurm binaries those tests skip; with `CI=true` they
fail instead, so CI cannot go green by skipping.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from bt.dispatch.backend import Backend, BatchError
from bt.dispatch.local import LocalBackend
from bt.dispatch.slurm import SlurmBackend
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "slurm-cluster"
T = TypeVar("T")


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
    shutil.rmtree(base, ignore_errors=True)


def pilot_name() -> str:
    return f"bt-pilot-test-{uuid.uuid4().hex[:8]}"


def make_local(state: Path, name: str | None = None) -> LocalBackend:
    return LocalBackend(state, name or pilot_name(), kill_wait=2)


def make_slurm(state: Path, name: str | None = None, **options: object) -> SlurmBackend:
    return SlurmBackend(
        name or pilot_name(),
        log_dir=state / "logs",
        work_dir=state,
        **options,  # type: ignore[arg-type]
    )


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


def cancel_everything(backend: Backend, timeout: float = 20.0) -> None:
    """Cancel every live pilot of `backend` and wait until none is left."""
    with contextlib.suppress(BatchError):
        for pilot in backend.status():
            if pilot.live:
                with contextlib.suppress(BatchError):
                    backend.cancel(pilot.batch_id)
        deadline = time.monotonic() + timeout
        while any(not p.final for p in backend.status()) and time.monotonic() < deadline:
            time.sleep(0.2)


def wait_for(what: Callable[[], T], timeout: float = 30.0, every: float = 0.2) -> T:
    """Poll `what` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)
