from __future__ import annotations

from bt import Brownthrower, Status
from tests.factories import job
from tests.shell.conftest import Driver


def test_create_returns_the_new_id_and_says_so(run: Driver) -> None:
    result = run("job create add2 --input '[1, 2]'")
    assert result.data == [1]
    assert "A new job for task 'add2' with id 1 has been created." in result.out


def test_create_with_submit_queues_the_job(run: Driver, app: Brownthrower) -> None:
    (job_id,) = run("job create noop --submit").data
    assert app.jobs.info(job_id).status is Status.QUEUED


def test_create_reads_input_from_a_file(run: Driver, app: Brownthrower, tmp_path) -> None:
    (tmp_path / "in.yaml").write_text("# mine\n[3, 4]\n")
    (job_id,) = run(f"job create add2 --input @{tmp_path}/in.yaml").data
    assert app.jobs.get(job_id).input == "# mine\n[3, 4]\n"


def test_create_refused_by_the_task_is_one_error_line(run: Driver) -> None:
    result = run("job create add2 --input '[1, 2, 3]'")
    assert result.failed and result.err.count("\n") == 1
    assert "refuses this job" in result.err


def test_list_shows_the_original_columns(run: Driver, app: Brownthrower) -> None:
    job(app, "noop")
    header = run("job list").out.splitlines()[0].split()
    assert header == ["id", "super_id", "name", "status", "created", "queued", "started", "ended"]


def test_list_filters_with_greater_or_equal_unquoted(run: Driver, app: Brownthrower) -> None:
    ids = [job(app, "noop") for _ in range(3)]
    assert [j.id for j in run("job list id>=2").data] == ids[1:]


def test_list_filters_stand_by_with_its_dash(run: Driver, app: Brownthrower) -> None:
    job(app, "noop")
    assert run("job list status=STAND-BY").data == []


def test_list_pages_and_says_how_to_continue(run: Driver, app: Brownthrower) -> None:
    for _ in range(3):
        job(app, "noop")
    result = run("job list --limit 2")
    assert len(result.data) == 2 and "--after 2" in result.out


def test_list_all_reads_every_page(run: Driver, app: Brownthrower) -> None:
    for _ in range(3):
        job(app, "noop")
    assert len(run("job list --limit 2 --all").data) == 3


def test_list_newest_first(run: Driver, app: Brownthrower) -> None:
    ids = [job(app, "noop") for _ in range(3)]
    assert [j.id for j in run("job list -r").data] == ids[::-1]


def test_list_json_is_machine_readable(run: Driver, app: Brownthrower) -> None:
    import json

    job(app, "noop")
    assert json.loads(run("job list --json").out)[0]["status"] == "STASHED"


def test_list_with_a_bad_filter_is_one_error(run: Driver) -> None:
    result = run("job list colour=red")
    assert result.failed and "unknown field 'colour'" in result.err


def test_show_prints_the_original_sections(run: Driver, app: Brownthrower) -> None:
    job_id = job(app, "add2", input="[1, 2]\n")
    out = run(f"job show {job_id}").out
    assert "### JOB DETAILS:" in out and "### JOB INPUT:\n[1, 2]" in out
    assert "### JOB OUTPUT:\n-" in out


def test_show_of_a_missing_job_is_one_error(run: Driver) -> None:
    result = run("job show 99")
    assert result.failed and result.err.strip() == "ERROR: Job 99 does not exist."


def test_tags_prints_each_as_a_heading_and_value(run: Driver, app: Brownthrower) -> None:
    job_id = job(app, "noop")
    app.tags.set(job_id, "note", "hello")
    result = run(f"job tags {job_id}")
    assert "### note:\nhello" in result.out and [t.name for t in result.data] == ["note"]


def test_submit_takes_ranges_and_reports_each(run: Driver, app: Brownthrower) -> None:
    for _ in range(3):
        job(app, "noop")
    result = run("job submit 1-2 3 7")
    assert result.data == [1, 2, 3]
    assert "Job 7 does not exist." in result.err and result.out.count("submitted") == 3


def test_reset_returns_to_the_stash(run: Driver, app: Brownthrower) -> None:
    job_id = job(app, "noop", submit=True)
    assert run(f"job reset {job_id}").data == [job_id]
    assert app.jobs.info(job_id).status is Status.STASHED


def test_abort_fails_a_queued_job(run: Driver, app: Brownthrower) -> None:
    job_id = job(app, "noop", submit=True)
    run(f"job abort {job_id}")
    assert app.jobs.info(job_id).status is Status.FAILED


def test_remove_deletes(run: Driver, app: Brownthrower) -> None:
    job_id = job(app, "noop")
    assert run(f"job remove {job_id}").data == [job_id]
    assert run("job list").data == []


def test_a_refused_transition_is_one_error_and_the_shell_goes_on(
    run: Driver, app: Brownthrower
) -> None:
    job_id = job(app, "noop")
    assert run(f"job abort {job_id}").failed
    assert not run("job list").failed


def test_link_and_unlink(run: Driver, app: Brownthrower) -> None:
    parent, child = job(app, "noop"), job(app, "noop")
    run(f"job link {parent} {child}")
    assert app.jobs.get(child).parents == (parent,)
    run(f"job unlink {parent} {child}")
    assert app.jobs.get(child).parents == ()


def test_linking_a_job_to_itself_is_one_error(run: Driver, app: Brownthrower) -> None:
    job_id = job(app, "noop")
    assert run(f"job link {job_id} {job_id}").failed


def test_clone_returns_the_copies(run: Driver, app: Brownthrower) -> None:
    job_id = job(app, "add2", input="[1, 2]\n")
    (copy,) = run(f"job clone {job_id}").data
    assert app.jobs.get(copy).input == "[1, 2]\n"


def test_priority(run: Driver, app: Brownthrower) -> None:
    job_id = job(app, "noop")
    run(f"job priority 5 {job_id}")
    assert app.jobs.info(job_id).priority == 5


def test_status_counts_with_runnable(run: Driver, app: Brownthrower) -> None:
    job(app, "noop", submit=True)
    result = run("status")
    assert result.data["RUNNABLE"] == 1 and "RUNNABLE" in result.out


def test_tags_of_a_missing_name_say_which_name(run: Driver, app: Brownthrower) -> None:
    job_id = job(app)
    app.tags.set(job_id, "owner", "ana")
    assert f"Job {job_id} has no tag named nosuchtag." in run(f"job tags {job_id} nosuchtag").err
