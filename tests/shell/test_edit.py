from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bt import Brownthrower
from tests.factories import job
from tests.shell.conftest import Driver

FAKE_EDITOR = Path(__file__).with_name("fake_editor.py")


class Editor:
    """Sets $EDITOR to the fake editor with a plan of steps."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.plan = tmp_path / "plan.json"
        monkeypatch.setenv("EDITOR", f"{sys.executable} {FAKE_EDITOR}")
        monkeypatch.setenv("FAKE_EDITOR_PLAN", str(self.plan))

    def will(self, *steps: dict[str, object]) -> None:
        self.plan.write_text(json.dumps(list(steps)))

    def seen(self, run: int = 0) -> str:
        return self.plan.with_name(f"plan.json.seen.{run}").read_text()

    @property
    def runs(self) -> int:
        count = self.plan.with_suffix(".count")
        return int(count.read_text()) if count.exists() else 0


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Editor:
    return Editor(tmp_path, monkeypatch)


def test_edit_stores_the_users_text_verbatim(
    run: Driver, app: Brownthrower, editor: Editor
) -> None:
    job_id = job(app, "add2")
    editor.will({"body": "# my numbers\n[1, 2]  # two\n"})
    result = run(f"job edit input {job_id}")
    assert result.data == [job_id] and "successfully modified" in result.out
    assert app.jobs.get(job_id).input == "# my numbers\n[1, 2]  # two\n"


def test_the_editor_shows_the_task_help_and_sample_as_comments(
    run: Driver, app: Brownthrower, editor: Editor
) -> None:
    job_id = job(app, "add2", input="[1, 2]  # b\n")
    editor.will({"keep": True})
    run(f"job edit input {job_id}")
    seen = editor.seen()
    assert "# Add two numbers." in seen and "#     [12, 30]" in seen
    assert seen.endswith("removed when you save ----\n[1, 2]  # b\n")


def test_comments_and_key_order_survive_a_round_trip(
    run: Driver, app: Brownthrower, editor: Editor
) -> None:
    job_id = job(app, "noop", config="z: 1  # last first\n# note\na: 2\n")
    editor.will({"append": "m: 3\n"})
    run(f"job edit config {job_id}")
    assert app.jobs.get(job_id).config == "z: 1  # last first\n# note\na: 2\nm: 3\n"


def test_unchanged_text_changes_nothing(run: Driver, app: Brownthrower, editor: Editor) -> None:
    job_id = job(app, "add2", input="[1, 2]\n")
    editor.will({"keep": True})
    result = run(f"job edit input {job_id}")
    assert result.data is None and "No changes were made." in result.err and not result.failed


def test_invalid_yaml_then_return_to_the_editor(
    run: Driver, app: Brownthrower, editor: Editor
) -> None:
    job_id = job(app, "add2")
    editor.will({"body": "[1, 2\n"}, {"body": "[1, 2]\n"})
    result = run(f"job edit input {job_id}", answers="r\n")
    assert "not valid YAML" in result.err and "r) Return to the editor" in result.out
    assert editor.seen(1).endswith("[1, 2\n")
    assert app.jobs.get(job_id).input == "[1, 2]\n"


def test_refused_by_the_task_then_undo(run: Driver, app: Brownthrower, editor: Editor) -> None:
    job_id = job(app, "add2", input="[1, 2]\n")
    editor.will({"body": "[1, 2, 3]\n"}, {"keep": True})
    result = run(f"job edit input {job_id}", answers="u\n")
    assert "refuses this job" in result.err
    assert editor.seen(1).endswith("----\n[1, 2]\n")
    assert app.jobs.get(job_id).input == "[1, 2]\n"


def test_invalid_then_discard(run: Driver, app: Brownthrower, editor: Editor) -> None:
    job_id = job(app, "add2")
    editor.will({"body": "{oops\n"})
    result = run(f"job edit input {job_id}", answers="x\nd\n")
    assert "All changes have been discarded." in result.err and editor.runs == 1
    assert app.jobs.get(job_id).input is None


def test_a_concurrent_change_is_offered_for_refresh(
    run: Driver, app: Brownthrower, editor: Editor
) -> None:
    job_id = job(app, "add2", input="[1, 2]\n")
    app_change = _changer(app, job_id, "[3, 4]\n")
    editor.will({"run": app_change, "body": "[5, 6]\n"}, {"append": "# mine\n"})
    result = run(f"job edit input {job_id}", answers="r\n")
    assert "concurrent modification" in result.err
    assert editor.seen(1).endswith("----\n[3, 4]\n")
    assert app.jobs.get(job_id).input == "[3, 4]\n# mine\n"


def test_a_concurrent_change_then_discard_keeps_theirs(
    run: Driver, app: Brownthrower, editor: Editor
) -> None:
    job_id = job(app, "add2", input="[1, 2]\n")
    editor.will({"run": _changer(app, job_id, "[3, 4]\n"), "body": "[5, 6]\n"})
    run(f"job edit input {job_id}", answers="d\n")
    assert app.jobs.get(job_id).input == "[3, 4]\n"


def test_description_is_plain_text(run: Driver, app: Brownthrower, editor: Editor) -> None:
    job_id = job(app, "noop")
    editor.will({"body": "Runs the # catalogue\n"})
    run(f"job edit description {job_id}")
    assert app.jobs.get(job_id).description == "Runs the # catalogue"


def test_config_of_a_queued_job_is_refused_before_the_editor(
    run: Driver, app: Brownthrower, editor: Editor
) -> None:
    job_id = job(app, "noop", submit=True)
    editor.will({"keep": True})
    result = run(f"job edit config {job_id}")
    assert result.failed and "cannot be edited while QUEUED" in result.err and editor.runs == 0


def test_a_failing_editor_changes_nothing(run: Driver, app: Brownthrower, editor: Editor) -> None:
    job_id = job(app, "add2")
    editor.will({"exit": 3})
    assert "exited with status 3" in run(f"job edit input {job_id}").err


def _changer(app: Brownthrower, job_id: int, value: str) -> list[str]:
    """A command line that changes a job's input from another process (another client)."""
    code = (
        "import sys; from bt import Brownthrower; "
        "app = Brownthrower.open(sys.argv[1]); "
        "app.jobs.edit(int(sys.argv[2]), 'input', sys.argv[3]); app.close()"
    )
    return [sys.executable, "-c", code, app.db.url, str(job_id), value]
