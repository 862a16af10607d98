"""One command per line: `;`, `>`, `>>` and `|` are ordinary characters, never terminators,
redirection or pipes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bt import Brownthrower
from tests.factories import job
from tests.shell.conftest import Driver


def test_a_semicolon_is_kept_literally_in_a_description(run: Driver, app: Brownthrower) -> None:
    run("job create noop --description step1;step2 --input x")
    stored = app.jobs.get(1)
    assert (stored.description, stored.input) == ("step1;step2", "x")


def test_two_commands_joined_by_a_semicolon_are_not_two_commands(
    run: Driver, app: Brownthrower
) -> None:
    result = run("job create noop; job create noop")
    assert result.failed and app.jobs.list().jobs == []


def test_a_filter_with_greater_or_equal_filters(run: Driver, app: Brownthrower) -> None:
    for _ in range(6):
        job(app)
    assert [j.id for j in run("job list id>=5").data] == [5, 6]


def test_a_filter_with_greater_than_filters(run: Driver, app: Brownthrower) -> None:
    for _ in range(6):
        job(app)
    assert [j.id for j in run("job list id>5").data] == [6]


def test_a_lone_greater_than_is_a_bad_filter_not_the_clipboard(run: Driver) -> None:
    result = run("job list >")
    assert result.failed and result.err.count("\n") == 1
    assert result.err.startswith("ERROR: Filter '>'")


@pytest.mark.parametrize("line", ["job list id=>5", "job list >> out", "job list | cat"])
def test_redirection_characters_create_no_file(
    run: Driver, line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    assert run(line).failed and list((tmp_path / "cwd").iterdir()) == []


def test_quotes_work_as_in_the_shell(run: Driver, app: Brownthrower) -> None:
    run("job create noop --description 'a > b | c; d'")
    assert app.jobs.get(1).description == "a > b | c; d"
