"""Stored text as users wrote it: escaped control characters, `-` for empty, no YAML `...`,
real JSON values beside the YAML text."""

from __future__ import annotations

import json
from typing import Any

from bt import Brownthrower
from bt.models import JOB, TAG
from tests.factories import job, run_next, runner
from tests.shell.conftest import Driver

#: clears the screen and renames the terminal, if printed raw
HOSTILE = "\x1b[2J\x1b]0;pwned\x07ok"
ESCAPED = "\\x1b[2J\\x1b]0;pwned\\x07ok"


def store(app: Brownthrower, job_id: int, **values: Any) -> None:
    """Write text the way an old client or another program might have (no checks)."""
    app.db.write(lambda s: s.execute(JOB.update().where(JOB.c.id == job_id).values(**values)))


def test_job_show_escapes_an_escape_sequence_in_the_description(
    run: Driver, app: Brownthrower
) -> None:
    job_id = job(app)
    store(app, job_id, description=f"before {HOSTILE}")
    out = run(f"job show {job_id}").out
    assert "\x1b" not in out and "\x07" not in out and f"before {ESCAPED}" in out


def test_every_stored_text_of_job_show_is_escaped(run: Driver, app: Brownthrower) -> None:
    job_id = job(app)
    store(app, job_id, name=HOSTILE, config=f"a: {HOSTILE}\n", input=HOSTILE, output=HOSTILE)
    out = run(f"job show {job_id}").out
    assert "\x1b" not in out and out.count(ESCAPED) == 4


def test_job_list_escapes_a_name(run: Driver, app: Brownthrower) -> None:
    job_id = job(app)
    store(app, job_id, name=HOSTILE)
    out = run("job list").out
    assert "\x1b" not in out and ESCAPED in out


def test_job_tags_escapes_names_and_values(run: Driver, app: Brownthrower) -> None:
    job_id = job(app)
    row = {"job_id": job_id, "name": "note", "value": f"line 1\n{HOSTILE}"}
    app.db.write(lambda s: s.execute(TAG.insert().values(**row)))
    out = run(f"job tags {job_id}").out
    assert "\x1b" not in out and f"line 1\n{ESCAPED}" in out


def test_a_multi_line_description_keeps_its_lines_and_tabs(run: Driver, app: Brownthrower) -> None:
    job_id = job(app, description="first\n\tindented")
    out = run(f"job show {job_id}").out
    assert "### JOB DESCRIPTION:\nfirst\n        indented\n" in out  # a tab as the terminal does


def test_a_carriage_return_in_a_description_is_shown_escaped(
    run: Driver, app: Brownthrower
) -> None:
    job_id = job(app)
    store(app, job_id, description="real\rfake")
    assert "real\\x0dfake" in run(f"job show {job_id}").out


def test_empty_description_config_and_input_show_as_a_dash(run: Driver, app: Brownthrower) -> None:
    out = run(f"job show {job(app)}").out
    for section in ("DESCRIPTION", "CONFIG", "INPUT", "OUTPUT"):
        assert f"### JOB {section}:\n-\n" in out
    assert "\n...\n" not in out


def test_a_scalar_output_shows_without_the_yaml_end_marker(run: Driver, app: Brownthrower) -> None:
    job(app, submit=True)
    job_id = run_next(app, runner(app), output="42.0\n...\n")
    out = run(f"job show {job_id}").out
    assert out.endswith("### JOB OUTPUT:\n42.0\n")


def test_show_json_has_config_input_and_output_as_json_values(
    run: Driver, app: Brownthrower
) -> None:
    job(app, config="# mine\nscale: 2\n", input="[1, 2]\n", submit=True)
    job_id = run_next(app, runner(app), output="42.0\n...\n")
    shown = json.loads(run(f"job show {job_id} --json").out)
    assert (shown["config"], shown["input"], shown["output"]) == ({"scale": 2}, [1, 2], 42.0)


def test_show_json_keeps_the_yaml_text_under_its_own_keys(run: Driver, app: Brownthrower) -> None:
    job_id = job(app, config="# mine\nscale: 2\n")
    shown = json.loads(run(f"job show {job_id} --json").out)
    assert shown["config_yaml"] == "# mine\nscale: 2\n" and shown["input_yaml"] is None


def test_show_json_of_an_empty_job_has_nulls(run: Driver, app: Brownthrower) -> None:
    shown = json.loads(run(f"job show {job(app)} --json").out)
    assert [shown[k] for k in ("config", "input", "output", "output_yaml")] == [None] * 4


def test_show_json_turns_yaml_dates_and_keys_into_json(run: Driver, app: Brownthrower) -> None:
    job_id = job(app, input="when: 2026-01-02\n1: one\n")
    shown = json.loads(run(f"job show {job_id} --json").out)
    assert shown["input"] == {"when": "2026-01-02", "1": "one"}
