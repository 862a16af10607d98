"""The report: one self-contained HTML page (inline CSS and SVG, no script, nothing fetched).

Summary (jobs by final status, CPU-hours, wall span, failures by reason), statistics per task,
box plots per task, the timeline and the failed attempts. Every stored text is escaped. Above
`MAX_ATTEMPTS` attempts the per-attempt parts are cut down (the timeline samples, the failures
table lists the latest) and the page says so; the summary, statistics and boxes count everything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence

from bt.report import boxplot, timeline
from bt.report.records import AttemptRecord, utc
from bt.report.stats import METRICS, GroupStats, Spread, group_stats, summarize
from bt.report.text import count, esc, figure, ratio, seconds, short_seconds, size

MAX_ATTEMPTS = 10_000  #: above this, the per-attempt parts are sampled or cut
MAX_FAILURE_ROWS = 1_000  #: failed attempts listed (the latest)
MAX_REASONS = 20  #: failure reasons listed in the summary
STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1040px;color:#222;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em}
h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px;margin:.5em 0}
th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}td.n{white-space:nowrap}
.wide{overflow-x:auto}
.meta{color:#666;font-size:13px}
.note{background:#fff4e5;border-left:4px solid #f0a030;padding:.4em .8em}
.failed{color:#b01010}.reason{white-space:pre-wrap;word-break:break-word;max-width:520px}
svg{display:block;margin:.6em 0;max-width:100%;height:auto}
""".strip()


def report_html(
    records: Sequence[AttemptRecord],
    *,
    title: str = "brownthrower report",
    selection: str | None = None,
    generated: dt.datetime | None = None,
    lanes: timeline.LanesBy = "slot",
) -> str:
    """The report of `records` (attempts), as one HTML document. `selection` says which jobs
    (the filter used), `generated` when (default: now)."""
    generated = utc(generated) or dt.datetime.now(dt.UTC)
    drawn = timeline.plan(records, lanes=lanes, max_bars=MAX_ATTEMPTS)
    failures = sorted((r for r in records if r.failed), key=_latest_first)
    notes = list(drawn.notes)
    if len(failures) > MAX_FAILURE_ROWS:
        notes.append(f"The latest {count(MAX_FAILURE_ROWS)} of {count(len(failures))} failed "
                     "attempts are listed; the summary counts them all by reason.")  # fmt: skip
    meta = f"Generated {generated:%Y-%m-%d %H:%M:%S} UTC from {count(len(records))} attempts"
    meta += f" of the jobs selected by {selection}." if selection else "."
    parts = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="meta">{esc(meta)}</p>',
        *(f'<p class="note">{esc(note)}</p>' for note in notes),
        _summary(records),
        _statistics(group_stats(records)),
        _box_plots(records),
        '<h2 id="timeline-title">Timeline</h2>',
        timeline.render(drawn, id="timeline"),
        _failures(failures[:MAX_FAILURE_ROWS], len(failures)),
        _about(),
    ]
    return _document(title, parts)


def _document(title: str, parts: list[str]) -> str:
    head = (
        '<meta charset="utf-8"/>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>'
        f"<title>{esc(title)}</title><style>{STYLE}</style>"
    )
    body = "\n".join(parts)
    return f'<!DOCTYPE html>\n<html lang="en"><head>{head}</head>\n<body>\n{body}\n</body></html>\n'


def _latest_first(record: AttemptRecord) -> tuple[float, int, int]:
    ended = utc(record.ended_at or record.started_at)
    return (-(ended.timestamp() if ended else 0.0), -record.job_id, -record.attempt)


def _table(head: list[str], rows: list[list[str]], numeric: Collection[int] = ()) -> str:
    """A table of already escaped cells; columns in `numeric` right-aligned."""

    def cells(tag: str, row: list[str]) -> str:
        return "".join(
            f'<{tag} class="n">{c}</{tag}>' if i in numeric else f"<{tag}>{c}</{tag}>"
            for i, c in enumerate(row)
        )

    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return f"<table><thead><tr>{cells('th', head)}</tr></thead><tbody>{body}</tbody></table>"


