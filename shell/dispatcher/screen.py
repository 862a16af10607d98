"""The dispatcher's screen: settings over two boxes side by side, BT status and batch status.

Pure functions from a `bt.dispatch.Snapshot` to rich renderables, shared by the live screen of
`bt-dispatcher`, its `--once` output and the shell's `dispatcher status`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TextIO

from rich.console import Console, Group, RenderableType
from rich.measure import Measurement
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bt.dispatch import BT_STATUSES, Snapshot
from bt.dispatch.backoff import Backoff, clock
from bt.dispatch.journal import Entry, Journal
from bt.dispatch.sizing import describe
from bt.status import QUEUED_PARTS

LABEL_STYLE = "bold red"
MAX_WARNINGS = 5
MAX_PLAIN_WIDTH = 1000  #: widest line written to a file or pipe


def settings_grid(settings: Sequence[tuple[str, str]]) -> Table:
    """Label/value rows: runner command, database, batch system, eligible tasks."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style=LABEL_STYLE, no_wrap=True, min_width=16)
    grid.add_column(overflow="fold")
    for label, value in settings:
        grid.add_row(f"{label}:", value)
    return grid


def counts_box(
    title: str, counts: Mapping[str, int] | None, width: int, parts: Collection[str] = ()
) -> Panel:
    """A boxed two-column table of `STATE  count` rows (`unavailable` when None); the states in
    `parts` are parts of the row above, indented."""
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    if counts is None:
        table.add_row(Text("unavailable", style="yellow"), "")
    elif not counts:
        table.add_row(Text("none", style="dim"), "")
    for state, count in (counts or {}).items():
        table.add_row(f"  {state}" if state in parts else state, str(count))
    return Panel(table, title=title, width=width, title_align="left")


def bt_counts(counts: Mapping[str, int] | None) -> dict[str, int] | None:
    """The statuses the BT status box shows, in its order."""
    return None if counts is None else {s: counts.get(s, 0) for s in BT_STATUSES}


def boxes(snapshot: Snapshot) -> Table:
    """**BT status** and **batch status**, side by side."""
    batch = None if snapshot.report.pilots is None else snapshot.batch_counts
    row = Table.grid(padding=(0, 2))
    row.add_row(
        counts_box("BT status", bt_counts(snapshot.bt_counts), 24, QUEUED_PARTS),
        counts_box("batch status", batch, 26),
    )
    return row


def footer(snapshot: Snapshot, warnings: Sequence[str] = ()) -> Group:
    """When the pass ran, what it did, and the latest warnings."""
    desired = "?" if snapshot.report.desired is None else str(snapshot.report.desired)
    pilots = "pilot" if desired == "1" else "pilots"
    line = f"last pass {snapshot.at.astimezone():%H:%M:%S}: desired {desired} {pilots}"
    if snapshot.report.submitted:
        line += f", submitted {len(snapshot.report.submitted)}"
    if snapshot.report.cancelled:
        line += f", cancelled {len(snapshot.report.cancelled)}"
    if snapshot.report.held:
        line += f", held back {snapshot.report.held} (failures)"
    shown = list(warnings or snapshot.warnings)[-MAX_WARNINGS:]
    return Group(Text(line, style="dim"), *(Text(f"warning: {w}", style="yellow") for w in shown))


def health(snapshot: Snapshot) -> Table:
    """Under the boxes: the demand (on-demand), the crash-loop state, the last submission error
    or quota refusal, and the last failed pilot with the end of its output."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style=LABEL_STYLE, no_wrap=True, min_width=16)
    grid.add_column(overflow="fold")
    journal = snapshot.journal
    if journal is None:
        return grid
    if journal.demand is not None and journal.sizing is not None:
        line = describe(journal.demand, journal.sizing, lookahead=journal.lookahead)
        grid.add_row("Demand:", line)
    grid.add_row("Failures:", _state(journal, snapshot.at.timestamp()))
    if journal.capacity is not None:
        grid.add_row("At capacity:", _entry(journal.capacity))
    if journal.submit_error is not None:
        grid.add_row("Submit error:", Text(_entry(journal.submit_error), style="yellow"))
    failed = journal.failed_pilot
    if failed is not None:
        grid.add_row("Failed pilot:", f"{clock(failed.at)} {failed.text}")
        for line in failed.tail:
            grid.add_row("", Text(f"│ {line}", style="dim"))
    return grid


def history(journal: Journal | None) -> Table:
    """What `dispatcher status` adds: the pilots the dispatcher owns, its recent submissions
    and its recent failures with their reasons."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style=LABEL_STYLE, no_wrap=True, min_width=16)
    grid.add_column(overflow="fold")
    if journal is None:
        grid.add_row("Last pass:", Text("none recorded (no bt-dispatcher ran here)", style="dim"))
        return grid
    if journal.updated is not None:
        grid.add_row("Last pass:", clock(journal.updated))
    grid.add_row("Pilots owned:", " ".join(journal.pilots) or "none")
    submitted = [f"{clock(e.at)} {e.text}" for e in journal.submissions]
    grid.add_row("Submitted:", ", ".join(submitted) or "none recently")
    for index, entry in enumerate(journal.failures):
        grid.add_row("Recent failures:" if index == 0 else "", _entry(entry))
    return grid


def _state(journal: Journal, now: float) -> Text:
    backoff = Backoff()
    backoff.restore(journal.backoff)
    state = backoff.state(now)
    return Text("none" if state == "ok" else state, style="yellow" if backoff.streak else "")


def _entry(entry: Entry) -> str:
    return f"{clock(entry.at)} {entry.text}"


def screen(snapshot: Snapshot, title: str, warnings: Sequence[str] = ()) -> Group:
    """The whole screen: header, settings, the two boxes, the demand and failures, footer."""
    header = Text(f" {title} ", style="black on dark_cyan")
    return Group(
        header,
        settings_grid(snapshot.settings),
        boxes(snapshot),
        health(snapshot),
        footer(snapshot, warnings),
    )


def print_screen(renderable: RenderableType, file: TextIO | None = None) -> None:
    """Print `renderable`: on a terminal at its width; to a file or pipe at the renderable's
    natural width and without colours, so no line (a URL, a command) is wrapped or split."""
    console = Console(file=file)
    if not console.is_terminal:
        options = console.options.update_width(MAX_PLAIN_WIDTH)
        width = Measurement.get(console, options, renderable).maximum
        console = Console(file=file, width=max(width, 1), color_system=None, soft_wrap=False)
    console.print(renderable)
