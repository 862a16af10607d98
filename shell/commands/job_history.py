"""`job history`: every attempt of a job, every status change, one attempt's failure.

The attempts and events are the core's (`app.jobs.history`, `app.jobs.events`); a failure is
kept with the attempt it ended, so a retry that succeeds never hides why the one before failed.
"""

from __future__ import annotations

import argparse

import cmd2

from bt.values import Attempt
from shell import render
from shell.commands.args import add_job_id, add_json, new_parser
from shell.commands.base import ShellCommands
from shell.core import CommandError


def attempt_number(text: str) -> int:
    """An argparse `type`: an attempt number, 1 or more."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not an attempt number (1, 2, ...)")
    return int(text)


history_parser = new_parser(
    "Show a job's attempts, one row each: runner, host, times, outcome (DONE, FAILED, "
    "retried, requeued), exit code, what it cost (cpu: user + system time; peak_rss: the "
    "peak memory of the largest single process, as getrusage counts it; read/written: bytes "
    "through read and write calls) and reason. --events lists every status change instead; "
    "--attempt N shows one attempt's reason, all its figures, traceback and stderr tail."
)
add_job_id(history_parser)
which = history_parser.add_mutually_exclusive_group()
which.add_argument("--events", "-e", action="store_true", help="every status change, oldest first")
which.add_argument(
    "--attempt", "-a", type=attempt_number, metavar="N", help="one attempt, with its traceback"
)
add_json(history_parser)


class JobHistoryCommands(ShellCommands):
    """`job history`."""

    @cmd2.as_subcommand_to("job", "history", history_parser, help="show a job's attempts")
    def job_history(self, args: argparse.Namespace) -> None:
        if args.events:
            self._events(args.job_id, args.json)
        elif args.attempt is not None:
            self._attempt(args.job_id, args.attempt, args.json)
        else:
            self._attempts(args.job_id, args.json)

    def _attempts(self, job_id: int, as_json: bool) -> None:
        attempts = self.bt.jobs.history(job_id)
        self.result(attempts)
        if as_json:
            self.text(render.as_json([a.as_dict() for a in attempts]))
        elif not attempts:
            self._cmd.warn(f"Job {job_id} has not run yet.")
        else:
            self.show(render.history_table(attempts))

    def _events(self, job_id: int, as_json: bool) -> None:
        events = self.bt.jobs.events(job_id)
        self.result(events)
        if as_json:
            self.text(render.as_json([e.as_dict() for e in events]))
        else:
            self.show(render.events_table(events))

    def _attempt(self, job_id: int, number: int, as_json: bool) -> None:
        attempts = self.bt.jobs.history(job_id)
        attempt = _numbered(job_id, attempts, number)
        self.result(attempt)
        if as_json:
            self.text(render.as_json(attempt.as_dict()))
        else:
            self.show(render.attempt_view(job_id, attempt, len(attempts)))


def _numbered(job_id: int, attempts: list[Attempt], number: int) -> Attempt:
    """Attempt `number` of the job, or a `CommandError` saying which ones there are."""
    for attempt in attempts:
        if attempt.number == number:
            return attempt
    if not attempts:
        raise CommandError(f"Job {job_id} has no attempt {number}: it has not run yet.")
    known = ", ".join(str(a.number) for a in attempts)
    raise CommandError(f"Job {job_id} has no attempt {number}; its attempts are {known}.")
