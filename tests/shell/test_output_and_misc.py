from __future__ import annotations

import json
import threading
from pathlib import Path

from bt import Brownthrower, Status
from bt.values import RunResult
from tests.factories import claim, job, run_next, runner
from tests.shell.conftest import Driver


def finished(app: Brownthrower, task: str = "noop", *, fail: bool = False, **tags: str) -> int:
    """A job run to DONE (or FAILED) with captured-output tags."""
    job_id = job(app, task, submit=True)
    held = claim(app, runner(app), (task,))
    for name, value in tags.items():
        app.claims.put_tag(held, name, value)
    if fail:
        app.claims.fail(held, "exception", "Traceback: boom")
    else:
        app.claims.finish(held, RunResult(output="1\n"))
    return job_id


def test_log_prints_each_captured_stream(run: Driver, app: Brownthrower) -> None:
    job_id = finished(app, bt_stdout="out line\n", bt_stderr="err line\n")
    result = run(f"job log {job_id}")
    assert "### bt_stdout:\nout line\n### bt_stderr:\nerr line" in result.out
    assert set(result.data) == {"bt_stdout", "bt_stderr"}


def test_log_of_one_stream(run: Driver, app: Brownthrower) -> None:
    job_id = finished(app, bt_stdout="out\n", bt_stderr="err\n")
    assert "err" not in run(f"job log {job_id} --stream stdout").out


def test_log_without_output_warns(run: Driver, app: Brownthrower) -> None:
    result = run(f"job log {job(app, 'noop')}")
    assert "has no captured output" in result.err and not result.failed


def test_log_follow_of_a_finished_job_prints_all_and_ends(run: Driver, app: Brownthrower) -> None:
    job_id = finished(app, bt_stdout="a\nb\n")
    result = run(f"job log {job_id} --follow --interval 0.05")
    assert result.out.startswith("a\nb\n") and f"Job {job_id} is DONE." in result.out


def test_new_text_after_truncation_continues_where_it_was() -> None:
    from shell.commands.job_output import new_text

    assert new_text("one\ntwo\n", "one\ntwo\nthree\n") == "three\n"
    assert new_text("l1\nl2\nl3\n", "l1\n[... cut ...]\nl3\nl4\n") == "l4\n"
    assert new_text("abc\n", "xyz\n") == "\n[... output truncated ...]\nxyz\n"


def test_wait_reports_each_job(run: Driver, app: Brownthrower) -> None:
    job_id = finished(app)
    result = run(f"job wait {job_id}")
    assert result.data == {job_id: Status.DONE} and f"Job {job_id} is DONE." in result.out


def test_wait_fails_when_a_job_ends_otherwise(run: Driver, app: Brownthrower) -> None:
    job_id = finished(app, fail=True)
    result = run(f"job wait {job_id}")
    assert result.failed and f"Job {job_id} is FAILED, not DONE." in result.err


def test_wait_can_expect_a_failure(run: Driver, app: Brownthrower) -> None:
    job_id = finished(app, fail=True)
    assert not run(f"job wait {job_id} --expect failed").failed


def test_wait_times_out(run: Driver, app: Brownthrower) -> None:
    job_id = job(app, "noop", submit=True)
    result = run(f"job wait {job_id} --timeout 0.2 --interval 0.05")
    assert result.failed and f"Timed out: job {job_id} (QUEUED) has not finished." in result.err


def test_top_once_prints_a_snapshot(run: Driver, app: Brownthrower) -> None:
    finished(app)
    out = run("job top --once").out
    assert "RUNNING (0):" in out and "RECENTLY FINISHED:" in out and "DONE 1" in out


def test_watch_once_shows_the_job_and_its_output(run: Driver, app: Brownthrower) -> None:
    job_id = finished(app, bt_stdout="hello\n")
    out = run(f"job watch {job_id} --once").out
    assert "### bt_stdout:\nhello" in out and f"{job_id} noop DONE" in out


def test_db_info_masks_nothing_it_does_not_have_and_counts(run: Driver, app: Brownthrower) -> None:
    job(app, "noop")
    result = run("db info --json")
    info = json.loads(result.out)
    assert info["schema"] == info["schema_head"] and info["counts"]["STASHED"] == 1


def test_db_upgrade_of_a_current_schema(run: Driver) -> None:
    assert "already at the current version" in run("db upgrade").out


def test_runner_list_without_runners(run: Driver) -> None:
    result = run("runner list")
    assert result.data == [] and "No runner is running." in result.err


def test_runner_stop_of_an_unknown_runner(run: Driver) -> None:
    assert run("runner stop 42").failed


def test_runner_start_list_and_stop(app: Brownthrower, db_url: str, tmp_path) -> None:
    import time

    from bt.config import load_settings
    from shell.app import build_shell

    shell = build_shell(load_settings(db_url, {}), client=app, scripted=True)
    run = Driver(shell)
    job_id = job(app, "noop", submit=True)
    started = run(f"runner start --lease 4 --log-dir {tmp_path}/logs --work-dir {tmp_path}/w")
    assert not started.failed, started.err
    (live,) = run("runner list").data
    assert live.id == started.data
    cmdline = Path(f"/proc/{live.pid}/cmdline").read_bytes().decode()
    assert "--loop" in cmdline and "sqlite" not in cmdline and "postgresql" not in cmdline
    assert run(f"job wait {job_id} --timeout 30 --interval 0.1").data == {job_id: Status.DONE}
    run(f"runner stop {started.data}")
    deadline = time.monotonic() + 20
    while run("runner list").data and time.monotonic() < deadline:
        time.sleep(0.2)
    assert run("runner list").data == []


def test_live_views_wake_up_on_postgresql_notifications(app: Brownthrower) -> None:
    import select

    from shell import live

    with live.wakeups(app.db.url) as fd:
        if not app.db.is_postgresql:
            assert fd is None
            return
        assert fd is not None
        job(app, "noop", submit=True)  # new runnable work: NOTIFY bt_work
        ready, _, _ = select.select([fd], [], [], 10)
        assert ready == [fd]


def test_log_follow_of_a_queued_job_says_it_waits_for_it_to_start(
    run: Driver, app: Brownthrower
) -> None:
    job_id = job(app, "noop", submit=True)
    ender = threading.Timer(0.3, lambda: run_next(app, runner(app)))
    ender.start()
    result = run(f"job log {job_id} --follow --interval 0.05")
    ender.join()
    assert f"Job {job_id} is QUEUED: waiting for it to start" in result.err + result.out


def test_wait_timing_out_names_each_unfinished_job_and_its_status(
    run: Driver, app: Brownthrower
) -> None:
    done, running, queued = (job(app, "noop", submit=True) for _ in range(3))
    run_next(app, who := runner(app))
    claim(app, who)
    result = run(f"job wait {done} {running} {queued} --timeout 0.2 --interval 0.05")
    assert result.failed
    assert f"2 jobs have not finished: {running} (RUNNING), {queued} (QUEUED)." in result.err
