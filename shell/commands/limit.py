"""`limit set|list|remove`: named concurrency limits, across every runner.

A limit caps the units RUNNING jobs hold of it at once (a catalog database that takes 4
queries, a licence server, an NFS volume). Jobs say what they hold with their task's `limits`
attribute or `job create --limit NAME[:UNITS]`; a job whose limit is full stays `QUEUED
(limited)` until units are given back.
"""

from __future__ import annotations

import argparse

import cmd2
from rich.table import Table

from bt import errors
from bt.values import LimitInfo
from shell import render
from shell.commands.args import add_json, integer, new_parser
from shell.commands.base import ShellCommands
from shell.core import CommandError, did_you_mean
from shell.render_values import one_line as escaped

limit_parser = new_parser(
    "Named concurrency limits: at most N units held at once by RUNNING jobs, across runners."
)
limit_parser.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)
set_parser = new_parser(
    "Create a limit or change its capacity. Lowered below the units in use, the jobs holding "
    "them finish and no new one starts until the units fit; raised, waiting jobs start."
)
set_parser.add_argument("name", help="the limit: letters, digits, '_', '.', '-'")
set_parser.add_argument(
    "capacity", type=integer(0, 1_000_000_000), metavar="N", help="units held at once (0: none)"
)
list_parser = new_parser(
    "List limits: capacity, units in use, jobs running with each and jobs waiting for it "
    "(QUEUED, every parent DONE)."
)
add_json(list_parser)
remove_parser = new_parser(
    "Remove a limit; refused while a job that is not DONE needs it (such a job could not run)."
)
remove_parser.add_argument("name", help="the limit")


def limits_table(limits: list[LimitInfo]) -> Table:
    """`limit list`."""
    table = render.plain_table("name", "capacity", "in use", "running", "waiting")
    for column in table.columns[1:]:
        column.justify = "right"
    for limit in limits:
        in_use = f"{limit.in_use:,}"
        if limit.in_use > limit.capacity:  # lowered below what is held: draining
            in_use += " (over)"
        table.add_row(
            escaped(limit.name),
            f"{limit.capacity:,}",
            in_use,
            f"{limit.running:,}",
            f"{limit.waiting:,}",
        )
    return table


class LimitCommands(ShellCommands):
    """The `limit` command."""

    DEFAULT_CATEGORY = "Limits"

    @cmd2.with_argparser(limit_parser)
    def do_limit(self, args: argparse.Namespace) -> None:
        """Named concurrency limits: set, list, remove."""
        args.cmd2_subcommand_func(args)

    @cmd2.as_subcommand_to("limit", "set", set_parser, help="create a limit or change it")
    def limit_set(self, args: argparse.Namespace) -> None:
        limit = self.bt.limits.set(args.name, args.capacity)
        self.result(limit)
        self._cmd.ok(
            f"Limit '{limit.name}' has a capacity of {limit.capacity:,} "
            f"({limit.in_use:,} in use, {limit.waiting:,} job(s) waiting)."
        )

    @cmd2.as_subcommand_to("limit", "list", list_parser, help="list limits")
    def limit_list(self, args: argparse.Namespace) -> None:
        limits = self.bt.limits.list()
        self.result(limits)
        if args.json:
            self.text(render.as_json([limit.as_dict() for limit in limits]))
        elif not limits:
            self._cmd.warn("There are no limits; create one with `limit set NAME N`.")
        else:
            self.show(limits_table(limits))

    @cmd2.as_subcommand_to("limit", "remove", remove_parser, help="remove a limit")
    def limit_remove(self, args: argparse.Namespace) -> None:
        try:
            self.bt.limits.remove(args.name)
        except errors.LimitNotFound as exc:
            hint = did_you_mean(args.name, exc.known)
            raise CommandError(f"Limit '{args.name}' does not exist.{hint}") from exc
        self.result([args.name])
        self._cmd.ok(f"Limit '{args.name}' has been removed.")
