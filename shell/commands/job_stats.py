"""`job stats`, `job trace` and `job report`: what the selected jobs' runs cost.

All three read the attempts of the jobs a filter selects (`app.jobs.attempt_records`, or
`app.jobs.stats`), the same records `bt.report` renders, so the shell, a report file and a
later web page show the same figures.
"""

from __future__ import annotations

import argparse
import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cmd2
from rich.console import Group
from rich.text import Text

from bt.report import AttemptRecord, GroupStats, report_html, timeline_svg
from bt.report import text as report_text
from shell import ids, render
from shell.commands.args import add_json, new_parser
from shell.commands.base import ShellCommands
from shell.complete import Completers
from shell.core import CommandError
from shell.render_values import one_line as escaped


def _add_terms(parser: cmd2.Cmd2ArgumentParser) -> None:
    parser.add_argument(
        "terms",
        nargs="*",
        metavar="FILTER",
        help="job list filter terms (all jobs without)",
        completer=Completers.filter_completer,
    )


stats_parser = new_parser(
    "Sum up the attempts of the jobs matching the filter, per task (or status, or host): jobs "
    "by status, wait (queued to started) and run time p50/p90/max, CPU efficiency ((user + "
    "sys) / wall), peak RSS (of the largest process) p50/max, bytes read and written "
    "(rchar/wchar), retries, the top failure reasons, the slowest and largest jobs."
)
_add_terms(stats_parser)
stats_parser.add_argument("--by", choices=("task", "status", "host"), default="task")
add_json(stats_parser)

trace_parser = new_parser(
    "One row per attempt of the jobs matching the filter, with Nextflow's trace column names "
    "where the meaning is the same (seconds and bytes, raw): task_id (the job id), name, "
    "status, exit, submit, start, complete, duration (complete - submit), realtime, %cpu, "
    "peak_rss (largest process), rchar, wchar, read_bytes, write_bytes, vol_ctxt, inv_ctxt; "
    "then attempt, host, runner, batch_id, reason. Tab-separated, or --csv."
)
_add_terms(trace_parser)
trace_format = trace_parser.add_mutually_exclusive_group()
trace_format.add_argument("--tsv", action="store_true", help="tab-separated values (default)")
trace_format.add_argument("--csv", action="store_true", help="comma-separated values")

report_parser = new_parser(
    "Write one self-contained HTML report (no network needed to open it) of the jobs matching "
    "the filter: summary, statistics per task, box plots, a timeline and the failures; or just "
    "the timeline as SVG. Above 10,000 attempts the timeline samples, and the report says so."
)
_add_terms(report_parser)
report_out = report_parser.add_mutually_exclusive_group(required=True)
report_out.add_argument("--html", metavar="FILE", help="the HTML report")
report_out.add_argument("--svg", metavar="FILE", help="just the timeline, as SVG")

TRACE_COLUMNS = (
    "task_id", "name", "status", "exit", "submit", "start", "complete", "duration", "realtime",
    "%cpu", "peak_rss", "rchar", "wchar", "read_bytes", "write_bytes", "vol_ctxt", "inv_ctxt",
    "attempt", "host", "runner", "batch_id", "reason",
)  # fmt: skip


class JobStatsCommands(ShellCommands):
    """`job stats`, `job trace`, `job report`."""

    @cmd2.as_subcommand_to("job", "stats", stats_parser, help="what the jobs' runs cost, summed")
    def job_stats(self, args: argparse.Namespace) -> None:
        ids.check_terms(args.terms)
        groups = self.bt.jobs.stats(args.terms, args.by)
        self.result(groups)
        if args.json:
            self.text(render.as_json([group.as_dict() for group in groups]))
        elif not groups:
            self._cmd.warn("No attempts of the selected jobs.")
        else:
            self.show(stats_view(groups, args.by))

    @cmd2.as_subcommand_to("job", "trace", trace_parser, help="one row per attempt, as TSV/CSV")
    def job_trace(self, args: argparse.Namespace) -> None:
        ids.check_terms(args.terms)
        records = self.bt.jobs.attempt_records(args.terms)
        self.result(records)
        self._cmd.stdout.write(trace_text(records, "," if args.csv else "\t"))  # cells exact

    @cmd2.as_subcommand_to("job", "report", report_parser, help="an HTML report of the runs")
    def job_report(self, args: argparse.Namespace) -> None:
        ids.check_terms(args.terms)
        records = self.bt.jobs.attempt_records(args.terms)
        self.result(records)
        selection = " ".join(args.terms) or "(all jobs)"
        if args.html:
            _write(Path(args.html), report_html(records, selection=selection))
            self._cmd.ok(f"Wrote the report of {len(records):,} attempts to {args.html}.")
        else:
            _write(Path(args.svg), timeline_svg(records))
            self._cmd.ok(f"Drew the timeline of {len(records):,} attempts in {args.svg}.")


