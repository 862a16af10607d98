"""Crash-loop backoff with real pilots: a pilot command that exits at once, a submission the
batch system refuses, a quota, and what `dispatcher status` shows of them. Time is forced, never
waited for: the backoff is long, and the tests move the dispatcher's clock past it."""

from __future__ import annotations

import io
import os
import re
import stat
import sys
import time
from pathlib import Path

import pytest

from bt import Brownthrower, Status
from bt.dispatch import Dispatcher, Snapshot
from bt.dispatch.journal import Journal
from bt.dispatch.reconcile import Policy, Reconciler
from shell.app import build_shell
from tests.dispatch import workload
from tests.dispatch.helpers import Dispatchers, drive, make_slurm

pytestmark = pytest.mark.slow

ERROR = "ImportError: No module named 'numpyy'"
CRASH = f"""#!/bin/sh
echo "the site's pilot wrapper starts"
echo "Traceback (most recent call last):" >&2
echo "{ERROR}" >&2
exit 1
"""
FIXED = f'#!/bin/sh\nexec {Path(sys.executable).with_name("bt-runner")} "$@"\n'
ENV = {"BT_DATABASE_URL": "sqlite:////nowhere/bt.db"}


def executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def backing_off(snapshot: Snapshot) -> bool:
    return snapshot.report.backoff.startswith("backing off")


def submissions(seen: list[Snapshot]) -> list[str]:
    return [batch_id for s in seen for batch_id in s.report.submitted]


def later(dispatcher: Dispatcher, seconds: float) -> None:
    """Move the dispatcher's clock `seconds` ahead (a backoff ends without waiting for it)."""
    dispatcher.reconciler.clock = lambda: time.time() + seconds


def shell_status(app: Brownthrower, tmp_path: Path, kind: str) -> str:
    shell = build_shell(None, client=app, scripted=True, auto_suggest=False)
    shell.stdout = io.StringIO()
    shell.onecmd_plus_hooks(f"dispatcher status --name t --backend {kind} --state-dir {tmp_path}")
    return shell.stdout.getvalue()


def test_a_pilot_that_exits_at_once_costs_3_submissions_then_backs_off_until_one_claims(
    dispatchers: Dispatchers, kind: str, app: Brownthrower, tmp_path: Path
) -> None:
    pilot = executable(tmp_path / "site-runner", CRASH)
    dispatcher = dispatchers.build(
        kind, "--pilots", "2", "--runner", str(pilot), "--backoff", "600"
    )
    seen: list[Snapshot] = []
    stopped = drive(dispatcher, backing_off, seen=seen)
    assert len(submissions(seen)) == 3
    assert re.search(r": 3 pilots exited within \d s$", stopped.report.backoff)
    for _ in range(3):  # passes during the backoff submit nothing
        assert dispatcher.step().report.submitted == []

    shown = shell_status(app, tmp_path, kind)
    assert "backing off until" in shown and "3 pilots exited within" in shown
    assert ERROR in shown and "the site's pilot wrapper starts" in shown  # the output's tail
    assert all(batch_id in shown for batch_id in submissions(seen))  # recent submissions
    assert shown.count("without claiming a job") >= 3  # the failures, with their reasons

    executable(pilot, FIXED)  # someone mends the pilot command
    (job,) = workload.submit_jobs(app, "noop", 1)
    later(dispatcher, 601)
    first = dispatcher.step()
    assert len(first.report.submitted) == 1  # one pilot at a time after a backoff
    drive(dispatcher, lambda s: s.report.backoff == "ok")  # the new pilot claimed the job
    assert app.jobs.info(job).status in (Status.RUNNING, Status.DONE)
    shown = shell_status(app, tmp_path, kind)
    assert re.search(r"Failures:\s+none", shown) and "Recent failures:" in shown


