"""Pure rendering of jobs, tags, counts, tasks and runners as rich renderables.

Every function takes plain values from `bt.views`/`bt.listing` and returns something rich can
print, so the layout is tested without a terminal. Tables are the original brownthrower's: no
borders, two spaces between columns, timestamps as `YYYY-MM-DD HH:MM:SS` in local time.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from bt.status import RUNNABLE, Status
from bt.values import JobDetails, JobInfo, TagInfo

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
JOB_COLUMNS = ("id", "super_id", "name", "status", "created", "queued", "started", "ended")
STATUS_STYLES = {
    Status.STASHED.value: "dim",
    Status.QUEUED.value: "cyan",
    Status.RUNNING.value: "bold yellow",
    Status.STAND_BY.value: "magenta",
    Status.DONE.value: "green",
    Status.FAILED.value: "bold red",
    RUNNABLE: "bold cyan",
}
EMPTY = "..."  #: what `job show` prints for an empty config, input or output


def timestamp(value: dt.datetime | None) -> str:
    """A timestamp as the original printed it, in local time; empty when unset."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone().strftime(TIME_FORMAT)


def status_text(status: Status | str) -> Text:
    """A status word, coloured on a terminal."""
    value = status.value if isinstance(status, Status) else status
    return Text(value, style=STATUS_STYLES.get(value, ""))


def plain_table(*headers: str) -> Table:
    """A borderless table with bold headers and two spaces between columns."""
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold", padding=(0, 1))
    for header in headers:
        table.add_column(header, no_wrap=True)
    return table


def job_cells(job: JobInfo) -> list[Text | str]:
    """One job as the cells of `JOB_COLUMNS`."""
    return [
        str(job.id),
        "" if job.super_id is None else str(job.super_id),
        job.name,
        status_text(job.status),
        timestamp(job.created),
        timestamp(job.queued),
        timestamp(job.started),
        timestamp(job.ended),
    ]


def job_table(jobs: Iterable[JobInfo]) -> Table:
    """`job list`: one row per job."""
    table = plain_table(*JOB_COLUMNS)
    for job in jobs:
        table.add_row(*job_cells(job))
    return table


def title(text: str) -> Text:
    return Text(text, style="bold")


def job_details(job: JobDetails) -> RenderableType:
    """`job show`: the original's sections, plus links, subjob counts and the runner."""
    fields: list[tuple[str, str]] = [
        ("id", str(job.id)),
        ("super_id", _opt(job.super_id)),
        ("name", job.name),
        ("status", job.status.value),
        ("priority", str(job.priority)),
        ("attempts", f"{job.attempts} of {job.max_attempts}"),
        ("created", timestamp(job.created)),
        ("queued", timestamp(job.queued)),
        ("started", timestamp(job.started)),
        ("ended", timestamp(job.ended)),
        ("parents", _ids(job.parents)),
        ("children", _ids(job.children)),
        ("subjobs", _subjobs(job)),
        ("runner", _opt(job.runner_id)),
    ]
    lines = [Text(f"{name.ljust(10)} : {value}") for name, value in fields]
    return Group(
        title("### JOB DETAILS:"),
        *lines,
        *_section("### JOB DESCRIPTION:", job.description),
        *_section("### JOB CONFIG:", job.config),
        *_section("### JOB INPUT:", job.input),
        *_section("### JOB OUTPUT:", job.output),
    )


def _section(heading: str, text: str | None) -> list[RenderableType]:
    body = text.rstrip("\n") if text and text.strip() else EMPTY
    return [Text(""), title(heading), Text(body)]


def _opt(value: int | None) -> str:
    return "" if value is None else str(value)


def _ids(ids: Sequence[int]) -> str:
    return " ".join(map(str, ids))


def _subjobs(job: JobDetails) -> str:
    if not job.subjobs:
        return ""
    return f"{job.subjobs} ({job.subjobs_done} DONE, {job.subjobs_failed} FAILED)"


def tags_view(tags: Iterable[TagInfo]) -> RenderableType:
    """`job tags`: each tag as a bold `### name:` heading, its value and a blank line."""
    parts: list[RenderableType] = []
    for tag in tags:
        parts += [title(f"### {tag.name}:"), Text(tag.value.rstrip("\n")), Text("")]
    return Group(*parts)


def counts_table(counts: Mapping[str, int]) -> Table:
    """`status`: jobs per status, RUNNABLE included."""
    table = plain_table("status", "jobs")
    table.columns[1].justify = "right"
    for status in sorted(counts):
        table.add_row(status_text(status), f"{counts[status]:,}")
    return table


def as_json(value: Any) -> str:
    """Machine-readable output for `--json`."""
    return json.dumps(value, indent=2, sort_keys=False, default=str)
