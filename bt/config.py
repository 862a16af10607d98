"""Configuration, read in one place.

The database URL comes from, in order: the `-u/--database-url` option, the `BT_DATABASE_URL`
environment variable, the `database_url` key of a TOML config file (`$BT_CONFIG`, else
`<XDG config dir>/brownthrower/config.toml`), and finally the embedded default: a SQLite file in
the XDG data directory. Pooled mode (the database is reached through PgBouncer in transaction
mode: no LISTEN, no session state, no prepared statements) comes, in the same order, from
`--pooled`, `BT_DATABASE_POOLED=1` and `database_pooled = true`. Nothing else in brownthrower
reads the environment for settings.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from bt.errors import ConfigError

APP_NAME = "brownthrower"
URL_VARIABLE = "BT_DATABASE_URL"
POOLED_VARIABLE = "BT_DATABASE_POOLED"
CONFIG_VARIABLE = "BT_CONFIG"

#: A URL SQLAlchemy would give back unchanged: a known driver, no password, no query, and only
#: characters its quoting leaves alone. Such URLs are checked without importing SQLAlchemy (a
#: third of a second), so the shell reaches its prompt without it.
_PLAIN_URL = re.compile(
    r"(?P<driver>sqlite|postgres|postgresql|postgresql\+psycopg)://"
    r"(?:[\w.~-]+@)?[\w.~-]*(?::[1-9][0-9]{0,4})?(?:/[\w.~/ +-]*)?",
    re.ASCII,
)


@dataclass(frozen=True)
class Settings:
    """Where the database is, where that came from, and the rest of the config file."""

    database_url: str
    source: str
    config_file: Path | None = None
    sections: Mapping[str, Any] = field(default_factory=dict)
    pooled: bool = (
        False  #: through a transaction-mode pooler (PgBouncer): no LISTEN, no session state
    )

    @property
    def masked_url(self) -> str:
        return mask_url(self.database_url)

    def section(self, name: str) -> Mapping[str, Any]:
        """One `[name]` table of the config file (empty when absent)."""
        value = self.sections.get(name, {})
        if not isinstance(value, Mapping):
            raise ConfigError(f"[{name}] in {self.config_file} must be a table")
        return value


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_data_dir() -> Path:
    """Where the embedded default database lives; the one directory brownthrower creates for
    a database (an explicitly given URL must name an existing directory)."""
    return Path(platformdirs.user_data_dir(APP_NAME))


def default_database_url() -> str:
    """The embedded default: a SQLite file in the user's data directory."""
    return f"sqlite:///{default_data_dir() / 'brownthrower.db'}"


def load_settings(
    cli_url: str | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    cli_pooled: bool | None = None,
) -> Settings:
    """Resolve the settings from the command line, the environment and the config file."""
    env = os.environ if environ is None else environ
    path = Path(env[CONFIG_VARIABLE]) if env.get(CONFIG_VARIABLE) else default_config_path()
    table = _read_config(path, required=bool(env.get(CONFIG_VARIABLE)))
    config_file = path if table is not None else None
    sections = table or {}
    if cli_url:
        url, source = cli_url, "--database-url"
    elif env.get(URL_VARIABLE):
        url, source = env[URL_VARIABLE], URL_VARIABLE
    elif "database_url" in sections:
        url, source = str(sections["database_url"]), f"config file {path}"
    else:
        url, source = default_database_url(), "embedded default"
    pooled = _pooled(cli_pooled, env, sections, path)
    return Settings(normalize_url(url), source, config_file, sections, pooled)


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


def _pooled(
    cli: bool | None, env: Mapping[str, str], sections: Mapping[str, Any], path: Path
) -> bool:
    """Pooled mode: `--pooled`, else `BT_DATABASE_POOLED`, else `database_pooled` in the file."""
    if cli is not None:
        return cli
    if POOLED_VARIABLE in env:
        text = env[POOLED_VARIABLE].strip().lower()
        if text not in _TRUE + _FALSE:
            raise ConfigError(f"{POOLED_VARIABLE} must be 1 or 0, not {env[POOLED_VARIABLE]!r}.")
        return text in _TRUE
    value = sections.get("database_pooled", False)
    if not isinstance(value, bool):
        raise ConfigError(f"database_pooled in {path} must be true or false.")
    return value


def _read_config(path: Path, *, required: bool) -> dict[str, Any] | None:
    if not path.exists():
        if required:
            raise ConfigError(f"Config file {path} (from ${CONFIG_VARIABLE}) does not exist.")
        return None
    import tomllib  # only when there is a file to read

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read config file {path}: {exc}") from exc


def normalize_url(url: str) -> str:
    """Validate a SQLAlchemy URL; plain `postgresql://` URLs get the psycopg 3 driver."""
    plain = _PLAIN_URL.fullmatch(url)
    if plain is not None:
        driver = plain["driver"]
        return url if driver not in ("postgresql", "postgres") else _PSYCOPG + url[len(driver) :]
    return _normalize_with_sqlalchemy(url)


_PSYCOPG = "postgresql+psycopg"


def _normalize_with_sqlalchemy(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"Not a database URL: {mask_url(url)!r}.") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername=_PSYCOPG)
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"Unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql."
        )
    return parsed.render_as_string(hide_password=False)


def mask_url(url: str) -> str:
    """The URL with its password replaced by `***`, safe to show or log."""
    if _PLAIN_URL.fullmatch(url):
        return url  # no password to hide
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return "<unparseable database URL>"
    if "password" in parsed.query:
        parsed = parsed.update_query_dict({"password": "***"})
    return parsed.render_as_string(hide_password=True)
