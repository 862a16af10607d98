"""What a job prints and logs reaches its tags while it runs, and the log dir in full."""

from __future__ import annotations

from bt import Brownthrower, Status, yamlio
from bt.config import mask_url
from tests.runner.conftest import Runners, status, submit, tags, wait_for


def test_output_is_visible_in_tags_while_the_job_runs(app: Brownthrower, runners: Runners) -> None:
    job = submit(app, "progress")
    runner = runners.start()
    live = wait_for(lambda: "step 1" in tags(app, job).get("bt_stdout", ""), "live stdout")
    running = tags(app, job)
    assert live and status(app, job) is Status.RUNNING
    assert running["bt_stderr"] == "warning 1\n"
    assert "logged 1" in running["bt_log"]
    assert running["progress"] == "1"
    runners.release(job)
    assert runner.wait(timeout=60) == 0
    assert tags(app, job)["bt_stdout"] == "step 1\nstep 2\n"
    assert (runners.logs / f"{job}.1.out").read_text() == "step 1\nstep 2\n"
    assert "logged 1" in (runners.logs / f"{job}.1.log").read_text()


def test_long_output_keeps_head_and_tail_in_the_tag_and_all_in_the_file(
    app: Brownthrower, runners: Runners
) -> None:
    job = submit(app, "chatty", config="lines: 5000")
    runners.run()
    stdout = tags(app, job)["bt_stdout"]
    assert stdout.startswith("00000000 ") and stdout.endswith(f"{4999:08d} " + "x" * 91 + "\n")
    assert "characters omitted" in stdout and len(stdout) < 300_000
    assert (runners.logs / f"{job}.1.out").read_text().count("\n") == 5000


def test_a_job_runs_in_its_own_directory_with_the_documented_environment(
    app: Brownthrower, runners: Runners
) -> None:
    job = submit(app, "environ")
    runners.run()
    env = yamlio.parse(app.jobs.get(job).output)
    assert env["BT_JOB_ID"] == str(job) and env["BT_TASK"] == "environ"
    assert env["cwd"] == env["work_dir"] == env["BT_WORK_DIR"] == str(runners.work / str(job))
    assert env["BT_DATABASE_URL"] == mask_url(runners.url)
    assert env["BT_ATTEMPT"] == "1"


def test_a_work_dir_left_empty_is_removed(app: Brownthrower, runners: Runners) -> None:
    jobs = [submit(app, "noop") for _ in range(3)]  # the later ones are claimed ahead
    runners.run()
    assert not any((runners.work / str(job)).exists() for job in jobs)


def test_a_work_dir_with_files_is_kept(app: Brownthrower, runners: Runners) -> None:
    job = submit(app, "progress")
    runner = runners.start()
    runners.release(job)  # leaves the file `release` in the work dir
    assert runner.wait(timeout=60) == 0
    assert (runners.work / str(job) / "release").exists()


def test_the_password_never_reaches_logs_or_jobs(app: Brownthrower, runners: Runners) -> None:
    if not runners.url.startswith("postgresql"):
        runners.url = runners.url  # SQLite URLs have no password; the job check still runs
    else:
        runners.url = runners.url.replace("postgres@", "postgres:s3cret-pw@")
    job = submit(app, "environ")
    done = runners.run("-v")
    assert "s3cret-pw" not in done.stderr + done.stdout
    assert "s3cret-pw" not in str(app.jobs.get(job).output)


def test_profile_keeps_a_sorted_summary_and_the_stats_file(
    app: Brownthrower, runners: Runners
) -> None:
    job = submit(app, "noop")
    runners.run("--profile")
    summary = tags(app, job)["bt_profile"]
    assert "cumulative" in summary and "run" in summary
    assert (runners.logs / f"{job}.1.pstats").stat().st_size > 0
