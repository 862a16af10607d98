"""Argument types and argument builders shared by the command parsers."""

from __future__ import annotations

import argparse
from pathlib import Path

import cmd2

from bt.yamlio import MAX_YAML_BYTES
from shell import ids
from shell.complete import Completers

MAX_FILE_BYTES = MAX_YAML_BYTES  #: the most an @FILE argument may hold (the largest value)


def text_or_file(value: str) -> str:
    """An argparse `type`: literal text, or the contents of a file given as `@path`, read up
    to the size limit and no further (`@/dev/zero` is refused, not read forever)."""
    if not value.startswith("@"):
        return value
    path = Path(value[1:]).expanduser()
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {path}: {exc.strerror}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise argparse.ArgumentTypeError(f"{path} is larger than {MAX_FILE_BYTES:,} bytes")
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
    )


def add_job_ids(parser: cmd2.Cmd2ArgumentParser, help: str = "jobs") -> None:
    """One or more ids and ranges (`10-20 25`), completed from the database."""
    parser.add_argument(
        "ids",
        metavar="ID",
        nargs="+",
        type=ids.id_range,
        help=f"{help}: ids or ranges like 10-20",
        choices_provider=Completers.job_id_choices,
    )


def add_json(parser: cmd2.Cmd2ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def new_parser(description: str) -> cmd2.Cmd2ArgumentParser:
    return cmd2.Cmd2ArgumentParser(description=description)
