"""Tables that fit the width they are given: from 80 columns up, nothing that matters is cut.

A `FitTable` is the original's plain table until it is too wide for the terminal. Then, in
order: timestamps shorten to `MM-DD HH:MM`, low-priority columns go (`DROP`, first listed first
gone), and free text wraps. The columns in `KEEP` (id, name, status...) are never dropped and
never truncated: status is always whole, `QUEUED (blocked)` included, and a long name wraps.
In a file or pipe the shell renders at the table's natural width, so nothing changes there.
Every cell is escaped (`shell.render_values.one_line`) as it is added.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.table import Column, Table
from rich.text import Text

from shell.render_values import one_line

#: never dropped; all but `WRAPS` are never wrapped either
KEEP = ("id", "name", "status", "kind", "attempt", "outcome", "at", "to", "state")
#: dropped when the table is too wide, first listed first
DROP = (
    "written", "read", "peak_rss", "cpu", "created", "queued", "super_id", "priority",
    "attempts", "distribution", "pid", "slots", "runner", "exit_code", "from", "started",
    "jobs", "heartbeat", "host", "duration", "elapsed", "ended",
)  # fmt: skip
#: free text: wraps rather than pushing other columns out; the width it counts for when fitting
WRAPS = {"name": 40, "host": 30, "summary": 24, "reason": 24, "tasks": 16}
FULL_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
BIG = 100_000  #: a width no table reaches, to measure natural widths


class FitTable(Table):
    """A borderless table with bold headers, two spaces between columns, that fits its width."""

    def __init__(self, *headers: str, keep: Sequence[str] = KEEP, drop: Sequence[str] = DROP):
        super().__init__(
            box=None, pad_edge=False, show_edge=False, header_style="bold", padding=(0, 1)
        )
        self.keep, self.drop = tuple(keep), tuple(drop)
        for header in headers:
            wraps = header in WRAPS or header not in self.keep
            self.add_column(header, no_wrap=not wraps, overflow="fold")

    def add_row(self, *renderables: RenderableType | None, **kwargs: Any) -> None:
        """A row, its text escaped."""
        super().add_row(*(_safe(cell) for cell in renderables), **kwargs)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = self.fitted(console, options)
        yield from Table.__rich_console__(table, console, options)

    def fitted(self, console: Console, options: ConsoleOptions) -> Table:
        """This table, or a narrower copy that fits `options.max_width`."""
        width = options.max_width
        if self._fit_width(console, options, self.columns) <= width:
            return self
        columns = [_short_times(column) for column in self.columns]
        for name in self.drop:
            if self._fit_width(console, options, columns) <= width:
                break
            if name not in self.keep:
                columns = [column for column in columns if column.header != name]
        return self._with(columns)

    def _fit_width(self, console: Console, options: ConsoleOptions, columns: list[Column]) -> int:
        """The width `columns` need: their natural widths, free text counted at its cap."""
        table = self._with(columns)
        wide = options.update_width(BIG)
        total = 0
        for column in table.columns:
            natural = table._measure_column(console, wide, column).maximum
            cap = WRAPS.get(str(column.header))
            total += natural if cap is None else min(natural, cap + 2)
        return total

    def _with(self, columns: Iterable[Column]) -> Table:
        table = copy.copy(self)
        table.columns = []
        for index, original in enumerate(columns):
            column = copy.copy(original)
            column._index = index
            table.columns.append(column)
        return table


def _short_times(column: Column) -> Column:
    """The column with `YYYY-MM-DD HH:MM:SS` cells as `MM-DD HH:MM`, if they all are."""
    cells = list(column._cells)
    if not cells or not all(isinstance(c, str) and (not c or FULL_TIME.match(c)) for c in cells):
        return column
    short = copy.copy(column)
    short._cells = [str(cell)[5:16] for cell in cells]
    return short


def _safe(cell: RenderableType | None) -> RenderableType | None:
    if isinstance(cell, str):
        return one_line(cell)
    if isinstance(cell, Text) and one_line(cell.plain) != cell.plain:
        return Text(one_line(cell.plain), style=cell.style)
    return cell
