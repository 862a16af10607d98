"""`job create|clone|priority`: making jobs and setting their priority.

`--json` on create and clone prints the new rows, so a script building a graph reads the ids
instead of parsing "with id N"; every text option takes `@FILE` as well as literal text.
"""

from __future__ import annotations

import argparse

import cmd2

from bt import errors
from bt.limitnames import parse_limit
from bt.values import JobDetails, JobInfo, JobSpec
from shell import ids, render
from shell.commands.args import add_job_ids, add_json, integer, new_parser, text_or_file
from shell.commands.base import BULK, ShellCommands
from shell.complete import Completers
from shell.core import CommandError, did_you_mean

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(value: str) -> float:
    """An argparse `type`: seconds, plain or with a unit (`90`, `1.5`, `90s`, `10m`, `2h`, `1d`).
    The range is the core's to check, so a bad one is one error line like any refusal."""
    text = value.strip().lower()
    unit = UNITS.get(text[-1:], 0)
    try:
        return float(text[:-1] if unit else text) * (unit or 1)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected seconds, like 90, 1.5, 10m or 2h: {value!r}"
        ) from None


create_parser = new_parser(
    "Create a new job for a task, STASHED (or QUEUED with --submit). Config and input are "
    "YAML, given inline or as @file."
)
create_parser.add_argument(
    "task", help="the task the job runs", choices_provider=Completers.task_choices
)
create_parser.add_argument("--config", "-c", type=text_or_file, help="config: YAML or @file")
create_parser.add_argument("--input", "-i", type=text_or_file, help="input: YAML or @file")
create_parser.add_argument(
    "--description", "-d", type=text_or_file, default="", help="free text about the job, or @file"
)
create_parser.add_argument("--priority", "-p", type=integer(), default=0, help="higher runs first")
create_parser.add_argument("--submit", "-s", action="store_true", help="queue it at once")
add_json(create_parser)


def limit(value: str) -> tuple[str, int]:
    """An argparse `type`: `NAME` (one unit) or `NAME:UNITS` of a concurrency limit."""
    try:
        return parse_limit(value)
    except errors.InvalidValue as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


LIMIT_HELP = (
    "hold UNITS (default 1) of concurrency limit NAME while running; repeat for several "
    "limits; given, they replace the task's own limits"
)
create_parser.add_argument(
    "--limit", "-l", type=limit, action="append", metavar="NAME[:UNITS]", help=LIMIT_HELP
)
failures = create_parser.add_argument_group(
    "failure handling",
    "Unset, each comes from the task's own retries, retry_delay, retry_backoff or time_limit.",
)
failures.add_argument(
    "--retries", type=integer(), metavar="N", help="re-run a failed run up to N times (0: never)"
)
failures.add_argument(
    "--retry-delay", type=seconds, metavar="S", help="seconds before the first retry (or 5m, 1h)"
)
failures.add_argument(
    "--retry-backoff", type=float, metavar="F", help="each next retry waits F times longer"
)
failures.add_argument(
    "--time-limit",
    type=seconds,
    metavar="S",
    help="fail a run after this many seconds (or 30m, 2h)",
)

clone_parser = new_parser("Copy jobs into new STASHED jobs (task, config, input, parents).")
add_job_ids(clone_parser, "jobs to copy")
clone_parser.add_argument(
    "--limit",
    "-l",
    type=limit,
    action="append",
    metavar="NAME[:UNITS]",
    help="hold UNITS of limit NAME instead of the original's limits (repeatable)",
)
add_json(clone_parser)

priority_parser = new_parser("Set the priority of jobs: runnable jobs with higher run first.")
priority_parser.add_argument("priority", type=integer(), help="the new priority")
add_job_ids(priority_parser)


class JobCreateCommands(ShellCommands):
    """`job create`, `job clone` and `job priority`."""

    @cmd2.as_subcommand_to("job", "create", create_parser, help="create a job for a task")
    def job_create(self, args: argparse.Namespace) -> None:
        spec = JobSpec(
            args.task,
            args.config,
            args.input,
            args.description,
            args.priority,
            retries=args.retries,
            retry_delay=args.retry_delay,
            retry_backoff=args.retry_backoff,
            time_limit=args.time_limit,
            limits=limits_of(args.limit),
        )
        job = self._create(spec, submit=args.submit)
        self.result([job.id])
        if args.json:  # the whole row: the failure handling the job took from its task too
            self.text(render.as_json(self.bt.jobs.get(job.id).as_dict()))
            return
        how = "created and submitted" if args.submit else "created"
        self._cmd.ok(f"A new job for task '{job.name}' with id {job.id} has been {how}.")

    def _create(self, spec: JobSpec, *, submit: bool) -> JobInfo:
        try:
            return self.bt.jobs.create(spec, submit=submit)
        except errors.TaskNotFound as exc:
            raise CommandError(
                f"{exc}{did_you_mean(spec.task, self._cmd.registry.names())}"
            ) from exc
        except errors.LimitNotFound as exc:
            raise CommandError(f"{exc}{did_you_mean(exc.name, exc.known)}") from exc

    @cmd2.as_subcommand_to("job", "clone", clone_parser, help="copy jobs into new ones")
    def job_clone(self, args: argparse.Namespace) -> None:
        copies: dict[int, JobDetails] = {}  # by the id of the job copied

        def clone(job_id: int) -> str:
            copy = self.bt.jobs.get(self.bt.jobs.clone(job_id, limits=limits).id)
            copies[job_id] = copy
            return f"Job {job_id} has been cloned into a new job with id {copy.id}{_linked(copy)}."

        limits = limits_of(args.limit)
        chosen = self.selected(args.ids)
        if args.json:
            with self._cmd.silenced():
                self.for_each(chosen, clone, "cloned")
            rows = [{**copy.as_dict(), "cloned_from": s} for s, copy in copies.items()]
            self.text(render.as_json(rows))
        else:
            self.for_each(chosen, clone, "cloned")
            if len(chosen) > BULK and copies:  # no line per job was printed
                self._cmd.ok(_new_jobs(list(copies.values())))
        self.result([copy.id for copy in copies.values()])

    @cmd2.as_subcommand_to("job", "priority", priority_parser, help="set jobs' priority")
    def job_priority(self, args: argparse.Namespace) -> None:
        def set_priority(job_id: int) -> str:
            self.bt.jobs.set_priority(job_id, args.priority)
            return f"Job {job_id} now has priority {args.priority}."

        self.for_each(self.selected(args.ids), set_priority, f"priority {args.priority} set on")


def limits_of(given: list[tuple[str, int]] | None) -> dict[str, int] | None:
    """The units of each limit `--limit` options ask for (a name given twice: the last);
    None when none was given."""
    return dict(given) if given else None


def _linked(copy: JobDetails) -> str:
    """What a clone's line adds when the copy depends on the original's parents."""
    if not copy.parents:
        return ""
    parents = "job" if len(copy.parents) == 1 else "jobs"
    return f", which depends on {parents} {ids.ranges(copy.parents)} like the original"


def _new_jobs(copies: list[JobDetails]) -> str:
    """The line after many clones: their ids, and how many depend on their originals' parents."""
    linked = sum(1 for copy in copies if copy.parents)
    also = f"; {linked:,} depend on their originals' parents" if linked else ""
    return f"New jobs: {ids.ranges(copy.id for copy in copies)}{also}."
