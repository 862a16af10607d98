"""`status`: how many jobs are in each status."""

from __future__ import annotations

import argparse

import cmd2

from shell import render
from shell.commands.args import add_json, new_parser
from shell.commands.base import ShellCommands

status_parser = new_parser(
    "Count jobs per status. Four parts of QUEUED are counted below it: RUNNABLE (every parent "
    "DONE), BLOCKED (behind a FAILED or blocked parent: it runs only once someone resubmits, "
    "unlinks or removes that parent), WAITING (for its retry delay, after a failed run) and "
    "LIMITED (every parent DONE, but a concurrency limit it needs is full; not in RUNNABLE). "
    "`job list status=BLOCKED` (or RUNNABLE, WAITING, LIMITED) lists them."
)
status_parser.add_argument("--tasks", nargs="+", metavar="TASK", help="only jobs of these tasks")
add_json(status_parser)


class StatusCommands(ShellCommands):
    """The `status` command."""

    DEFAULT_CATEGORY = "Jobs"

    @cmd2.with_argparser(status_parser)
    def do_status(self, args: argparse.Namespace) -> None:
        """Count jobs per status, RUNNABLE, BLOCKED, WAITING and LIMITED included."""
        counts = self.bt.jobs.counts(args.tasks)
        self.result(counts)
        if args.json:
            self.text(render.as_json(counts))
        else:
            self.show(render.counts_table(counts))
