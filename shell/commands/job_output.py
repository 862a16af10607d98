"""`job log` (captured output, optionally followed live), `job output` (a job's result, for
scripts) and `job wait` (until jobs finish)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import cmd2

from bt import tagnames
from bt.status import Status
from bt.values import JobDetails
from shell import render
from shell.commands.args import add_job_id, add_job_ids, add_json, new_parser
from shell.commands.base import ShellCommands
from shell.complete import Completers
from shell.core import CommandError

if TYPE_CHECKING:
    from rich.console import Console

STREAMS = {"stdout": tagnames.STDOUT, "stderr": tagnames.STDERR, "log": tagnames.LOG}
OVERLAP = 200  #: characters of already-printed output searched for when a stream was truncated

log_parser = new_parser(
    "Show a job's captured standard output, standard error and log; --follow streams a "
    "running job's output until it ends (Ctrl-C to stop following)."
)
add_job_id(log_parser)
log_parser.add_argument("--follow", "-f", action="store_true", help="stream new output live")
log_parser.add_argument(
    "--stream", "-s", choices=tuple(STREAMS), action="append", help="only these streams"
)
log_parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")

output_parser = new_parser(
    "Print a job's output and nothing else: the YAML as stored, or with --json the value as "
    "JSON. Fails when the job has no output (yet)."
)
add_job_id(output_parser)
add_json(output_parser)

wait_parser = new_parser(
    "Wait until jobs (and their subjobs) finish, with a progress bar; fails unless every job "
    "ends in the expected status (DONE by default)."
)
add_job_ids(wait_parser, "jobs to wait for")
wait_parser.add_argument("--timeout", type=float, help="give up after this many seconds")
wait_parser.add_argument(
    "--expect",
    default=Status.DONE.value,
    type=lambda text: Status.parse(text).value,
    help="the status every job must end in (default DONE)",
    choices_provider=Completers.status_choices,
)
wait_parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")


def new_text(old: str, new: str) -> str:
    """What `new` adds to already-printed `old`, even when the stream was truncated meanwhile
    (the runner keeps the head and tail of long output): printing resumes after the last
    already-printed text found in `new`."""
    if new.startswith(old):
        return new[len(old) :]
    last_line = old.rstrip("\n").rsplit("\n", 1)[-1][-OVERLAP:]
    for seen in (old[-OVERLAP:], last_line + "\n" if old.endswith("\n") else last_line):
        where = new.rfind(seen) if seen.strip() else -1
        if where >= 0:
            return new[where + len(seen) :]
    return "\n[... output truncated ...]\n" + new


def without_end_marker(text: str) -> str:
    """YAML text without the `...` document end line that follows a dumped scalar."""
    lines = text.rstrip("\n").split("\n")
    return "\n".join(lines[:-1] if len(lines) > 1 and lines[-1] == "..." else lines)


def parsed(text: str) -> Any:
    """The value of YAML output (written by the core's safe dumper)."""
    from ruamel.yaml import YAML  # on first use: the shell starts without it

    return YAML(typ="safe", pure=True).load(text)


class JobOutputCommands(ShellCommands):
    """`job log`, `job output` and `job wait`."""

    @cmd2.as_subcommand_to("job", "output", output_parser, help="print a job's output only")
    def job_output(self, args: argparse.Namespace) -> None:
        job = self.bt.jobs.get(args.job_id)
        if job.output is None:
            raise CommandError(f"Job {job.id} has no output ({job.status.value}).")
        value = parsed(job.output)
        self.result(value)
        self.text(render.as_json(value) if args.json else without_end_marker(job.output))

    @cmd2.as_subcommand_to("job", "log", log_parser, help="show (or follow) a job's output")
    def job_log(self, args: argparse.Namespace) -> None:
        names = [STREAMS[s] for s in (args.stream or STREAMS)]
        if args.follow:
            self._follow(args.job_id, names, args.interval)
            return
        tags = {t.name: t.value for t in self.bt.tags.list(args.job_id) if t.name in names}
        self.result(tags)
        if not tags:
            self._cmd.warn(f"Job {args.job_id} has no captured output.")
        for name in names:
            if name in tags:
                self.show(render.title(f"### {name}:"))
                self.text(tags[name].rstrip("\n"))

    def _follow(self, job_id: int, names: list[str], interval: float) -> None:
        printed = dict.fromkeys(names, "")
        try:
            status = self._stream(job_id, printed, interval)
        except KeyboardInterrupt:  # Ctrl-C is how a user stops following: not a failure
            self._cmd.poutput("")
            status = self.bt.jobs.info(job_id).status
        self.result(printed)
        self._cmd.pfeedback(f"Job {job_id} is {status.value}.")

    def _stream(self, job_id: int, printed: dict[str, str], interval: float) -> Status:
        """Print new output until the job is no longer queued or running; its status."""
        names = list(printed)
        said_waiting = False
        while True:
            job = self.bt.jobs.info(job_id)
            if job.status is Status.QUEUED and not said_waiting:
                said_waiting = True
                self._cmd.pfeedback(
                    f"Job {job_id} is {job.shown_status}: waiting for it to start (Ctrl-C stops)."
                )
            tags = {t.name: t.value for t in self.bt.tags.list(job_id) if t.name in names}
            for name in names:
                chunk = new_text(printed[name], tags.get(name, ""))
                printed[name] = tags.get(name, printed[name])
                if chunk:
                    self._cmd.poutput(chunk, end="")
            if not job.active:
                return job.status
            time.sleep(interval)

    @cmd2.as_subcommand_to("job", "wait", wait_parser, help="wait until jobs finish")
    def job_wait(self, args: argparse.Namespace) -> None:
        pending = self.selected(args.ids)
        if not pending:
            return
        deadline = time.monotonic() + args.timeout if args.timeout else None
        ended = self._poll(pending, deadline, args.interval)
        for job_id, status in ended.items():
            if status.value == args.expect:
                self._cmd.ok(f"Job {job_id} is {status.value}.")
            else:
                self._cmd.fail(f"Job {job_id} is {status.value}, not {args.expect}.")
        self.result(ended)

    def _poll(
        self, pending: list[int], deadline: float | None, interval: float
    ) -> dict[int, Status]:
        ended: dict[int, Status] = {}
        with self._progress() as update:
            while True:
                jobs = [self.bt.jobs.get(job_id) for job_id in pending if job_id not in ended]
                for job in jobs:
                    if job.finished or job.status is Status.STASHED:
                        ended[job.id] = job.status
                update(jobs, len(ended), len(pending))
                if len(ended) == len(pending):
                    return {job_id: ended[job_id] for job_id in pending}
                if deadline is not None and time.monotonic() > deadline:
                    raise CommandError(timed_out([j for j in jobs if j.id not in ended]))
                time.sleep(interval)

    def _progress(self) -> _ProgressBar:
        console = self._cmd.console()
        return _ProgressBar(console if console.is_terminal else None)


def timed_out(active: Sequence[JobDetails]) -> str:
    """What `job wait` says when its timeout passes: which jobs are still active, and how."""
    shown = ", ".join(f"{job.id} ({job.shown_status})" for job in active[:10])
    more = f" and {len(active) - 10:,} more" if len(active) > 10 else ""
    if len(active) == 1:
        return f"Timed out: job {shown} has not finished."
    return f"Timed out: {len(active):,} jobs have not finished: {shown}{more}."


class _ProgressBar:
    """A transient rich progress bar on a terminal; nothing elsewhere."""

    def __init__(self, console: Console | None) -> None:
        # rich.progress on first use: the shell starts without it
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = (
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            if console is not None
            else None
        )
        self._task = self._progress.add_task("waiting", total=None) if self._progress else None

    def __enter__(self) -> Callable[[list[JobDetails], int, int], None]:
        if self._progress is not None:
            self._progress.start()
        return self._update

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def _update(self, jobs: list[JobDetails], ended: int, total: int) -> None:
        if self._progress is None or self._task is None:
            return
        subjobs = sum(job.subjobs for job in jobs)
        settled = sum(job.subjobs_done + job.subjobs_failed for job in jobs)
        text = "jobs" + (f" (subjobs {settled:,}/{subjobs:,})" if subjobs else "")
        self._progress.update(self._task, description=text, completed=ended, total=total)
