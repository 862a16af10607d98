"""What every command set shares: typed access to the shell and per-job outcome reporting.

Bulk commands (`job submit|reset|abort|remove|clone|priority|wait`) take ids, ranges and `job
list` filter terms (`selected`), and report through `for_each`: a line per outcome for up to
`BULK` jobs (above that only the refusals, and a progress bar on a terminal), and a one-line
summary on standard error when there were refusals or more than `BULK` jobs (`submitted 1,498,
refused 2 (see above)`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import cmd2
from cmd2.rich_utils import Cmd2BaseConsole

from bt import errors
from shell import ids
from shell.core import CommandError, Shell

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from bt import Brownthrower

BULK = 100  #: above this many jobs, success lines give way to a progress bar and the summary
CONFIRM_ABOVE = 10  #: removing or aborting more jobs than this asks first, at a terminal
PAGE = 1000  #: jobs read per page when resolving filter terms
MAX_SELECTED = ids.MAX_RANGE  #: the most jobs one filter may select


@dataclass(frozen=True)
class Bar:
    """A bulk command's progress bar (on standard error, at a terminal): `advance` after each
    job; `console` prints a line above it (None when there is no bar)."""

    advance: Callable[[], None] = lambda: None
    console: Console | None = None


class ShellCommands(cmd2.CommandSet[Shell]):
    """Base of brownthrower's command sets."""

    @property
    def bt(self) -> Brownthrower:
        """The core library (opened on first use)."""
        return self._cmd.client

    def show(self, renderable: RenderableType) -> None:
        self._cmd.show(renderable)

    def text(self, value: str) -> None:
        """Raw text (JSON, YAML, captured output) exactly as it is."""
        self._cmd.poutput(value, soft_wrap=True)

    def result(self, value: Any) -> None:
        """What the command returns to scripts and tests (`last_result`)."""
        self._cmd.last_result = value

    def selected(self, arguments: Iterable[list[int] | str]) -> list[int]:
        """The ids that id, range and filter arguments name: the ids given, or with filter
        terms the matching jobs (among the ids given, if any), by id."""
        selection = ids.Selection.of(arguments)
        if not selection.terms:
            return selection.ids
        terms = list(selection.terms)
        if selection.ids:
            terms += [f"id>={min(selection.ids)}", f"id<={max(selection.ids)}"]
        wanted = set(selection.ids)
        matched = [i for i in self._matching(terms) if not wanted or i in wanted]
        if not matched:
            self._cmd.warn(f"No jobs match {' '.join(selection.terms)}.")
        return matched

    def _matching(self, terms: Sequence[str]) -> list[int]:
        found: list[int] = []
        after: int | None = None
        while True:
            page = self.bt.jobs.list(terms, limit=PAGE, after=after)
            found += [job.id for job in page.jobs]
            if len(found) > MAX_SELECTED:
                raise CommandError(
                    f"{' '.join(terms)} selects more than {MAX_SELECTED:,} jobs; narrow it down."
                )
            after = page.next_after
            if after is None:
                return found

    def confirmed(self, verb: str, done: str, count: int, *, yes: bool) -> bool:
        """Whether to go on removing or aborting (`verb`, `done`) `count` jobs: above
        `CONFIRM_ABOVE`, a user at a terminal is asked first, unless `--yes`; a script never
        is."""
        if yes or count <= CONFIRM_ABOVE or not self._cmd.can_prompt:
            return True
        try:
            answer = self._cmd.read_input(f"{verb.capitalize()} {count:,} jobs? [y/N]: ")
        except EOFError:
            answer = ""
        if answer.strip().lower() in ("y", "yes"):
            return True
        self._cmd.warn(f"Nothing was {done}.")
        self.result([])
        return False

    def for_each(
        self, ids: Sequence[int], action: Callable[[int], str], done: str = "done"
    ) -> list[int]:
        """Run `action` on every id: a line per outcome (only refusals above `BULK` jobs),
        then the summary `{done} N, refused M` when some were refused or the lines were left out;
        the ids that succeeded.

        A lost database stops the batch at once rather than printing one error per id.
        """
        succeeded: list[int] = []
        quiet = len(ids) > BULK
        with self._bulk_progress(len(ids) if quiet else 0) as bar:
            for job_id in ids:
                try:
                    message = action(job_id)
                except errors.DatabaseUnavailable:
                    raise
                except errors.BrownthrowerError as exc:
                    self._cmd.fail(str(exc), above=bar.console)
                    continue
                finally:
                    bar.advance()
                if not quiet:
                    self._cmd.ok(message)
                succeeded.append(job_id)
        self.result(succeeded)
        if quiet or (len(succeeded) < len(ids) and len(ids) > 1):
            self._summary(done, len(succeeded), len(ids) - len(succeeded))
        return succeeded

    def _summary(self, done: str, succeeded: int, refused: int) -> None:
        line = f"{done} {succeeded:,}" + (f", refused {refused:,} (see above)" if refused else "")
        self._cmd.print_to(sys.stderr, line)  # beside the refusals; stdout keeps one line a job

    @contextmanager
    def _bulk_progress(self, total: int) -> Iterator[Bar]:
        """A transient progress bar for `total` jobs on standard error, if it is a terminal
        (none for 0). Refusals are printed through it, so they stay above the bar."""
        console = Cmd2BaseConsole(file=sys.stderr, emoji=False, markup=False, highlight=False)
        if not total or not console.is_terminal:
            yield Bar()
            return
        # rich.progress on first use: the shell starts without it
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        columns = (TextColumn("jobs"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("jobs", total=total)
            yield Bar(lambda: progress.advance(task), console)
