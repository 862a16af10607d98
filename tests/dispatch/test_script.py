"""What pilots run: the command line, the rendered batch script, and where the URL travels."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from bt.config import load_settings, normalize_url
from bt.dispatch.local import LocalBackend
from bt.dispatch.script import mask_argv, mask_text, pilot_environment, runner_command
from bt.dispatch.slurm import SlurmBackend
from bt.errors import ConfigError

COMMAND = ["/venv/bin/bt-runner", "--tasks", "sum*", "--loop", "--slots", "2"]


def slurm_script(tmp_path: Path, **options: object) -> str:
    backend = SlurmBackend(
        "bt-pilot-default-1234abcd",
        log_dir=tmp_path / "logs",
        work_dir=tmp_path,
        **options,  # type: ignore[arg-type]
    )
    return backend.script(COMMAND)


def test_the_slurm_script_names_the_pilot_after_its_dispatcher(tmp_path: Path) -> None:
    script = slurm_script(tmp_path)
    assert "#SBATCH --job-name=bt-pilot-default-1234abcd\n" in script
    assert "#SBATCH --comment=brownthrower-dispatcher:bt-pilot-default-1234abcd\n" in script


def test_the_slurm_script_logs_per_job_and_exports_the_environment(tmp_path: Path) -> None:
    script = slurm_script(tmp_path)
    assert f"#SBATCH --output={tmp_path}/logs/pilot-%j.out\n" in script
    assert f"#SBATCH --chdir={tmp_path}\n" in script
    assert "#SBATCH --export=ALL\n" in script


def test_the_slurm_script_carries_partition_and_time_limit(tmp_path: Path) -> None:
    script = slurm_script(tmp_path, partition="debug", time_limit="2:00:00")
    assert "#SBATCH --partition=debug\n#SBATCH --time=2:00:00\n" in script


def test_with_a_time_limit_the_runner_alone_is_told_to_stop_before_it(tmp_path: Path) -> None:
    assert "#SBATCH --signal=B:TERM@120\n" in slurm_script(tmp_path, time_limit="2:00:00")
    assert "--signal" not in slurm_script(tmp_path)


def test_the_slurm_script_execs_the_runner_last(tmp_path: Path) -> None:
    lines = slurm_script(tmp_path).strip().splitlines()
    assert lines[0] == "#!/bin/bash"
    assert lines[-1] == "exec /venv/bin/bt-runner --tasks 'sum*' --loop --slots 2"


def test_the_script_refuses_to_run_without_a_database_url(tmp_path: Path) -> None:
    script = tmp_path / "pilot.sh"
    script.write_text(LocalBackend(tmp_path, "p").script(["/bin/echo", "ran"]))
    done = subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, env={}, check=False
    )
    assert done.returncode == 78
    assert "ran" not in done.stdout


def test_a_directive_value_with_spaces_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="partition"):
        slurm_script(tmp_path, partition="debug --wrap=evil")


def test_runner_command_of_static_pilots_loops() -> None:
    assert runner_command("bt-runner", ["a*"], ["-v"], loop=True) == [
        "bt-runner",
        "--tasks",
        "a*",
        "--loop",
        "-v",
    ]


def test_runner_command_of_on_demand_pilots_drains() -> None:
    assert runner_command("bt-runner", [], [], loop=False) == ["bt-runner"]


@pytest.mark.parametrize(
    "args", [["-u", "sqlite:///x.db"], ["--database-url=postgresql://u:pw@h/db"], ["x://u:pw@h"]]
)
def test_runner_arguments_cannot_carry_the_database_url(args: list[str]) -> None:
    with pytest.raises(ConfigError, match="must not carry the database URL"):
        runner_command("bt-runner", [], args, loop=True)


def test_mask_hides_passwords_in_urls_and_queries() -> None:
    text = "postgresql+psycopg://bt:s3cret@db:5432/bt?password=other"
    assert mask_text(text) == "postgresql+psycopg://bt:***@db:5432/bt?password=***"


def test_mask_argv_quotes_and_masks() -> None:
    assert mask_argv(["run", "a b", "x://u:pw@h/d"]) == "run 'a b' x://u:***@h/d"


def test_pilots_get_the_url_in_their_environment_by_default() -> None:
    assert pilot_environment("sqlite:///a.db") == {"BT_DATABASE_URL": "sqlite:///a.db"}


def test_pilots_can_get_the_url_from_a_private_config_file(tmp_path: Path) -> None:
    url = normalize_url('postgresql://bt:pa"ss@db/bt')
    env = pilot_environment(url, config_file=tmp_path / "db.toml")
    path = Path(env["BT_CONFIG"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings(environ=env).database_url == url
