"""Refused commands: exactly one `ERROR:` line (plus, for a usage error, the subcommand's usage
on one more line), a "did you mean" for typos, no exception class names, nothing changed."""

from __future__ import annotations

import pytest

from bt import Brownthrower
from tests.factories import job
from tests.shell.conftest import Driver, Run

#: hostile command lines, each of which must be refused without changing anything
CORPUS = [
    "jbo list",
    "job",
    "job craete noop",
    "job create",
    "job create nosuch",
    "job create noop --descripton x",
    "job create noop --priority 99999999999",
    "job create noop --description @/nonexistent/file",
    "job create noop --input '{oops'",
    "job create noop --description 'a\x01b'",
    "job create noop --config 'a: \x00'",
    "job create 'no\x07op'",
    "job create noop --retries -1",
    "job create noop --time-limit abc",
    "job create noop; job create noop",
    "job show 0",
    "job show -5",
    "job show ten",
    "job show 99",
    "job show 2147483648",
    "job show 99999999999999999999",
    "job show 1 2",
    "job show 1 --jsn",
    "job list >",
    "job list id=>5",
    "job list id>99999999999999999999",
    "job list status=FAILD",
    "job list stauts=QUEUED",
    "job list --limit -1",
    "job list --limit 0",
    "job list " + " ".join(["id>0"] * 5000),
    "job submit ten",
    "job submit 5-1",
    "job submit 1-200000",
    "job submit status=FAILD",
    "job submit 99",
    "job remove 2147483647-2147483650",
    "job remove 1 --yes --force",
    "job abort 1",
    "job reset 1",
    "job priority high 1",
    "job wait 1 --timeout -1",
    "job wait 1 --interval 0",
    "job log 1 --interval -1",
    "job top --rows -1",
    "job graph 1 --max-children -1",
    "job link 1 1",
    "job unlink 1 2",
    "job edit colour 1",
    "job tag 1 bt_x=1",
    "job tag 1 novalue",
    "job tag 1 'x=a\x1bb'",
    "job tag 99 x=1",
    "job untag 1 nosuch",
    "job output 1",
    "job output 1 --yaml",
    "job 'unclosed",
    "task show nosuch",
    "task lst",
    "runner start --lease 0",
    "runner start --slots 0",
    "runner stop -1",
    "runner stop 99999999999",
    "db inf",
    "set page_size -1",
]


def snapshot(app: Brownthrower) -> object:
    jobs = app.jobs.list(limit=1000).jobs
    return [(j, app.jobs.get(j.id), app.tags.list(j.id)) for j in jobs]


def error_lines(result: Run) -> list[str]:
    return result.err.splitlines()


@pytest.fixture
def jobs(app: Brownthrower) -> Brownthrower:
    job(app, "noop")
    job(app, "add2", input="[1, 2]")
    app.tags.set(1, "mine", "kept")
    return app


@pytest.mark.parametrize("line", CORPUS, ids=lambda line: line[:40])
def test_a_hostile_command_is_one_error_line_and_changes_nothing(
    run: Driver, jobs: Brownthrower, line: str
) -> None:
    before = snapshot(jobs)
    result = run(line)
    lines = error_lines(result)
    assert result.failed and result.out == ""
    assert lines[0].startswith("ERROR: ") and len(lines) <= 2, result.err
    assert len(lines) == 1 or lines[1].startswith("usage: "), result.err
    assert "Error:" not in result.err and "Usage:" not in result.err
    assert snapshot(jobs) == before


def test_a_misspelt_command_suggests_the_right_one(offline: Driver) -> None:
    assert "Did you mean 'job'?" in offline("jbo list").err


def test_a_misspelt_subcommand_suggests_the_right_one(offline: Driver) -> None:
    assert "Did you mean 'create'?" in offline("job craete noop").err


def test_a_misspelt_option_suggests_the_right_one(offline: Driver) -> None:
    assert "Did you mean '--description'?" in offline("job create noop --descripton x").err


def test_a_misspelt_task_suggests_the_right_one(run: Driver) -> None:
    assert "Did you mean 'noop'?" in run("job create nop").err


def test_a_misspelt_status_suggests_the_right_one(run: Driver) -> None:
    assert "Did you mean 'FAILED'?" in run("job list status=FAILD").err


def test_a_usage_error_shows_the_subcommands_usage_on_one_line(offline: Driver) -> None:
    usage = error_lines(offline("job create noop --descripton x"))[1]
    assert usage.startswith("usage: job create [-h]") and usage.endswith(" task")


def test_an_id_beyond_the_largest_says_there_is_no_such_job(run: Driver) -> None:
    assert run("job show 2147483648").err == "ERROR: Job 2147483648 does not exist.\n"


def test_a_zero_lease_is_refused_not_dropped(offline: Driver) -> None:
    assert "--lease" in offline("runner start --lease 0").err


@pytest.mark.parametrize(
    "line",
    ["job wait 1 --timeout -5", "job log 1 --interval -1", "job top --rows -1"],
)
def test_a_negative_number_is_refused_with_its_range(offline: Driver, line: str) -> None:
    assert "is not " in offline(line).err


def test_help_is_not_a_failure(offline: Driver) -> None:
    result = offline("job create -h")
    assert not result.failed and "job create" in result.out
