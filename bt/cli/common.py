"""What every brownthrower program shares on its command line: options, logging, exit codes."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from bt import __version__, errors
from bt.config import Settings, load_settings

if TYPE_CHECKING:
    from bt.client import Brownthrower

RET_OK = 0  #: success
RET_ERROR = 1  #: a brownthrower error (printed as one line)
RET_USAGE = 2  #: bad command line (argparse)
RET_DATABASE = 3  #: the database cannot be reached or its schema is not current
RET_INTERRUPTED = 130  #: stopped by a signal before finishing

#: What `brownthrower`, `bt-runner` and `bt-dispatcher` exit with when an error ends them, the
#: first matching row winning: the same error gives the same status from every program.
#: argparse exits RET_USAGE itself; a failing command in a shell script makes it RET_ERROR.
EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (errors.DatabaseUnavailable, RET_DATABASE),
    (errors.SchemaError, RET_DATABASE),
    (errors.BrownthrowerError, RET_ERROR),
    (KeyboardInterrupt, RET_INTERRUPTED),
)

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """-u/--database-url, -v/--verbose and --version."""
    parser.add_argument(
        "-u",
        "--database-url",
        metavar="URL",
        help="database URL (default: $BT_DATABASE_URL, the config file, or a SQLite file in "
        "the user's data directory); prefer the environment or a 0600 config file for "
        "URLs with a password, as command lines are visible to every user",
    )
    parser.add_argument(
        "--pooled",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the database URL leads to PgBouncer in transaction mode: no LISTEN (poll instead), "
        "no session state, no prepared statements (default: $BT_DATABASE_POOLED, or "
        "database_pooled in the config file)",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv also logs SQL)"
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")


def at_least(minimum: int) -> Callable[[str], int]:
    """An argparse `type` for whole numbers of at least `minimum`."""

    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more")
        return value

    return parse


def seconds(text: str) -> float:
    """An argparse `type` for a duration in seconds, not negative."""
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError("must be a number of seconds, not negative")
    return value


def setup_logging(verbosity: int) -> None:
    level = logging.WARNING - 10 * min(verbosity, 2)
    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr)
    if verbosity >= 2:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)


def settings_from(args: argparse.Namespace) -> Settings:
    return load_settings(
        getattr(args, "database_url", None), cli_pooled=getattr(args, "pooled", None)
    )


def open_app(args: argparse.Namespace, program: str) -> Brownthrower:
    """The core library on the configured database (schema created on first use), for a
    daemon: one connection, named after `program`."""
    from bt.client import Brownthrower

    return Brownthrower.open(settings=settings_from(args), single=True, program=program)


def exit_code(exc: BaseException) -> int | None:
    """The status a program ends with after `exc` (the first matching row of `EXIT_CODES`), or
    None for what is not a brownthrower error (a bug: it keeps its traceback)."""
    return next((code for kind, code in EXIT_CODES if isinstance(exc, kind)), None)


def run_main(program: str, main: Callable[[], int]) -> int:
    """Run `main`, turning brownthrower errors into one line on stderr and a named exit code."""
    try:
        return main()
    except BaseException as exc:
        code = exit_code(exc)
        if code is None:
            raise
        if code != RET_INTERRUPTED:
            print(f"{program}: error: {exc}", file=sys.stderr)
        return code
