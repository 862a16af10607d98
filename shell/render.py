"""Pure rendering of jobs, tags, counts, job history, tasks and runners as rich renderables.

Every function takes plain values from `bt.values` and returns something rich can print, so the
layout is tested without a terminal. Tables are the original brownthrower's: no borders, two
spaces between columns, timestamps as `YYYY-MM-DD HH:MM:SS` in local time; on a narrow terminal
they fit (`shell.render_fit`). Stored text is escaped before it is shown (`shell.render_values`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from bt.report import text as report_text
from bt.status import BLOCKED, LIMITED, QUEUED_PARTS, RUNNABLE, WAITING, Status
from bt.usage import Usage
from bt.values import MAX_RETRY_DELAY, Attempt, JobDetails, JobEvent, JobInfo, TagInfo
from shell.render_fit import FitTable
from shell.render_values import EMPTY, multi_line, shown_yaml
from shell.render_values import one_line as escaped

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
JOB_COLUMNS = ("id", "super_id", "name", "status", "created", "queued", "started", "ended")
#: every column `job list --columns` and `--sort` know
ALL_JOB_COLUMNS = (*JOB_COLUMNS[:4], "priority", "attempts", *JOB_COLUMNS[4:], "elapsed", "host")
STATUS_STYLES = {
    Status.STASHED.value: "dim",
    Status.QUEUED.value: "cyan",
    Status.RUNNING.value: "bold yellow",
    Status.STAND_BY.value: "magenta",
    Status.DONE.value: "green",
    Status.FAILED.value: "bold red",
    RUNNABLE: "bold cyan",
    BLOCKED: "red",
    WAITING: "cyan",
    LIMITED: "yellow",
    f"{Status.QUEUED.value} (blocked)": "red",
    f"{Status.QUEUED.value} (limited)": "yellow",
}
#: the order of `status` rows: the statuses as a job meets them, QUEUED's parts below it
COUNT_ROWS = (
    Status.STASHED.value,
    Status.QUEUED.value,
    RUNNABLE,
    BLOCKED,
    WAITING,
    LIMITED,
    Status.RUNNING.value,
    Status.STAND_BY.value,
    Status.DONE.value,
    Status.FAILED.value,
)
SHOWN_FAILED_SUBJOBS = 5  #: failed subjob ids `job show` names before "and N more"


def timestamp(value: dt.datetime | None) -> str:
    """A timestamp as the original printed it, in local time; empty when unset."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone().strftime(TIME_FORMAT)


def status_text(status: Status | str) -> Text:
    """A status word, coloured on a terminal (`QUEUED (retry at 10:26)` as QUEUED)."""
    value = status.value if isinstance(status, Status) else status
    style = STATUS_STYLES.get(value) or STATUS_STYLES.get(value.split(" (")[0], "")
    return Text(value, style=style)


def plain_table(*headers: str) -> Table:
    """A borderless table with bold headers and two spaces between columns, that fits a narrow
    terminal (`FitTable`) and escapes its cells."""
    return FitTable(*headers)


def elapsed(job: JobInfo, now: dt.datetime | None = None) -> float | None:
    """Seconds from the job's start to its end, or to `now` while it has not ended."""
    if job.started is None:
        return None
    end = job.ended or now or dt.datetime.now(dt.UTC)
    return max((aware(end) - aware(job.started)).total_seconds(), 0.0)


def job_cell(
    job: JobInfo, column: str, now: dt.datetime | None = None, host: str | None = None
) -> Text | str:
    """One cell of a job's row: a column of `ALL_JOB_COLUMNS`."""
    if column == "status":
        return status_text(job.shown_status)
    if column == "elapsed":
        return duration(elapsed(job, now))
    if column == "host":
        return host or ""
    value = getattr(job, column)
    if isinstance(value, dt.datetime):
        return timestamp(value)
    return "" if value is None else str(value)


