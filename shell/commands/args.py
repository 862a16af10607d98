"""Argument types and argument builders shared by the command parsers.

Every parser is a `ShellArgumentParser` (`new_parser`): a refused command line raises
`UsageError` (one `ERROR:` line and the subcommand's own usage on one line, with a "did you
mean" for a misspelt subcommand or option), and every numeric option has a range: the type a
parser gives (`integer`, `number`), else the one `RANGES` gives its name.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import cmd2

from shell import ids
from shell.complete import ID_COLUMNS, Completers
from shell.core import UsageError, did_you_mean

MAX_INT = ids.MAX_ID  #: the largest whole number an option takes (a 32-bit column)
MAX_SECONDS = 366 * 86400.0
_CHOICE = re.compile(r"invalid choice: '?([^' ]*)'? \(choose from (.*)\)")


def integer(low: int = -MAX_INT, high: int = MAX_INT) -> Callable[[str], int]:
    """An argparse `type`: a whole number from `low` to `high`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not from {low:,} to {high:,}")
        return value

    return parse


def number(
    low: float = 0.0, high: float = MAX_SECONDS, *, above: bool = False
) -> Callable[[str], float]:
    """An argparse `type`: a number from `low` (or above it) to `high`."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value) or value > high or value < low or (above and value == low):
            least = f"above {_shown(low)}" if above else f"from {_shown(low)}"
            raise argparse.ArgumentTypeError(f"{text} is not a number {least} to {_shown(high)}")
        return value

    return parse


def _shown(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:g}"


#: the range of a numeric option whose parser gives a plain `int` or `float`, by its dest
RANGES: dict[str, Callable[[str], Any]] = {
    "limit": integer(1, 100_000),
    "rows": integer(1, 10_000),
    "max_children": integer(1, 100_000),
    "interval": number(0.0, 3600.0, above=True),
    "timeout": number(0.0, MAX_SECONDS, above=True),
    "recent": number(0.0, 525_600.0),
}


class ShellArgumentParser(cmd2.Cmd2ArgumentParser):
    """cmd2's parser, with one-line errors and a range for every number."""

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:  # type: ignore[override]
        action = super().add_argument(*args, **kwargs)
        if action.type in (int, float):
            action.type = RANGES.get(action.dest, integer() if action.type is int else number())
        return action

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """A leaf parser refuses unknown arguments itself, so its own usage is shown."""
        parsed, extras = super().parse_known_args(args, namespace)
        if extras and self._subparsers is None:
            self.error(self._unrecognized(extras))
        if isinstance(getattr(parsed, "terms", None), list):  # `job list` and the like
            ids.check_terms(parsed.terms)
        return parsed, extras

    def error(self, message: str) -> NoReturn:
        raise UsageError(self._friendly(message), self.one_line_usage())

    def one_line_usage(self) -> str:
        """`usage: job create [-h] ... task` on one line."""
        formatter = argparse.HelpFormatter(self.prog, width=1 << 16)
        formatter.add_usage(self.usage, self._actions, self._mutually_exclusive_groups, "usage: ")
        return " ".join(formatter.format_help().split())

    def _unrecognized(self, extras: list[str]) -> str:
        first = extras[0]
        if not first.startswith("-") or first.lstrip("-").replace(".", "").isdigit():
            return f"unexpected argument {first!r}"
        options = [o for a in self._actions for o in a.option_strings]
        return f"unknown option {first.split('=')[0]}.{did_you_mean(first.split('=')[0], options)}"

    def _friendly(self, message: str) -> str:
        choice = _CHOICE.search(message)
        if choice is None:
            return message
        word, listed = choice[1], re.findall(r"'([^']*)'", choice[2])
        hint = did_you_mean(word, listed)
        return message[: choice.start()] + (
            f"invalid choice {word!r}.{hint}"
            if hint
            else f"invalid choice {word!r} (one of {', '.join(listed)})"
        )


def text_or_file(value: str) -> str:
    """An argparse `type`: literal text, or the contents of a file given as `@path`, read up
    to the size limit and no further (`@/dev/zero` is refused, not read forever)."""
    if not value.startswith("@"):
        return value
    from bt.yamlio import MAX_YAML_BYTES as limit  # the largest value; YAML not at start

    path = Path(value[1:]).expanduser()
    try:
        with path.open("rb") as stream:
            data = stream.read(limit + 1)
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {path}: {exc.strerror}") from exc
    if len(data) > limit:
        raise argparse.ArgumentTypeError(f"{path} is larger than {limit:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise argparse.ArgumentTypeError(f"{path} is not UTF-8 text") from exc


def add_job_id(parser: cmd2.Cmd2ArgumentParser, help: str = "the job") -> None:
    """One job id, completed from the database."""
    parser.add_argument(
        "job_id",
        metavar="ID",
        type=ids.job_id,
        help=help,
        choices_provider=Completers.job_id_choices,
        table_columns=ID_COLUMNS,
    )


def add_job_ids(parser: cmd2.Cmd2ArgumentParser, help: str = "jobs") -> None:
    """One or more ids, ranges (`10-20 25`) or `job list` filter terms (`status=FAILED
    name=sim_*`), completed from the database; `ids.Selection` tells them apart."""
    parser.add_argument(
        "ids",
        metavar="ID|FILTER",
        nargs="+",
        type=ids.selector,
        help=f"{help}: ids, ranges like 10-20, or job list filters like status=FAILED",
        choices_provider=Completers.job_id_choices,
        table_columns=ID_COLUMNS,
    )


def add_json(parser: cmd2.Cmd2ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def new_parser(description: str) -> ShellArgumentParser:
    return ShellArgumentParser(description=description)
