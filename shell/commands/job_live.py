"""`job top` and `job watch`: live views of the farm and of one job; `q` or Ctrl-C to leave.

Not on a terminal (scripts, pipes) they print one snapshot instead.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

import cmd2
from rich.columns import Columns
from rich.console import Group, RenderableType
from rich.text import Text

from bt import tagnames
from bt.values import JobInfo
from shell import live, render
from shell.commands.args import add_job_id, new_parser
from shell.commands.base import ShellCommands
from shell.render_graph import job_tree
from shell.render_values import multi_line

if TYPE_CHECKING:
    from bt import Brownthrower

top_parser = new_parser(
    "A live table of running and recently finished jobs (latest ended first, with their "
    "elapsed time) and counts per status (q to quit)."
)
top_parser.add_argument("--interval", type=float, default=2.0, help="seconds between refreshes")
top_parser.add_argument("--recent", type=float, default=10.0, help="minutes of finished jobs")
top_parser.add_argument("--rows", type=int, default=20, help="jobs shown per table")
top_parser.add_argument("--once", action="store_true", help="print one snapshot and return")

watch_parser = new_parser("A live view of one job: status, subjobs and output tail (q to quit).")
add_job_id(watch_parser)
watch_parser.add_argument("--interval", type=float, default=2.0, help="seconds between refreshes")
watch_parser.add_argument("--once", action="store_true", help="print one snapshot and return")
TAIL_LINES = 10
RECENT_WINDOW = 500  #: finished jobs fetched (highest ids first) to find the latest ended
RUNNING_COLUMNS = ("id", "super_id", "name", "status", "started", "elapsed")
FINISHED_COLUMNS = ("id", "super_id", "name", "status", "started", "ended", "elapsed")


def counts_line(counts: Mapping[str, int]) -> Columns:
    """`DONE 13,135   FAILED 2,327   ...` with statuses coloured; a narrow terminal wraps it
    between pairs, never inside one."""
    pairs = [render.status_text(status).append(f" {counts[status]:,}") for status in sorted(counts)]
    return Columns(pairs, padding=(0, 3))


def top_view(
    counts: Mapping[str, int], running: list[JobInfo], recent: list[JobInfo], now: dt.datetime
) -> RenderableType:
    """The `job top` screen: running jobs, then finished ones, the latest ended first."""
    recent = sorted(recent, key=_ended, reverse=True)
    return Group(
        Text(f"brownthrower top — {now:%Y-%m-%d %H:%M:%S}   (q to quit)", style="bold"),
        counts_line(counts),
        Text(""),
        render.title(f"RUNNING ({counts.get('RUNNING', len(running)):,}):"),
        render.job_table(running, RUNNING_COLUMNS, now=now),
        Text(""),
        render.title("RECENTLY FINISHED:"),
        render.job_table(recent, FINISHED_COLUMNS, now=now),
    )


def top_snapshot(bt: Brownthrower, minutes: float, rows: int) -> RenderableType:
    now = dt.datetime.now(dt.UTC)
    since = (now - dt.timedelta(minutes=minutes)).isoformat(timespec="seconds")
    running = bt.jobs.list(["status=RUNNING"], limit=rows).jobs
    # the latest ended are not always the highest ids: sort a wider window by end time
    recent = bt.jobs.list([f"ended>={since}"], limit=max(rows, RECENT_WINDOW), newest_first=True)
    latest = sorted(recent.jobs, key=_ended, reverse=True)[:rows]
    return top_view(bt.jobs.counts(), running, latest, now.astimezone())


def _ended(job: JobInfo) -> tuple[dt.datetime, int]:
    return (render.aware(job.ended or dt.datetime.min.replace(tzinfo=dt.UTC)), job.id)


def tail(text: str, lines: int = TAIL_LINES) -> str:
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])


def watch_snapshot(bt: Brownthrower, job_id: int) -> RenderableType:
    """The `job watch` screen: the job, its subjob tree, the tail of its output."""
    tree = bt.jobs.subtree(job_id, max_children=10)
    tags = {tag.name: tag.value for tag in bt.tags.list(job_id)}
    now = dt.datetime.now().astimezone()
    title = Text(
        f"brownthrower watch {job_id} — {now:%Y-%m-%d %H:%M:%S}   (q to quit)", style="bold"
    )
    parts: list[RenderableType] = [title, render.job_table([tree.job]), Text(""), job_tree(tree)]
    for name in (tagnames.STDOUT, tagnames.STDERR, tagnames.REASON):
        if tags.get(name):
            body = multi_line(tail(tags[name]))
            parts += [Text(""), render.title(f"### {name}:"), Text(body)]
    return Group(*parts)


class JobLiveCommands(ShellCommands):
    """`job top` and `job watch`."""

    @cmd2.as_subcommand_to("job", "top", top_parser, help="live view of running jobs")
    def job_top(self, args: argparse.Namespace) -> None:
        self._run(lambda: top_snapshot(self.bt, args.recent, args.rows), args)

    @cmd2.as_subcommand_to("job", "watch", watch_parser, help="live view of one job")
    def job_watch(self, args: argparse.Namespace) -> None:
        self.bt.jobs.info(args.job_id)
        self._run(lambda: watch_snapshot(self.bt, args.job_id), args)

    def _run(self, view: live.ViewFunction, args: argparse.Namespace) -> None:
        console = self._cmd.console()
        if args.once or not (console.is_terminal and self._cmd.stdin.isatty()):
            self.show(view())
            self.result(1)
            return
        url = self.bt.url if self.bt.has_notifications else None
        with live.wakeups(url) as wake_fd:
            redraws = live.run_live(
                console, self._cmd.stdin, view, interval=max(args.interval, 0.2), wake_fd=wake_fd
            )
        self.result(redraws + 1)
