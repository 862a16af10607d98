from __future__ import annotations

from pathlib import Path

import pytest

from bt import errors
from bt.config import load_settings, mask_url


def test_command_line_url_wins(tmp_path: Path) -> None:
    env = {"BT_DATABASE_URL": "sqlite:///env.db"}
    assert load_settings("sqlite:///cli.db", env).database_url == "sqlite:///cli.db"


def test_environment_beats_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "bt.toml"
    config.write_text('database_url = "sqlite:///file.db"\n')
    env = {"BT_DATABASE_URL": "sqlite:///env.db", "BT_CONFIG": str(config)}
    assert load_settings(None, env).source == "BT_DATABASE_URL"


def test_config_file_beats_the_default(tmp_path: Path) -> None:
    config = tmp_path / "bt.toml"
    config.write_text('database_url = "sqlite:///file.db"\n[runner]\nlease = 30\n')
    settings = load_settings(None, {"BT_CONFIG": str(config)})
    assert (settings.database_url, settings.section("runner")["lease"]) == ("sqlite:///file.db", 30)


def test_default_is_a_sqlite_file_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    settings = load_settings(None, {})
    assert settings.database_url == f"sqlite:///{tmp_path}/data/brownthrower/brownthrower.db"


def test_plain_postgresql_urls_get_the_psycopg_driver() -> None:
    url = load_settings("postgresql://bt@db/bt", {}).database_url
    assert url.startswith("postgresql+psycopg://")


def test_a_missing_config_file_named_by_bt_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(errors.ConfigError, match="does not exist"):
        load_settings(None, {"BT_CONFIG": str(tmp_path / "nope.toml")})


def test_a_malformed_config_file_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "bt.toml"
    config.write_text("database_url = \n")
    with pytest.raises(errors.ConfigError, match="Cannot read config file"):
        load_settings(None, {"BT_CONFIG": str(config)})


def test_unsupported_databases_are_refused() -> None:
    with pytest.raises(errors.ConfigError, match="Unsupported database 'mysql'"):
        load_settings("mysql://x@y/z", {})


def test_masked_urls_hide_the_password() -> None:
    assert mask_url("postgresql+psycopg://bt:s3cret@db/bt") == "postgresql+psycopg://bt:***@db/bt"


def test_masked_urls_hide_a_password_in_the_query() -> None:
    assert "s3cret" not in mask_url("postgresql://db/bt?user=bt&password=s3cret")


def test_the_default_database_lives_in_the_default_data_directory() -> None:
    from bt.config import default_data_dir, default_database_url

    assert default_database_url() == f"sqlite:///{default_data_dir() / 'brownthrower.db'}"