def trace_text(records: Sequence[AttemptRecord], separator: str) -> str:
    """`job trace`: a header, then a row per attempt (a CSV quotes what needs it; a TSV
    turns tabs and line breaks in free text into spaces)."""
    out = io.StringIO()
    rows = [TRACE_COLUMNS, *(trace_row(r) for r in records)]
    if separator == ",":
        csv.writer(out, lineterminator="\n").writerows(rows)
    else:
        for row in rows:
            out.write("\t".join(" ".join(str(cell).split()) for cell in row) + "\n")
    return out.getvalue()


def trace_row(r: AttemptRecord) -> tuple[Any, ...]:
    """One attempt's `TRACE_COLUMNS` (empty for unknown)."""
    u = r.usage
    realtime = u.realtime if u else r.run
    cpu = "" if u is None or u.cpu_efficiency is None else f"{u.cpu_efficiency * 100:.1f}"
    duration = _seconds(r.queued_at, r.ended_at)
    figures = ("peak_rss", "rchar", "wchar", "read_bytes", "write_bytes", "vol_ctxt", "inv_ctxt")
    return (
        r.job_id, escaped(r.name), r.outcome or "RUNNING", _opt(r.exit_code), _iso(r.queued_at),
        _iso(r.started_at), _iso(r.ended_at), _opt(duration), _opt(realtime), cpu,
        *(_opt(getattr(u, name)) if u else "" for name in figures),
        r.attempt, escaped(_opt(r.host)), _opt(r.runner_id),
        escaped(_opt(u.batch_id if u else None)), escaped(render.one_line(r.reason)),
    )  # fmt: skip


def stats_view(groups: Sequence[GroupStats], by: str) -> Any:
    """`job stats`: a block of `name : value` lines per group."""
    blocks: list[Any] = []
    for g in groups:
        s, b = report_text.seconds, report_text.size
        statuses = ", ".join(f"{status} {n:,}" for status, n in g.by_status.items())
        failures = "; ".join(f"{reason} ({n:,})" for reason, n in g.failures)
        fields = [
            ("jobs", f"{g.jobs:,} ({statuses}); {g.attempts:,} attempts, {g.retries:,} retried"),
            ("wait", _spread(g.wait.p50, g.wait.p90, g.wait.max, s)),
            ("run", _spread(g.run.p50, g.run.p90, g.run.max, s)),
            ("cpu", f"{s(g.cpu_seconds)} user + sys ({g.measured:,} attempts measured)"),
            ("cpu efficiency", _spread(g.cpu_efficiency.p50, g.cpu_efficiency.p90,
                                       g.cpu_efficiency.max, report_text.ratio)),
            ("peak rss", f"p50 {b(g.peak_rss.p50)}  max {b(g.peak_rss.max)} (largest process)"),
            ("i/o", f"{b(g.rchar)} read, {b(g.wchar)} written"),
            ("disk", f"{b(g.read_bytes)} read, {b(g.write_bytes)} written"),
            ("failures", failures or "none"),
            ("slowest", " ".join(map(str, g.slowest))),
            ("largest", " ".join(map(str, g.largest))),
        ]  # fmt: skip
        blocks += [render.title(f"### {by.upper()} {g.key}:"), *render.field_lines(fields)]
        blocks.append(Text(""))
    return Group(*blocks[:-1])


def _spread(p50: float | None, p90: float | None, high: float | None, write: Any) -> str:
    return f"p50 {write(p50)}  p90 {write(p90)}  max {write(high)}"


def _seconds(start: Any, end: Any) -> float | None:
    return None if start is None or end is None else max(0.0, (end - start).total_seconds())


def _opt(value: object) -> str:
    if value is None:
        return ""
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _iso(moment: Any) -> str:
    return "" if moment is None else moment.isoformat(sep=" ", timespec="milliseconds")


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"Cannot write {path}: {exc.strerror}.") from exc