def test_after_a_backoff_the_next_failure_doubles_it(
    dispatchers: Dispatchers, app: Brownthrower, tmp_path: Path
) -> None:
    pilot = executable(tmp_path / "site-runner", CRASH)
    dispatcher = dispatchers.build(
        "local", "--pilots", "2", "--runner", str(pilot), "--backoff", "600"
    )
    drive(dispatcher, backing_off)
    first = dispatcher.reconciler.backoff.until
    assert first is not None
    later(dispatcher, 601)
    seen: list[Snapshot] = []
    drive(dispatcher, lambda s: dispatcher.reconciler.backoff.until != first, seen=seen)
    assert len(submissions(seen)) == 1
    until = dispatcher.reconciler.backoff.until
    assert until is not None and 1199 < until - (time.time() + 601) <= 1200


def test_a_looping_pilot_that_leaves_at_once_with_exit_code_0_is_a_failure_too(
    dispatchers: Dispatchers, app: Brownthrower, tmp_path: Path
) -> None:
    """`--runner-args=--version`, say: every pilot prints a version and exits 0."""
    pilot = executable(tmp_path / "site-runner", "#!/bin/sh\necho 'bt-runner 1.0'\n")
    dispatcher = dispatchers.build("local", "--pilots", "2", "--runner", str(pilot))
    seen: list[Snapshot] = []
    drive(dispatcher, backing_off, seen=seen)
    assert len(submissions(seen)) == 3
    assert dispatcher.journal.failures[-1].text.endswith(
        "(exit code 0) after 1 s without registering"
    )


def test_a_restarted_dispatcher_keeps_its_backoff(
    dispatchers: Dispatchers, app: Brownthrower, tmp_path: Path
) -> None:
    pilot = executable(tmp_path / "site-runner", CRASH)
    options = ("--pilots", "2", "--runner", str(pilot), "--backoff", "600")
    drive(dispatchers.build("local", *options), backing_off)
    again = dispatchers.build("local", *options)  # the same name and state dir
    snapshot = again.step()
    assert backing_off(snapshot) and snapshot.report.submitted == []


@pytest.mark.slurm
def test_refused_submissions_count_as_failures(slurm_cluster: Path, tmp_path: Path) -> None:
    backend = make_slurm(tmp_path, partition="nosuch")
    keeper = Reconciler(backend, Policy("static", pilots=2), ["/bin/true"], ENV)
    reports = [keeper.reconcile(None) for _ in range(5)]
    tried = [r for r in reports if any("cannot submit a pilot" in w for w in r.warnings)]
    assert len(tried) == 3  # one sbatch per pass until the third failure, then none
    assert reports[-1].backoff.endswith(": 3 submissions failed")
    assert keeper.journal.submit_error is not None
    assert "Invalid partition" in keeper.journal.submit_error.text


def test_a_quota_refusal_is_at_capacity_not_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    executable(bin_dir / "squeue", "#!/bin/sh\nexit 0\n")
    executable(
        bin_dir / "sbatch",
        "#!/bin/sh\necho 'sbatch: error: QOSMaxSubmitJobPerUserLimit' >&2\n"
        "echo 'sbatch: error: Batch job submission failed: Job violates accounting/QOS policy "
        "(job submit limit, user'\"'\"'s size and/or time limits)' >&2\nexit 1\n",
    )
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    keeper = Reconciler(make_slurm(tmp_path), Policy("static", pilots=2), ["/bin/true"], ENV)
    reports = [keeper.reconcile(None) for _ in range(5)]
    assert all(any("at capacity" in w for w in r.warnings) for r in reports)
    assert reports[-1].backoff == "ok" and keeper.backoff.streak == []
    assert keeper.journal.capacity is not None and keeper.journal.submit_error is None


def test_the_journal_round_trips(tmp_path: Path) -> None:
    from bt.dispatch import journal

    written = Journal(dispatcher_id="t-1234abcd", updated=5.0, pilots=["7", "8"])
    written.submitted(1.0, "7")
    written.failed(2.0, "pilot 6 FAILED (exit code 1) after 1 s without claiming a job")
    journal.save(tmp_path, written)
    assert journal.load(tmp_path) == written
    (tmp_path / journal.FILE).write_text("{not json")
    assert journal.load(tmp_path) is None
