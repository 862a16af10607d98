"""The shell itself: tasks, errors, scripts and exit status (no database needed)."""

from __future__ import annotations

from pathlib import Path

from shell.app import build_shell
from shell.core import Shell
from tests.shell.conftest import Driver


def test_task_list_shows_broken_plugins_with_their_error(offline: Driver) -> None:
    result = offline("task list")
    assert "sum4" in result.data and "broken" in result.data
    broken = next(line for line in result.out.splitlines() if line.startswith("broken"))
    assert "cannot be loaded: ImportError" in broken


def test_task_show_prints_help_and_samples(offline: Driver) -> None:
    out = offline("task show sum4").out
    assert "Add four numbers" in out and "### INPUT SAMPLE:\n# four numbers to add" in out


def test_task_show_of_a_broken_plugin_is_one_error(offline: Driver) -> None:
    result = offline("task show broken")
    assert result.failed and result.err.count("\n") == 1


def test_an_unknown_command_fails(offline: Driver) -> None:
    result = offline("jobs list")
    assert result.failed and "jobs is not a command" in result.err


def test_a_bad_argument_fails(offline: Driver) -> None:
    result = offline("job submit ten")
    assert result.failed and "'ten' is not a job id" in result.err + result.out


def test_an_unclosed_quote_fails(offline: Driver) -> None:
    assert offline("job create 'add2").failed


def test_a_bare_group_prints_its_usage(offline: Driver) -> None:
    result = offline("job")
    assert result.failed and "SUBCOMMAND" in result.out + result.err


def test_help_of_a_subcommand(offline: Driver) -> None:
    assert "Wait until jobs" in offline("help job wait").out


def test_an_unexpected_exception_is_one_line(offline: Driver, monkeypatch) -> None:
    def boom(*args: object) -> None:
        raise RuntimeError("kaput")

    monkeypatch.setattr(offline.shell.registry, "entries", boom)
    result = offline("task list")
    assert result.failed and result.err.strip() == "ERROR: RuntimeError: kaput"


def test_a_database_that_cannot_open_is_one_line_per_command(tmp_path: Path) -> None:
    from bt.config import Settings

    settings = Settings(f"sqlite:///{tmp_path}/no/such/dir/../x/../../../..", "test")
    run = Driver(build_shell(settings, scripted=True))
    first, second = run("job list"), run("status")
    assert first.failed and second.failed and first.err.count("\n") == 1


def script_shell(tmp_path: Path, lines: list[str], *, stop: bool = False) -> Shell:
    shell = build_shell(None, scripted=True)
    shell.stop_on_error = stop
    (tmp_path / "batch.bt").write_text("\n".join(lines) + "\n")
    return shell


def test_a_failing_script_command_sets_the_exit_status(tmp_path: Path) -> None:
    shell = script_shell(tmp_path, ["task show nope", "task show sum4"])
    result = Driver(shell)(f"run_script {tmp_path}/batch.bt")
    assert shell.exit_code == 1 and "Add four numbers" in result.out


def test_stop_on_error_stops_the_script(tmp_path: Path) -> None:
    shell = script_shell(tmp_path, ["task show nope", "task show sum4"], stop=True)
    result = Driver(shell)(f"run_script {tmp_path}/batch.bt")
    assert shell.exit_code == 1 and "Add four numbers" not in result.out


def test_interactive_failures_keep_exit_status_zero() -> None:
    shell = build_shell(None, scripted=False)
    Driver(shell)("task show nope")
    assert shell.exit_code == 0 and shell.failures == 1


def test_ctrl_c_in_a_script_stops_it(tmp_path: Path, monkeypatch) -> None:
    shell = script_shell(tmp_path, ["task list", "task show sum4"])

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(shell.registry, "entries", interrupted)
    result = Driver(shell)(f"run_script {tmp_path}/batch.bt")
    assert "Interrupted." in result.err and "Add four numbers" not in result.out


def test_db_info_and_upgrade_of_an_empty_database(tmp_path: Path) -> None:
    from bt.config import Settings

    run = Driver(build_shell(Settings(f"sqlite:///{tmp_path}/empty.db", "test"), scripted=True))
    info = run("db info")
    assert info.data["schema"] is None and "run `db upgrade`" in info.err
    upgraded = run("db upgrade")
    assert "upgraded from nothing to" in upgraded.out
    assert run("db info").data["counts"]["RUNNABLE"] == 0
