"""`job`: create and inspect jobs (create, list, show, tags, clone, priority).

The other `job` subcommands attach themselves to this command from their own modules
(`job_control`, `job_graph`, `job_edit`, `job_output`, `job_history`, `job_live`).
"""

from __future__ import annotations

import argparse

import cmd2

from bt.values import JobInfo, JobSpec
from shell import ids, render
from shell.commands.args import add_job_id, add_job_ids, add_json, new_parser, text_or_file
from shell.commands.base import ShellCommands
from shell.complete import Completers

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


job_parser = new_parser("Create, inspect, control and edit jobs.")
job_parser.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)

create_parser = new_parser(
    "Create a new job for a task, STASHED (or QUEUED with --submit). Config and input are "
    "YAML, given inline or as @file."
)
create_parser.add_argument(
    "task", help="the task the job runs", choices_provider=Completers.task_choices
)
create_parser.add_argument("--config", "-c", type=text_or_file, help="config: YAML or @file")
create_parser.add_argument("--input", "-i", type=text_or_file, help="input: YAML or @file")
create_parser.add_argument("--description", "-d", default="", help="free text about the job")
create_parser.add_argument("--priority", "-p", type=int, default=0, help="higher runs first")
create_parser.add_argument("--submit", "-s", action="store_true", help="queue it at once")
failures = create_parser.add_argument_group(
    "failure handling",
    "Unset, each comes from the task's own retries, retry_delay, retry_backoff or time_limit.",
)
failures.add_argument(
    "--retries", type=int, metavar="N", help="re-run a failed run up to N times (0: never)"
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

list_parser = new_parser(
    "List jobs matching every filter term: field<op>value with op one of = != < <= > >=, "
    "e.g. status=STAND-BY id>=10 name=catalog.* super_id=none created>=2026-01-01."
)
list_parser.add_argument(
    "terms", nargs="*", metavar="FILTER", help="filter terms", completer=Completers.filter_completer
)
list_parser.add_argument("--limit", "-n", type=int, help="jobs per page (default: page_size)")
list_parser.add_argument("--after", type=ids.job_id, metavar="ID", help="continue after this id")
list_parser.add_argument("--all", "-a", action="store_true", help="every matching job")
list_parser.add_argument("--newest-first", "-r", action="store_true", help="highest ids first")
add_json(list_parser)

show_parser = new_parser("Show a job: details, description, config, input and output.")
add_job_id(show_parser)
add_json(show_parser)

tags_parser = new_parser("Show a job's tags: tracebacks, captured output, user data.")
add_job_id(tags_parser)
tags_parser.add_argument("names", nargs="*", metavar="NAME", help="only these tags")
add_json(tags_parser)

clone_parser = new_parser("Copy jobs into new STASHED jobs (task, config, input, parents).")
add_job_ids(clone_parser, "jobs to copy")

priority_parser = new_parser("Set the priority of jobs: runnable jobs with higher run first.")
priority_parser.add_argument("priority", type=int, help="the new priority")
add_job_ids(priority_parser)


class JobCommands(ShellCommands):
    """The `job` command and its create/inspect subcommands."""

    DEFAULT_CATEGORY = "Jobs"

    @cmd2.with_argparser(job_parser)
    def do_job(self, args: argparse.Namespace) -> None:
        """Create, inspect, control and edit jobs."""
        args.cmd2_subcommand_func(args)

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
        )
        job = self.bt.jobs.create(spec, submit=args.submit)
        how = "created and submitted" if args.submit else "created"
        self._cmd.ok(f"A new job for task '{job.name}' with id {job.id} has been {how}.")
        self.result([job.id])

    @cmd2.as_subcommand_to("job", "list", list_parser, help="list jobs, with filters")
    def job_list(self, args: argparse.Namespace) -> None:
        limit = args.limit or self._cmd.page_size
        jobs, next_after = self._pages(args, limit)
        self.result(jobs)
        if args.json:
            self.text(render.as_json([job.as_dict() for job in jobs]))
            return
        if not jobs:
            self._cmd.warn("No jobs were found.")
            return
        self.show(render.job_table(jobs))
        if next_after is not None:
            more = " ".join([*args.terms, *(["-r"] if args.newest_first else [])])
            self._cmd.pfeedback(
                f"... more: job list {more} --after {next_after}".replace("  ", " ")
            )

    def _pages(self, args: argparse.Namespace, limit: int) -> tuple[list[JobInfo], int | None]:
        jobs: list[JobInfo] = []
        after = args.after
        while True:
            page = self.bt.jobs.list(
                args.terms, limit=limit, after=after, newest_first=args.newest_first
            )
            jobs += page.jobs
            after = page.next_after
            if after is None or not args.all:
                return jobs, after

    @cmd2.as_subcommand_to("job", "show", show_parser, help="show a job's details and YAML")
    def job_show(self, args: argparse.Namespace) -> None:
        job = self.bt.jobs.get(args.job_id)
        self.result(job)
        if args.json:
            self.text(render.as_json(job.as_dict()))
        else:
            self.show(render.job_details(job))

    @cmd2.as_subcommand_to("job", "tags", tags_parser, help="show a job's tags (tracebacks...)")
    def job_tags(self, args: argparse.Namespace) -> None:
        tags = self.bt.tags.list(args.job_id)
        if args.names:
            tags = [tag for tag in tags if tag.name in args.names]
        self.result(tags)
        if args.json:
            self.text(render.as_json({tag.name: tag.value for tag in tags}))
        elif not tags:
            self._cmd.warn(f"Job {args.job_id} has no tags.")
        else:
            self.show(render.tags_view(tags))

    @cmd2.as_subcommand_to("job", "clone", clone_parser, help="copy jobs into new ones")
    def job_clone(self, args: argparse.Namespace) -> None:
        copies: list[int] = []

        def clone(job_id: int) -> str:
            copy = self.bt.jobs.clone(job_id)
            copies.append(copy.id)
            return f"Job {job_id} has been cloned into a new job with id {copy.id}."

        self.for_each(ids.flatten(args.ids), clone)
        self.result(copies)

    @cmd2.as_subcommand_to("job", "priority", priority_parser, help="set jobs' priority")
    def job_priority(self, args: argparse.Namespace) -> None:
        def set_priority(job_id: int) -> str:
            self.bt.jobs.set_priority(job_id, args.priority)
            return f"Job {job_id} now has priority {args.priority}."

        self.for_each(ids.flatten(args.ids), set_priority)
