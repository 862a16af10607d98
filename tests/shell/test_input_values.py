"""Values in and out: `--json` on create and clone, `@FILE` for every text option, `job output`,
and control characters refused in stored text on both databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bt import Brownthrower
from bt.values import RunResult
from tests.factories import claim, job, runner
from tests.shell.conftest import Driver


def done(app: Brownthrower, output: str) -> int:
    job_id = job(app, submit=True)
    app.claims.finish(claim(app, runner(app)), RunResult(output=output))
    return job_id


def test_create_json_prints_the_new_row(run: Driver) -> None:
    row = json.loads(run("job create noop --json").out)
    assert (row["id"], row["name"], row["status"]) == (1, "noop", "STASHED")


def test_clone_json_prints_the_copies_with_their_sources(run: Driver, app: Brownthrower) -> None:
    job(app)
    job(app)
    rows = json.loads(run("job clone 1-2 --json").out)
    assert [(r["id"], r["cloned_from"]) for r in rows] == [(3, 1), (4, 2)]


def test_description_at_file_reads_the_file(run: Driver, app: Brownthrower, tmp_path: Path) -> None:
    (tmp_path / "about.txt").write_text("from a file")
    run(f"job create noop --description @{tmp_path / 'about.txt'}")
    assert app.jobs.get(1).description == "from a file"


def test_tag_value_at_file_reads_the_file(run: Driver, app: Brownthrower, tmp_path: Path) -> None:
    job(app)
    (tmp_path / "v.txt").write_text("long\nvalue\n")
    run(f"job tag 1 notes=@{tmp_path / 'v.txt'}")
    assert app.tags.get(1, "notes") == "long\nvalue\n"


def test_output_prints_the_yaml_and_nothing_else(run: Driver, app: Brownthrower) -> None:
    job_id = done(app, "a: 1\nb: [2, 3]\n")
    assert run(f"job output {job_id}").out == "a: 1\nb: [2, 3]\n"


def test_output_of_a_scalar_has_no_end_marker(run: Driver, app: Brownthrower) -> None:
    job_id = done(app, "42.0\n...\n")
    assert run(f"job output {job_id}").out == "42.0\n"


def test_output_json_is_the_parsed_value(run: Driver, app: Brownthrower) -> None:
    job_id = done(app, "a: 1\nb: [2, 3]\n")
    assert json.loads(run(f"job output {job_id} --json").out) == {"a": 1, "b": [2, 3]}


def test_output_of_a_job_without_one_fails(run: Driver, app: Brownthrower) -> None:
    job(app)
    assert run("job output 1").err == "ERROR: Job 1 has no output (STASHED).\n"


@pytest.mark.parametrize(
    "line",
    [
        "job create noop --description 'a\x00b'",
        "job create noop --config 'a: \x00'",
        "job create noop --input '\x1b[2J'",
        "job create 'no\x07op'",
    ],
)
def test_a_control_character_is_refused_on_both_databases(
    run: Driver, app: Brownthrower, line: str
) -> None:
    result = run(line)
    assert "control character" in result.err and app.jobs.list().jobs == []
