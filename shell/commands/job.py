"""`job`: the command, and inspecting jobs (list, show, tags).

The other `job` subcommands attach themselves to this command from their own modules
(`job_create`, `job_control`, `job_graph`, `job_edit`, `job_output`, `job_history`, `job_live`).
"""

from __future__ import annotations

import argparse
import datetime as dt

import cmd2

from bt.values import JobInfo
from shell import ids, render
from shell.commands.args import add_job_id, add_json, new_parser
from shell.commands.base import ShellCommands
from shell.complete import Completers
from shell.render_values import details_json

job_parser = new_parser("Create, inspect, control and edit jobs.")
job_parser.add_subparsers(title="subcommands", metavar="SUBCOMMAND", required=True)

list_parser = new_parser(
    "List jobs matching every filter term: field<op>value with op one of = != < <= > >=, "
    "e.g. status=STAND-BY id>=10 name=catalog.* super_id=none created>=2026-01-01; status also "
    "takes RUNNABLE, BLOCKED, WAITING (a retry waiting for its delay) and LIMITED (runnable "
    "but for a concurrency limit without room)."
)
list_parser.add_argument(
    "terms", nargs="*", metavar="FILTER", help="filter terms", completer=Completers.filter_completer
)
list_parser.add_argument("--limit", "-n", type=int, help="jobs per page (default: page_size)")
list_parser.add_argument("--after", type=ids.job_id, metavar="ID", help="continue after this id")
list_parser.add_argument("--all", "-a", action="store_true", help="every matching job")
list_parser.add_argument(
    "--newest-first", "-r", action="store_true", help="highest ids first (with --sort: reversed)"
)


def column_names(text: str) -> list[str]:
    """An argparse `type`: a comma-separated choice of `job list` columns."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in render.ALL_JOB_COLUMNS]
    if unknown or not names:
        known = ",".join(render.ALL_JOB_COLUMNS)
        raise argparse.ArgumentTypeError(f"unknown column {','.join(unknown)!r}; columns: {known}")
    return names


list_parser.add_argument(
    "--sort",
    "-s",
    metavar="FIELD",
    choices=render.ALL_JOB_COLUMNS,
    help="list the jobs in the order of this column, ties by id, empty values last (also "
    "with -r, which reverses); pages continue the whole order",
)
list_parser.add_argument(
    "--columns",
    "-c",
    type=column_names,
    metavar="COLUMNS",
    help=f"comma-separated columns to show, of: {','.join(render.ALL_JOB_COLUMNS)}",
)
add_json(list_parser)

show_parser = new_parser("Show a job: details, description, config, input and output.")
add_job_id(show_parser)
add_json(show_parser)

tags_parser = new_parser("Show a job's tags: tracebacks, captured output, user data.")
add_job_id(tags_parser)
tags_parser.add_argument("names", nargs="*", metavar="NAME", help="only these tags")
add_json(tags_parser)


class JobCommands(ShellCommands):
    """The `job` command and its inspect subcommands."""

    DEFAULT_CATEGORY = "Jobs"

    @cmd2.with_argparser(job_parser)
    def do_job(self, args: argparse.Namespace) -> None:
        """Create, inspect, control and edit jobs."""
        args.cmd2_subcommand_func(args)

    @cmd2.as_subcommand_to("job", "list", list_parser, help="list jobs, with filters")
    def job_list(self, args: argparse.Namespace) -> None:
        limit = args.limit or self._cmd.page_size
        now = dt.datetime.now(dt.UTC)
        jobs, next_after = self._pages(args, limit, now)
        columns = args.columns or render.JOB_COLUMNS
        hosts = self.bt.jobs.hosts([job.id for job in jobs]) if "host" in columns else {}
        self.result(jobs)
        if args.json:
            self.text(render.as_json([job.as_dict() for job in jobs]))
            return
        if not jobs:
            self._cmd.warn("No jobs were found.")
            return
        self.show(render.job_table(jobs, columns, hosts=hosts, now=now))
        if next_after is not None:
            more = " ".join([*args.terms, *_list_options(args)])
            self._cmd.pfeedback(
                f"... more: job list {more} --after {next_after}".replace("  ", " ")
            )

    def _pages(
        self, args: argparse.Namespace, limit: int, now: dt.datetime
    ) -> tuple[list[JobInfo], int | None]:
        jobs: list[JobInfo] = []
        after = args.after
        while True:
            page = self.bt.jobs.list(
                args.terms,
                limit=limit,
                after=after,
                newest_first=args.newest_first,
                sort=args.sort,
                now=now,
            )
            jobs += page.jobs
            after = page.next_after
            if after is None or not args.all:
                return jobs, after

    @cmd2.as_subcommand_to("job", "show", show_parser, help="show a job's details and YAML")
    def job_show(self, args: argparse.Namespace) -> None:
        job = self.bt.jobs.get(args.job_id)
        attempts = self.bt.jobs.history(args.job_id) if job.started else []
        last = attempts[-1] if attempts else None
        self.result(job)
        if args.json:
            usage = last.usage.as_dict() if last and last.usage else None
            self.text(render.as_json({**details_json(job.as_dict()), "last_usage": usage}))
        else:
            self.show(render.job_details(job, last=last))

    @cmd2.as_subcommand_to("job", "tags", tags_parser, help="show a job's tags (tracebacks...)")
    def job_tags(self, args: argparse.Namespace) -> None:
        tags = self.bt.tags.list(args.job_id)
        if args.names:
            tags = [tag for tag in tags if tag.name in args.names]
        self.result(tags)
        if args.json:
            self.text(render.as_json({tag.name: tag.value for tag in tags}))
        elif not tags and args.names:
            self._cmd.warn(f"Job {args.job_id} has no tag named {', '.join(args.names)}.")
        elif not tags:
            self._cmd.warn(f"Job {args.job_id} has no tags.")
        else:
            self.show(render.tags_view(tags))


def _list_options(args: argparse.Namespace) -> list[str]:
    """The options of `job list` that its next page repeats."""
    options = ["-r"] if args.newest_first else []
    if args.sort:
        options += ["--sort", args.sort]
    if args.columns:
        options += ["--columns", ",".join(args.columns)]
    return options
