"""Batch files piped into the shell, commands on the command line, scripts run with @file."""

from __future__ import annotations

from pathlib import Path

from bt import Brownthrower, Status
from tests.acceptance.conftest import piped, timed

PIPELINE = """\
# a comment line
job create add2 --input "[1, 2]"
job create add2 --input "[3, 4]"
job create add2
job link 1 3
job link 2 3
job submit 1-3
job list id>=1
"""


def test_a_piped_batch_runs_every_command_without_prompts(
    env: dict[str, str], client: Brownthrower
) -> None:
    done = piped(env, PIPELINE)
    assert done.returncode == 0, done.stderr
    assert "(brownthrower)" not in done.stdout and done.stderr == ""
    assert client.jobs.get(3).parents == (1, 2)
    assert client.jobs.info(3).status is Status.QUEUED


def test_a_failing_command_makes_the_exit_status_non_zero(env: dict[str, str]) -> None:
    done = piped(env, "job show 99\nstatus\n")
    assert done.returncode == 1
    assert done.stderr.strip() == "ERROR: Job 99 does not exist."
    assert "RUNNABLE" in done.stdout  # the next command still ran


def test_a_bad_argument_in_a_pipe_fails_too(plain_env: dict[str, str]) -> None:
    assert piped(plain_env, "job submit ten\n").returncode == 1


def test_stop_on_error_stops_at_the_first_failure(env: dict[str, str]) -> None:
    done = piped(env, "job show 99\nstatus\n", "--stop-on-error")
    assert done.returncode == 1 and "RUNNABLE" not in done.stdout


def test_stop_on_error_can_be_set_in_the_script(env: dict[str, str]) -> None:
    done = piped(env, "set stop_on_error true\njob show 99\nstatus\n")
    assert done.returncode == 1 and "RUNNABLE" not in done.stdout


def test_commands_on_the_command_line_run_then_exit(env: dict[str, str]) -> None:
    done = piped(env, "", "job create noop", "job list --json")
    assert done.returncode == 0 and '"name": "noop"' in done.stdout


def test_command_line_failures_set_the_exit_status(env: dict[str, str]) -> None:
    assert piped(env, "", "job show 1").returncode == 1


def test_a_script_file_with_at(env: dict[str, str], tmp_path: Path, client: Brownthrower) -> None:
    (tmp_path / "batch.bt").write_text(PIPELINE)
    done = piped(env, "", f"@{tmp_path / 'batch.bt'}")
    assert done.returncode == 0, done.stderr
    assert client.jobs.info(3).status is Status.QUEUED


def test_a_script_file_with_a_failure(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "batch.bt").write_text("job show 5\nstatus\n")
    assert piped(env, f"run_script {tmp_path / 'batch.bt'}\n").returncode == 1


def test_json_output_is_clean_for_other_programs(env: dict[str, str]) -> None:
    import json

    piped(env, "job create noop\n")
    done = piped(env, "job show 1 --json\n")
    assert json.loads(done.stdout)["name"] == "noop"


def test_version(plain_env: dict[str, str]) -> None:
    done = piped(plain_env, "", "--version")
    assert done.returncode == 0 and done.stdout.startswith("brownthrower ")


def test_an_unreachable_database_is_one_line(env: dict[str, str]) -> None:
    bad = "postgresql://bt:s3cret@127.0.0.1:1/bt"
    done = piped({**env, "BT_DATABASE_URL": bad}, "status\n")
    assert done.returncode == 3 and "s3cret" not in done.stderr
    assert done.stderr.count("\n") == 1 and "error:" in done.stderr


def test_a_failing_job_edit_in_a_pipe_fails_and_the_next_line_runs(
    env: dict[str, str], client: Brownthrower, tmp_path: Path
) -> None:
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "a: [\\n" >> "$1"\n')  # leaves broken YAML
    editor.chmod(0o755)
    done = piped({**env, "EDITOR": str(editor)}, "job create noop\njob edit config 1\nstatus\n")
    assert done.returncode == 1 and "RUNNABLE" in done.stdout
    assert done.stderr.count("ERROR:") == 1 and "was not changed" in done.stderr
    assert client.jobs.get(1).config is None


def test_job_edit_in_a_pipe_without_editor_is_an_error_not_a_hang(
    env: dict[str, str], client: Brownthrower
) -> None:
    without = {k: v for k, v in env.items() if k not in ("EDITOR", "VISUAL")}
    done = piped(without, "job create noop\njob edit config 1\nstatus\n", "--stop-on-error")
    assert done.returncode == 1 and "$EDITOR is not set" in done.stderr
    assert "RUNNABLE" not in done.stdout  # --stop-on-error stopped at the edit


def test_a_yaml_bomb_is_refused_fast_and_small(plain_env: dict[str, str], tmp_path: Path) -> None:
    laughs = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        laughs.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    (tmp_path / "bomb.yaml").write_text("\n".join(laughs) + "\n")
    done = timed(plain_env, f"job create pipe --input @{tmp_path / 'bomb.yaml'}\n")
    assert done.returncode == 1 and "expands to more than" in done.stderr
    assert done.seconds < 5 and done.max_rss_mb < 200


def test_input_from_dev_zero_is_refused_fast_and_small(plain_env: dict[str, str]) -> None:
    done = timed(plain_env, "job create pipe --input @/dev/zero\n")
    assert done.returncode == 1 and "is larger than" in done.stderr
    assert done.seconds < 5 and done.max_rss_mb < 200


def test_a_huge_inline_value_is_refused_before_parsing(plain_env: dict[str, str]) -> None:
    done = timed(plain_env, f'job create pipe --input "{"x" * 1_600_000}"\n')
    assert done.returncode == 1 and "put long values in a file" in done.stderr
    assert done.seconds < 5


def test_hostile_commands_piped_each_print_one_error_and_change_nothing(
    env: dict[str, str], client: Brownthrower
) -> None:
    from tests.shell.test_input_errors import CORPUS

    lines = [line for line in CORPUS if "\n" not in line]
    piped(env, "job create noop\n")
    done = piped(env, "".join(f"{line}\n" for line in lines))
    errors = [line for line in done.stderr.splitlines() if not line.startswith("usage: ")]
    assert done.returncode == 1 and done.stdout.strip() == ""
    assert len(errors) == len(lines) and all(e.startswith("ERROR: ") for e in errors)
    assert [job.id for job in client.jobs.list().jobs] == [1]


def test_a_missing_directory_in_a_given_url_is_an_error(
    plain_env: dict[str, str], tmp_path: Path
) -> None:
    done = piped(plain_env, "status\n", "-u", f"sqlite:///{tmp_path}/nonexistent/dir/x.db")
    assert done.returncode != 0 and "does not exist" in done.stderr
    assert not (tmp_path / "nonexistent").exists()


def test_create_json_gives_scripts_the_new_id(env: dict[str, str]) -> None:
    import json

    piped(env, "job create noop\n")
    assert json.loads(piped(env, "job create noop --json\n").stdout)["id"] == 2
