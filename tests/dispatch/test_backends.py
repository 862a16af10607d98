"""The conformance test of the backend interface: `local` and `slurm` behave the same."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bt.dispatch.backend import Backend, BatchError, Pilot
from tests.dispatch.helpers import make_local, make_slurm, wait_for

STANDIN = Path(__file__).with_name("standin_runner.py")
SLEEPER = ["/bin/sh", "-c", 'echo "$BT_DATABASE_URL" > "$0"; exec sleep 300']
ENV = {"BT_DATABASE_URL": "sqlite:////nowhere/bt.db"}


def pilot(backend: Backend, batch_id: str) -> Pilot | None:
    return next((p for p in backend.status() if p.batch_id == batch_id), None)


def ended(backend: Backend, batch_id: str) -> Pilot | None:
    found = pilot(backend, batch_id)
    return found if found is not None and found.final else None


def test_a_submitted_pilot_is_listed_live(backend: Backend, tmp_path: Path) -> None:
    batch_id = backend.submit([*SLEEPER, str(tmp_path / "env")], ENV)
    found = pilot(backend, batch_id)
    assert found is not None and found.live


def test_a_pilot_gets_its_environment(backend: Backend, tmp_path: Path) -> None:
    backend.submit([*SLEEPER, str(tmp_path / "env")], ENV)
    wait_for(lambda: (tmp_path / "env").exists() and (tmp_path / "env").read_text())
    assert (tmp_path / "env").read_text().strip() == ENV["BT_DATABASE_URL"]


def test_a_cancelled_pilot_ends(backend: Backend, tmp_path: Path) -> None:
    batch_id = backend.submit([*SLEEPER, str(tmp_path / "env")], ENV)
    wait_for((tmp_path / "env").exists)
    backend.cancel(batch_id)
    assert wait_for(lambda: ended(backend, batch_id)).final


def test_cancel_signals_the_runner_but_not_its_job_processes(
    backend: Backend, tmp_path: Path
) -> None:
    batch_id = backend.submit([sys.executable, str(STANDIN), str(tmp_path)], ENV)
    wait_for((tmp_path / "ready").exists)
    backend.cancel(batch_id)
    wait_for(lambda: ended(backend, batch_id))
    assert (tmp_path / "runner-term").exists()
    assert not (tmp_path / "job-term").exists()


@pytest.mark.slurm
def test_a_pending_pilot_can_be_cancelled(tmp_path: Path, slurm_cluster: Path) -> None:
    backend = make_slurm(tmp_path, sbatch_args=["--hold"])
    batch_id = backend.submit(["/bin/true"], ENV)
    backend.cancel(batch_id)
    assert wait_for(lambda: ended(backend, batch_id)).state == "CANCELLED"


def test_a_pilot_exiting_0_ends_completed(backend: Backend) -> None:
    batch_id = backend.submit(["/bin/true"], ENV)
    assert wait_for(lambda: ended(backend, batch_id)).state == "COMPLETED"


def test_a_pilot_exiting_non_zero_ends_failed_with_its_code(backend: Backend) -> None:
    batch_id = backend.submit(["/bin/sh", "-c", "exit 3"], ENV)
    failed = wait_for(lambda: ended(backend, batch_id))
    assert failed.state == "FAILED"
    assert "exit code 3" in failed.reason


def test_a_pilot_without_a_database_url_stops_at_once(backend: Backend) -> None:
    batch_id = backend.submit(["/bin/true"], {})
    failed = wait_for(lambda: ended(backend, batch_id))
    assert failed.state == "FAILED" and "78" in failed.reason


def test_status_lists_only_this_dispatchers_pilots(backend: Backend, tmp_path: Path) -> None:
    backend.submit([*SLEEPER, str(tmp_path / "env")], ENV)
    other = make_local(tmp_path) if backend.__class__.__name__ == "LocalBackend" else None
    other = other or make_slurm(tmp_path)
    assert other.status() == []


def test_cancelling_an_unknown_pilot_is_a_batch_error(backend: Backend) -> None:
    with pytest.raises(BatchError):
        backend.cancel("999999")