def job_cells(job: JobInfo, columns: Sequence[str] = JOB_COLUMNS) -> list[Text | str]:
    """One job as the cells of `columns` (the original's `JOB_COLUMNS`)."""
    return [job_cell(job, column) for column in columns]


def job_table(
    jobs: Iterable[JobInfo],
    columns: Sequence[str] = JOB_COLUMNS,
    *,
    hosts: Mapping[int, str] | None = None,
    now: dt.datetime | None = None,
) -> Table:
    """`job list`: one row per job, the original's columns or those chosen."""
    table = plain_table(*columns)
    now = now or dt.datetime.now(dt.UTC)
    for job in jobs:
        host = (hosts or {}).get(job.id)
        table.add_row(*(job_cell(job, column, now, host) for column in columns))
    return table


def title(text: str) -> Text:
    return Text(text, style="bold")


def duration(seconds: float | None) -> str:
    """Seconds as people read them: `4ms`, `1.5s`, `1m 30s`, `2h`, `1d 3h`; empty if unknown."""
    if seconds is None:
        return ""
    if 0 < seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.2f}".rstrip("0").rstrip(".") + "s"
    rest, parts = round(seconds), []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return " ".join(parts)


def job_details(
    job: JobDetails, now: dt.datetime | None = None, last: Attempt | None = None
) -> RenderableType:
    """`job show`: the original's sections, plus failure handling, links, subjobs, the runner,
    and what the `last` attempt cost."""
    fields: list[tuple[str, str]] = [
        ("id", str(job.id)),
        ("super_id", _opt(job.super_id)),
        ("name", escaped(job.name)),
        ("status", job.shown_status),
        ("priority", str(job.priority)),
        ("attempts", str(job.attempts)),
        *_failure_handling(job, now or dt.datetime.now(dt.UTC)),
        *([("limits", _limits(job))] if job.limits else []),
        ("created", timestamp(job.created)),
        ("queued", timestamp(job.queued)),
        ("started", timestamp(job.started)),
        ("ended", timestamp(job.ended)),
        ("parents", _ids(job.parents)),
        *([("blocked by", _blocked_by(job))] if job.blocked else []),
        ("children", _ids(job.children)),
        ("subjobs", _subjobs(job)),
        *([("failed subjobs", _failed_subjobs(job))] if job.failed_subjobs else []),
        ("runner", _opt(job.runner_id)),
    ]
    cost = f"### LAST ATTEMPT ({last.number}) COST:" if last else ""
    return Group(
        title("### JOB DETAILS:"),
        *field_lines(fields),
        *_usage_section(cost, last.usage if last else None),
        *_section("### JOB DESCRIPTION:", job.description),
        *_yaml_section("### JOB CONFIG:", job.config),
        *_yaml_section("### JOB INPUT:", job.input),
        *_yaml_section("### JOB OUTPUT:", job.output),
    )


def field_lines(fields: Sequence[tuple[str, str]]) -> list[Text]:
    """`name : value` lines, the names padded to the longest, the values escaped."""
    width = max(len(name) for name, _ in fields)
    return [Text(f"{name.ljust(width)} : {escaped(value)}".rstrip()) for name, value in fields]


def _section(heading: str, text: str | None) -> list[RenderableType]:
    """A heading over free text, shown escaped (`-` when empty)."""
    body = multi_line(text.rstrip("\n")) if text and text.strip() else EMPTY
    return [Text(""), title(heading), Text(body)]


def _usage_section(heading: str, usage: Usage | None) -> list[RenderableType]:
    """A heading over what an attempt cost; nothing when it was not measured."""
    if usage is None:
        return []
    return [Text(""), title(heading), *field_lines(usage_fields(usage))]


def _yaml_section(heading: str, text: str | None) -> list[RenderableType]:
    """A heading over a YAML value as its author wrote or returned it (`-` when empty)."""
    return [Text(""), title(heading), Text(shown_yaml(text))]


