"""`dispatcher status`: the dispatcher's two boxes, BT status and batch status, printed once.

It looks at the pilots of the dispatcher named by `--name`/`--backend` on this shell's database
(the same identity `bt-dispatcher` uses), and changes nothing.
"""

from __future__ import annotations

import argparse

import cmd2
from rich.console import Group
from rich.text import Text

from bt.dispatch import build_dispatcher
from shell.commands.args import new_parser
from shell.commands.base import ShellCommands
from shell.dispatcher.options import add_identity_arguments, identity_from
from shell.dispatcher.screen import boxes, settings_grid

#: The settings rows `dispatcher status` shows: what identifies the dispatcher, not its pilots'.
STATUS_ROWS = ("Dispatcher", "Database", "Batch system", "Eligible tasks")

dispatcher_parser = new_parser("Dispatchers of runner pilots on a batch farm.")
dispatcher_parser.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)
status_parser = new_parser(
    "Show a dispatcher's job counts (eligible tasks) beside its pilots' batch states, once."
)
add_identity_arguments(status_parser)


class DispatcherCommands(ShellCommands):
    """The `dispatcher` command."""

    DEFAULT_CATEGORY = "Runners"

    @cmd2.with_argparser(dispatcher_parser)
    def do_dispatcher(self, args: argparse.Namespace) -> None:
        """Dispatchers of runner pilots on a batch farm."""
        args.cmd2_subcommand_func(args)

    @cmd2.as_subcommand_to("dispatcher", "status", status_parser, help="jobs and pilots, once")
    def dispatcher_status(self, args: argparse.Namespace) -> None:
        options = identity_from(args)
        snapshot = build_dispatcher(options, self.bt).look()
        # how pilots get the URL depends on options this command does not know
        shown = dict(snapshot.settings) | {"Database": self.bt.db.masked_url}
        rows = [(label, shown[label]) for label in STATUS_ROWS]
        notes = [Text(f"warning: {w}", style="yellow") for w in snapshot.warnings]
        self.show(Group(settings_grid(rows), boxes(snapshot), *notes))
        self.result(snapshot)
