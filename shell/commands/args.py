"""Argument types and argument builders shared by the command parsers."""

from __future__ import annotations

import argparse
from pathlib import Path

import cmd2

from shell import ids
from shell.complete import Completers


def text_or_file(value: str) -> str:
    """An argparse `type`: literal text, or the contents of a file given as `@path`."""
    if not value.startswith("@"):
        return value
    path = Path(value[1:]).expanduser()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {path}: {exc.strerror}") from exc


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
