"""The reconciliation pass, on real backends with stand-in pilots (processes that just wait)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from bt.dispatch.backend import Backend
from bt.dispatch.local import LocalBackend
from bt.dispatch.reconcile import Policy, Reconciler
from bt.dispatch.sizing import Work
from tests.dispatch.helpers import cancel_everything, make_local, make_slurm, wait_for

WAITER = ["/bin/sh", "-c", "exec sleep 300"]
ENV = {"BT_DATABASE_URL": "sqlite:////nowhere/bt.db"}
STATIC_2 = Policy("static", pilots=2)


def reconciler(backend: Backend, policy: Policy = STATIC_2) -> Reconciler:
    return Reconciler(backend, policy, WAITER, ENV)


def live(backend: Backend) -> list[str]:
    return sorted(p.batch_id for p in backend.status() if p.live)


def test_static_submits_the_missing_pilots(backend: Backend) -> None:
    report = reconciler(backend).reconcile(None)
    assert len(report.submitted) == 2
    assert live(backend) == sorted(report.submitted)


def test_static_keeps_the_number_once_reached(backend: Backend) -> None:
    keeper = reconciler(backend)
    keeper.reconcile(None)
    report = keeper.reconcile(None)
    assert report.submitted == [] and report.cancelled == []


def test_a_killed_pilot_is_reported_and_replaced(tmp_path: Path) -> None:
    backend = make_local(tmp_path)
    keeper = reconciler(backend)
    first = keeper.reconcile(None).submitted
    os.killpg(_group(tmp_path, first[0]), signal.SIGKILL)
    wait_for(lambda: len(live(backend)) == 1)
    report = keeper.reconcile(None)
    assert any(first[0] in w and "FAILED" in w for w in report.warnings)
    assert len(report.submitted) == 1 and len(live(backend)) == 2
    cancel_everything(backend)


def test_a_restarted_dispatcher_adopts_its_pilots(backend: Backend) -> None:
    reconciler(backend).reconcile(None)
    report = reconciler(backend).reconcile(None)  # a new reconciler, as after a restart
    assert report.submitted == [] and report.live == 2


def test_surplus_pilots_are_cancelled(backend: Backend) -> None:
    reconciler(backend).reconcile(None)
    report = reconciler(backend, Policy("static", pilots=1)).reconcile(None)
    assert len(report.cancelled) == 1
    wait_for(lambda: len(live(backend)) == 1)


def test_on_demand_never_cancels_a_running_pilot(backend: Backend) -> None:
    reconciler(backend).reconcile(None)
    wait_for(lambda: all(p.state == "RUNNING" for p in backend.status()))
    report = reconciler(backend, Policy("on-demand", max_pilots=5)).reconcile(Work(0))
    assert report.cancelled == []


@pytest.mark.slurm
def test_a_failing_sbatch_is_a_warning_and_the_next_pass_retries(
    slurm_cluster: Path, tmp_path: Path
) -> None:
    backend = make_slurm(tmp_path, partition="nosuch")
    report = reconciler(backend).reconcile(None)
    assert report.submitted == []
    assert any("cannot submit a pilot" in w and "sbatch" in w for w in report.warnings)


@pytest.mark.slurm
def test_a_pilot_cancelled_behind_the_dispatchers_back_is_replaced(
    slurm_cluster: Path, tmp_path: Path
) -> None:
    backend = make_slurm(tmp_path)
    keeper = reconciler(backend)
    first = keeper.reconcile(None).submitted
    backend.cancel(first[0])
    wait_for(lambda: any(p.batch_id == first[0] and p.final for p in backend.status()))
    report = keeper.reconcile(None)
    assert any(first[0] in w and "CANCELLED" in w for w in report.warnings)
    assert len(report.submitted) == 1
    cancel_everything(backend)


def test_a_batch_system_that_cannot_answer_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no squeue, no sbatch
    report = reconciler(make_slurm(tmp_path)).reconcile(None)
    assert report.pilots is None and report.submitted == []
    assert any("cannot list pilots" in w for w in report.warnings)


class Forgetful(LocalBackend):
    """A batch system that loses a pilot between listing it and cancelling it."""

    def cancel(self, batch_id: str) -> None:
        record = self.records / f"{batch_id}.json"
        record.rename(record.with_suffix(".lost"))
        try:
            super().cancel(batch_id)
        finally:
            record.with_suffix(".lost").rename(record)


def test_cancelling_a_pilot_the_batch_system_forgot_is_a_warning(tmp_path: Path) -> None:
    backend = Forgetful(tmp_path, "bt-pilot-forgetful")
    reconciler(backend).reconcile(None)
    report = reconciler(backend, Policy("static", pilots=0)).reconcile(None)
    cancel_everything(make_local(tmp_path, "bt-pilot-forgetful"))
    assert report.cancelled == []
    assert sum("cannot cancel pilot" in w and "Unknown" in w for w in report.warnings) == 2


def test_on_demand_submits_what_the_sizing_asks(tmp_path: Path) -> None:
    keeper = reconciler(make_local(tmp_path), Policy("on-demand", max_pilots=3, jobs_per_pilot=2))
    report = keeper.reconcile(Work(runnable=3, soon_runnable=0))
    assert len(report.submitted) == 2 and report.desired == 2
    assert report.demand is not None and report.demand.runnable == 3
    cancel_everything(keeper.backend)


def test_on_demand_counts_soon_runnable_work_only_for_pilots_that_wait(tmp_path: Path) -> None:
    draining = reconciler(make_local(tmp_path, "bt-pilot-a"), Policy("on-demand"))
    assert draining.reconcile(Work(0, soon_runnable=4)).submitted == []
    waiting = reconciler(make_local(tmp_path, "bt-pilot-b"), Policy("on-demand", idle_exit=30))
    assert len(waiting.reconcile(Work(0, soon_runnable=4)).submitted) == 4
    cancel_everything(waiting.backend)


def test_on_demand_without_counts_changes_nothing(tmp_path: Path) -> None:
    report = reconciler(make_local(tmp_path), Policy("on-demand")).reconcile(None)
    assert report.desired is None and report.submitted == []


def test_static_wants_its_number_whatever_the_work(tmp_path: Path) -> None:
    keeper = reconciler(make_local(tmp_path), Policy("static", pilots=3))
    assert len(keeper.reconcile(Work(0)).submitted) == 3
    cancel_everything(keeper.backend)


def test_static_submits_at_most_max_submit_per_pass(tmp_path: Path) -> None:
    keeper = reconciler(make_local(tmp_path), Policy("static", pilots=3, max_submit=2))
    assert len(keeper.reconcile(None).submitted) == 2
    assert len(keeper.reconcile(None).submitted) == 1
    cancel_everything(keeper.backend)


def _group(state: Path, key: str) -> int:
    record = json.loads((state / "pilots" / f"{key}.json").read_text())
    return int(record["group"])


class _OrderedProbe:
    """A probe that notes when it looked, beside the work count."""

    def __init__(self, seen: list[str]) -> None:
        self.seen = seen

    def update(self, records: object) -> None:
        self.seen.append("probe")


def test_work_is_counted_after_the_pilots_runners_were_looked_at(backend: Backend) -> None:
    """Counted before, a job claimed between the two looks was both demand and a busy pilot:
    one pilot too many."""
    seen: list[str] = []
    keeper = Reconciler(
        backend, Policy("on-demand", max_pilots=2), WAITER, ENV, probe=_OrderedProbe(seen)
    )
    keeper.reconcile(lambda: seen.append("work") or Work(1, 0))  # type: ignore[func-returns-value]
    cancel_everything(backend)
    assert seen == ["probe", "work"]
