"""Failures keep their reason, traceback and exit code; crashes never stop the runner."""

from __future__ import annotations

from bt import Brownthrower, Status
from tests.runner.conftest import Runners, status, submit, tags


def test_a_task_exception_fails_the_job_with_its_traceback(
    app: Brownthrower, runners: Runners
) -> None:
    job = submit(app, "raiser")
    runners.run()
    kept = tags(app, job)
    assert status(app, job) is Status.FAILED
    assert kept["bt_reason"] == "ValueError: boom"
    assert 'raise ValueError("boom")' in kept["bt_traceback"]
    assert kept["bt_exit_code"] == "1"  # the job process exits 1 when its phase failed


def test_an_output_yaml_cannot_represent_fails_the_job(app: Brownthrower, runners: Runners) -> None:
    job = submit(app, "unyaml")
    runners.run()
    assert status(app, job) is Status.FAILED
    assert "cannot be represented in YAML" in tags(app, job)["bt_reason"]


def test_a_segfault_fails_the_job_and_the_runner_carries_on(
    app: Brownthrower, runners: Runners
) -> None:
    crash, after = submit(app, "segfault"), submit(app, "noop")
    runners.run()
    kept = tags(app, crash)
    assert status(app, crash) is Status.FAILED
    assert kept["bt_exit_code"] == "-11"
    assert "SIGSEGV" in kept["bt_traceback"]
    assert "Segmentation fault" in kept["bt_traceback"]  # faulthandler's dump, from stderr
    assert status(app, after) is Status.DONE


def test_os_exit_fails_the_job_with_its_exit_code(app: Brownthrower, runners: Runners) -> None:
    job = submit(app, "exit3")
    runners.run()
    kept = tags(app, job)
    assert kept["bt_exit_code"] == "3"
    assert "exited with status 3 without reporting a result" in kept["bt_traceback"]


def test_a_rerun_does_not_overwrite_the_first_runs_log_files(
    app: Brownthrower, runners: Runners
) -> None:
    job = submit(app, "segfault")
    runners.run()
    app.jobs.submit(job)
    runners.run()
    first, second = runners.logs / f"{job}.1.out", runners.logs / f"{job}.1-2.out"
    assert first.read_text() == second.read_text() == "about to crash\n"