def _limits(job: JobDetails) -> str:
    """The units of each limit the job holds while it runs: `catalog_db:1 nfs:3`."""
    return " ".join(f"{name}:{units}" for name, units in sorted(job.limits.items()))


def _opt(value: int | None) -> str:
    return "" if value is None else str(value)


def _ids(ids: Sequence[int]) -> str:
    return " ".join(map(str, ids))


def _failure_handling(job: JobDetails, now: dt.datetime) -> list[tuple[str, str]]:
    """Retries (used of allowed), their delay and backoff, the time limit, what a lost runner
    does to the job (its `max_attempts`), a retry's wait."""
    fields = [("retries", f"{job.retried} of {job.retries} used" if job.retries else "none")]
    if job.retries:
        delay = f"{duration(job.retry_delay)}, then x{job.retry_backoff:g} per retry"
        fields.append(("retry delay", f"{delay} (at most {duration(MAX_RETRY_DELAY)})"))
    fields.append(("time limit", duration(job.time_limit) or "none"))
    fields.append(("if runner lost", f"requeued while attempts < {job.max_attempts}, else FAILED"))
    wait = _retry_wait(job, now)
    if wait is not None:
        fields.append(("next retry", f"not before {timestamp(job.not_before)} (in {wait})"))
    return fields


def _retry_wait(job: JobDetails, now: dt.datetime) -> str | None:
    """How long a QUEUED retry still waits, or None when it does not."""
    if job.not_before is None or job.status is not Status.QUEUED:
        return None
    wait = (aware(job.not_before) - now).total_seconds()
    return duration(wait) if wait > 0 else None


def aware(value: dt.datetime) -> dt.datetime:
    """A naive timestamp from the database is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _blocked_by(job: JobDetails) -> str:
    parents = "parent" if job.blocking_parents == 1 else "parents"
    return f"{job.blocking_parents} {parents} FAILED or blocked (job graph {job.id})"


def _failed_subjobs(job: JobDetails) -> str:
    """The first failed subjobs, how many more, and the command that shows the first."""
    shown = list(job.failed_subjobs)[:SHOWN_FAILED_SUBJOBS]
    more = max(job.subjobs_failed, len(job.failed_subjobs)) - len(shown)
    ids = ", ".join(map(str, shown)) + (f" and {more:,} more" if more > 0 else "")
    return f"{ids} — job show {shown[0]}"


def _subjobs(job: JobDetails) -> str:
    if not job.subjobs:
        return ""
    return f"{job.subjobs} ({job.subjobs_done} DONE, {job.subjobs_failed} FAILED)"


def tags_view(tags: Iterable[TagInfo]) -> RenderableType:
    """`job tags`: each tag as a bold `### name:` heading, its value and a blank line."""
    parts: list[RenderableType] = []
    for tag in tags:
        body = multi_line(tag.value.rstrip("\n"))
        parts += [title(f"### {escaped(tag.name)}:"), Text(body), Text("")]
    return Group(*parts)


def counts_table(counts: Mapping[str, int]) -> Table:
    """`status`: jobs per status in `COUNT_ROWS` order, with RUNNABLE, BLOCKED and WAITING (the
    parts of QUEUED) indented under it; names the core adds later follow, sorted."""
    table = plain_table("status", "jobs")
    table.columns[1].justify = "right"
    known = [name for name in COUNT_ROWS if name in counts]
    for name in [*known, *sorted(set(counts) - set(known))]:
        label = status_text(name)
        if name in QUEUED_PARTS:
            label = Text("  ").append_text(label)
        table.add_row(label, f"{counts[name]:,}")
    return table


HISTORY_COLUMNS = (
    "attempt", "runner", "host", "queued", "started", "ended", "duration", "outcome",
    "exit_code", "cpu", "peak_rss", "read", "written", "reason",
)  # fmt: skip
EVENT_COLUMNS = ("at", "from", "to", "attempt", "runner", "host", "exit_code", "reason")


def history_table(attempts: Iterable[Attempt]) -> Table:
    """`job history`: one row per attempt of the job's code."""
    table = plain_table(*HISTORY_COLUMNS)
    for a in attempts:
        table.add_row(
            str(a.number),
            _opt(a.runner_id),
            a.host or "",
            timestamp(a.queued),
            timestamp(a.started),
            timestamp(a.ended),
            duration(a.duration),
            status_text(a.outcome or Status.RUNNING.value),
            _opt(a.exit_code),
            *usage_cells(a.usage),
            one_line(a.reason),
        )
    return table


