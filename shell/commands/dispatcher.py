"""`dispatcher status`: the dispatcher's two boxes, BT status and batch status, printed once,
with what the running dispatcher recorded: demand, failures and backoff, recent submissions.

It looks at the pilots of the dispatcher named by `--name`/`--backend` on this shell's database
(the same identity `bt-dispatcher` uses), and changes nothing. Its state directory is
`--state-dir`, else the one that dispatcher was last started with (`bt.dispatch.statedir`);
when no pilot is found, a note says which options must match.
"""

from __future__ import annotations

import argparse
import dataclasses

import cmd2
from rich.console import Group
from rich.text import Text

from bt.dispatch import Dispatcher, DispatcherOptions, build_dispatcher, statedir
from shell.commands.args import new_parser
from shell.commands.base import ShellCommands
from shell.dispatcher.options import add_identity_arguments, identity_from
from shell.dispatcher.screen import boxes, health, history, settings_grid

#: The settings rows `dispatcher status` shows: what identifies the dispatcher, not its pilots'.
STATUS_ROWS = ("Dispatcher", "Database", "Batch system", "State dir", "Eligible tasks")

dispatcher_parser = new_parser("Dispatchers of runner pilots on a batch farm.")
dispatcher_parser.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)
status_parser = new_parser(
    "Show a dispatcher's job counts (eligible tasks) beside its pilots' batch states, once, "
    "with its demand, failures and backoff, recent submissions and the pilots it owns."
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
        dispatcher = self._dispatcher(identity_from(args))
        snapshot = dispatcher.look()
        # how pilots get the URL depends on options this command does not know
        shown = dict(snapshot.settings) | {
            "Database": self.bt.db.masked_url,
            "State dir": str(dispatcher.state_dir),
        }
        rows = [(label, shown[label]) for label in STATUS_ROWS]
        notes = [Text(f"warning: {w}", style="yellow") for w in snapshot.warnings]
        if snapshot.report.pilots == []:
            notes.append(Text(_no_pilots(dispatcher), style="yellow"))
        parts = [settings_grid(rows), boxes(snapshot), health(snapshot), history(snapshot.journal)]
        self.show(Group(*parts, *notes))
        self.result(snapshot)

    def _dispatcher(self, options: DispatcherOptions) -> Dispatcher:
        """The dispatcher `options` name; without `--state-dir`, in the state directory it was
        last started with."""
        dispatcher = build_dispatcher(options, self.bt)
        recorded = statedir.recorded(dispatcher.dispatcher_id)
        if options.state_dir is not None or recorded is None:
            return dispatcher
        return build_dispatcher(dataclasses.replace(options, state_dir=recorded), self.bt)


def _no_pilots(dispatcher: Dispatcher) -> str:
    return (
        f"No pilot of dispatcher {dispatcher.dispatcher_id} was found. A dispatcher started "
        "with another --name, --backend or --state-dir is found with the same options here."
    )