def _summary(records: Sequence[AttemptRecord]) -> str:
    summary = summarize(records)
    span = "-"
    if summary.first is not None and summary.last is not None:
        span = (f"{seconds(summary.span)} ({summary.first:%Y-%m-%d %H:%M:%S} to "
                f"{summary.last:%Y-%m-%d %H:%M:%S} UTC)")  # fmt: skip
    facts = [
        ["jobs", count(summary.jobs)],
        ["attempts", count(summary.attempts)],
        ["attempts with resource figures", count(summary.measured)],
        ["CPU-hours (user + system)", f"{summary.cpu_hours:,.2f}"],
        ["wall span", esc(span)],
        ["failed attempts", count(summary.failed_attempts)],
    ]
    by_status = [[_status(s), count(n)] for s, n in summary.by_status.items()]
    reasons = [[count(n), f'<span class="reason">{esc(r)}</span>']
               for r, n in summary.failures[:MAX_REASONS]]  # fmt: skip
    more = len(summary.failures) - MAX_REASONS
    extra = f'<p class="meta">and {count(more)} more reasons</p>' if more > 0 else ""
    return (
        '<h2 id="summary">Summary</h2>'
        + _table(["", ""], facts, {1})
        + "<h3>Jobs by final status</h3>"
        + _table(["status", "jobs"], by_status, {1})
        + "<h3>Failures by reason</h3>"
        + (_table(["attempts", "reason"], reasons, {0}) + extra if reasons else "<p>none</p>")
    )


def _status(name: str) -> str:
    shown = esc(name or "RUNNING")
    return f'<span class="failed">{shown}</span>' if name == "FAILED" else shown


def _statistics(groups: list[GroupStats]) -> str:
    head = ["task", "jobs", "by final status", "retries", "wait p50 / p90 / max",
            "run p50 / p90 / max", "CPU eff. p50", "peak RSS p50 / max",
            "read / written"]  # fmt: skip
    rows = [
        [
            esc(g.key), count(g.jobs),
            "<br/>".join(f"{esc(s or 'RUNNING')}&#160;{n:,}" for s, n in g.by_status.items()),
            count(g.retries), _spread(g.wait, short_seconds), _spread(g.run, short_seconds),
            ratio(g.cpu_efficiency.p50),
            f"{size(g.peak_rss.p50)} / {size(g.peak_rss.max)}",
            f"{size(g.rchar)} / {size(g.wchar)}",
        ]
        for g in groups
    ]  # fmt: skip
    jobs = [[esc(g.key), _ids(g.slowest), _ids(g.largest)] for g in groups]
    return (
        '<h2 id="statistics">Statistics per task</h2><div class="wide">'
        + _table(head, rows, {1, 3, 4, 5, 6, 7, 8})
        + "</div><h3>Jobs to look at first</h3>"
        + _table(["task", "longest runs", "largest peak RSS"], jobs)
    )


def _ids(job_ids: list[int]) -> str:
    return " ".join(f"#{job_id}" for job_id in job_ids) or "-"


def _spread(spread: Spread, write: Callable[[float | None], str]) -> str:
    return " / ".join(write(v) for v in (spread.p50, spread.p90, spread.max))


def _box_plots(records: Sequence[AttemptRecord]) -> str:
    groups: dict[str, list[AttemptRecord]] = {}
    for record in records:
        groups.setdefault(record.name, []).append(record)
    plots = [boxplot.box_plot(m, groups, id=f"box-{m.name}") for m in METRICS]
    intro = ('<p class="meta">Boxes: quartiles and median over every attempt; whiskers: the '
             "furthest values within 1.5 times the box; circles: outliers (their job id as a "
             "tooltip, the farthest few written beside them).</p>")  # fmt: skip
    return '<h2 id="resources">Resources per task</h2>' + intro + "\n".join(plots)


def _failures(failures: list[AttemptRecord], total: int) -> str:
    head = ["job", "attempt", "task", "host", "ended (UTC)", "exit code", "reason"]
    rows = [
        [
            str(r.job_id), str(r.attempt), esc(r.name), esc(r.host or "-"),
            f"{utc(r.ended_at):%Y-%m-%d %H:%M:%S}" if r.ended_at else "-",
            "-" if r.exit_code is None else str(r.exit_code),
            f'<span class="reason">{esc((r.reason or "")[:2000])}</span>',
        ]
        for r in failures
    ]  # fmt: skip
    title = f'<h2 id="failures">Failed attempts ({count(total)})</h2>'
    return title + (_table(head, rows, {0, 1, 5}) if rows else "<p>none</p>")


def _about() -> str:
    return (
        '<h2 id="about">About these figures</h2><p class="meta">'
        "Measured exactly by the runner's fork server from each job's own process when it "
        "ended. CPU, page faults, context switches, block and byte I/O include the descendants "
        "the job waited for; processes it did not wait for escape them. Peak RSS is that of the "
        "largest single process (getrusage's ru_maxrss), not the sum of processes that ran at "
        "once. Wait is from queued to started, run from started to ended; CPU efficiency is "
        "(user + system) / wall and can exceed 100 % with threads or several processes. "
        "Quantiles interpolate linearly between the closest ranks. Sizes are in units of 1024 "
        f"bytes ({esc(figure(1536, 'B'))} = 1,536 bytes).</p>"
    )