def usage_cells(usage: Usage | None) -> tuple[str, str, str, str]:
    """An attempt's CPU (user + system), peak RSS (largest process), bytes read and written
    (`rchar`, `wchar`); empty when it was not measured."""
    if usage is None:
        return "", "", "", ""
    return duration(usage.cpu), _size(usage.peak_rss), _size(usage.rchar), _size(usage.wchar)


def usage_fields(usage: Usage) -> list[tuple[str, str]]:
    """What an attempt cost, as `name : value` fields (`job show`, `job history --attempt`)."""
    io = f"{_size(usage.rchar)} read, {_size(usage.wchar)} written"
    disk = f"{_size(usage.read_bytes)} read, {_size(usage.write_bytes)} written"
    return [
        ("wall", duration(usage.realtime)),
        ("cpu", f"{duration(usage.cpu_user)} user, {duration(usage.cpu_sys)} sys"),
        ("cpu efficiency", report_text.ratio(usage.cpu_efficiency)),
        ("peak rss", f"{_size(usage.peak_rss)} (largest process)"),
        ("i/o", io if usage.rchar is not None else "unknown"),
        ("disk", disk if usage.read_bytes is not None else "unknown"),
        ("faults", f"{usage.majflt:,} major, {usage.minflt:,} minor"),
        ("ctx switches", f"{usage.vol_ctxt:,} voluntary, {usage.inv_ctxt:,} involuntary"),
        ("host", f"{usage.host}" + (f" (batch job {usage.batch_id})" if usage.batch_id else "")),
    ]


def _size(value: float | None) -> str:
    return "" if value is None else report_text.size(value).replace(" ", "")


def events_table(events: Iterable[JobEvent]) -> Table:
    """`job history --events`: every status change, oldest first."""
    table = plain_table(*EVENT_COLUMNS)
    for e in events:
        table.add_row(
            timestamp(e.at),
            status_text(e.old_status) if e.old_status else "",
            status_text(e.new_status),
            str(e.attempt),
            _opt(e.runner_id),
            e.host or "",
            _opt(e.exit_code),
            one_line(e.reason),
        )
    return table


def attempt_view(job_id: int, attempt: Attempt, of: int) -> RenderableType:
    """`job history --attempt N`: one attempt's runner, times and outcome, then its failure's
    traceback and the tail of its stderr."""
    fields = [
        ("runner", f"{_opt(attempt.runner_id)} on {attempt.host}" if attempt.host else ""),
        ("queued", timestamp(attempt.queued)),
        ("started", timestamp(attempt.started)),
        ("ended", timestamp(attempt.ended)),
        ("duration", duration(attempt.duration)),
        ("outcome", attempt.outcome or Status.RUNNING.value),
        ("exit_code", _opt(attempt.exit_code)),
        ("reason", one_line(attempt.reason)),
    ]
    return Group(
        title(f"### JOB {job_id}, ATTEMPT {attempt.number} OF {of}:"),
        *field_lines(fields),
        *_usage_section("### WHAT IT COST:", attempt.usage),
        *_section("### TRACEBACK:", attempt.traceback),
        *_section("### STDERR (TAIL):", attempt.stderr),
    )


def one_line(text: str | None) -> str:
    """The first line of a free text (a reason), for a table cell."""
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else ""


def as_json(value: Any) -> str:
    """Machine-readable output for `--json`."""
    return json.dumps(value, indent=2, sort_keys=False, default=str)
