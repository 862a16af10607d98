"""The timeline: one lane per runner slot (or per host), a bar per attempt on its lane.

A bar is grey while the attempt was queued (a thin line before it starts), coloured by task
while it ran, and outlined and ended in red when it failed. Attempts that ran in a slot the
records do not name are packed into their runner's lanes in start order, so a lane shows what
one slot did. Above `MAX_BARS` attempts a uniform sample is drawn; above `MAX_LANES` lanes the
rest are left out; the drawing says so in both cases.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from bt.report import svg
from bt.report.records import AttemptRecord, utc
from bt.report.text import count, esc, seconds, ticks

MAX_BARS = 10_000  #: attempts drawn at most (a uniform sample beyond)
MAX_LANES = 400  #: lanes drawn at most
WIDTH, LEFT, RIGHT, TOP = 1000.0, 190.0, 20.0, 58.0
LanesBy = Literal["slot", "host"]


@dataclass(frozen=True)
class Bar:
    record: AttemptRecord
    queued: dt.datetime | None
    started: dt.datetime
    ended: dt.datetime


@dataclass
class Plan:
    """What the timeline draws: lanes of bars, the time they span, and what was left out."""

    lanes: dict[str, list[Bar]] = field(default_factory=dict)
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    tasks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def plan(
    records: Sequence[AttemptRecord],
    *,
    lanes: LanesBy = "slot",
    now: dt.datetime | None = None,
    max_bars: int = MAX_BARS,
    max_lanes: int = MAX_LANES,
) -> Plan:
    """Choose the bars and their lanes (pure, deterministic)."""
    started = [r for r in records if r.started_at is not None]
    result = Plan(tasks=sorted({r.name for r in started}))
    if len(started) > max_bars:
        started = random.Random(0).sample(started, max_bars)
        result.notes.append(
            f"{count(max_bars)} of {count(len(records))} attempts drawn: a uniform sample "
            "(the statistics and box plots count every attempt)."
        )
    bars = _bars(started, now)
    if not bars:
        return result
    result.first = min(b.queued or b.started for b in bars)
    result.last = max(b.ended for b in bars)
    laned = _by_host(bars) if lanes == "host" else _by_slot(bars)
    names = sorted(laned, key=_natural)
    if len(names) > max_lanes:
        result.notes.append(f"{count(max_lanes)} of {count(len(names))} lanes drawn.")
        names = names[:max_lanes]
    result.lanes = {name: laned[name] for name in names}
    return result


def _bars(records: Sequence[AttemptRecord], now: dt.datetime | None) -> list[Bar]:
    known = [t for r in records for t in (utc(r.ended_at), utc(r.started_at)) if t]
    until = utc(now) or max(known, default=None)
    bars = []
    for record in records:
        started = utc(record.started_at)
        assert started is not None and until is not None
        ended = utc(record.ended_at) or max(until, started)
        bars.append(Bar(record, utc(record.queued_at), started, max(ended, started)))
    bars.sort(key=lambda b: (b.started, b.record.job_id, b.record.attempt))
    return bars


def _by_host(bars: list[Bar]) -> dict[str, list[Bar]]:
    lanes: dict[str, list[Bar]] = {}
    for bar in bars:
        lanes.setdefault(bar.record.host or "(unknown host)", []).append(bar)
    return lanes


def _by_slot(bars: list[Bar]) -> dict[str, list[Bar]]:
    """A lane per (host, runner, slot); attempts without a slot packed into the first lane of
    their runner that is free when they start."""
    lanes: dict[str, list[Bar]] = {}
    free_at: dict[tuple[str, int | None], list[dt.datetime]] = {}
    for bar in bars:  # in start order
        runner = (bar.record.host or "?", bar.record.runner_id)
        slot = bar.record.slot
        if slot is None:
            ends = free_at.setdefault(runner, [])
            slot = next((i for i, end in enumerate(ends) if end <= bar.started), len(ends))
            ends[slot : slot + 1] = [bar.ended]
        host = runner[0] if len(runner[0]) <= 18 else runner[0][:17] + "…"
        name = f"{host} · runner {runner[1] if runner[1] is not None else '?'} · {slot + 1}"
        lanes.setdefault(name, []).append(bar)
    return lanes


def _natural(name: str) -> list[object]:
    """Sort key: numbers in the name compared as numbers."""
    parts: list[object] = []
    for word in name.replace("·", " ").split():
        parts += [(0, int(word), "") if word.isdigit() else (1, 0, word)]
    return parts


def render(drawn: Plan, *, id: str = "timeline") -> str:
    """The timeline of a `plan` as an SVG element."""
    label = "Timeline of attempts"
    lane_h = max(4.0, min(16.0, 2400 / max(1, len(drawn.lanes))))
    notes_h = 16.0 * len(drawn.notes)
    height = TOP + lane_h * max(1, len(drawn.lanes)) + 14 + notes_h
    body = _legend(drawn.tasks)
    if drawn.first is None or drawn.last is None:
        body.append(svg.text(LEFT, TOP + 12, "no attempt has started", fill="#777"))
        return svg.document(WIDTH, height, body, label=label, id=id)
    span = max((drawn.last - drawn.first).total_seconds(), 1e-3)
    canvas = _Canvas(drawn.first, svg.scale(0.0, span, LEFT, WIDTH - RIGHT), lane_h,
                     svg.colours(drawn.tasks))  # fmt: skip
    body += _axis(canvas, span, TOP + lane_h * len(drawn.lanes))
    for row, (name, bars) in enumerate(drawn.lanes.items()):
        body += _lane(canvas, name, bars, TOP + lane_h * row)
    bottom = TOP + lane_h * len(drawn.lanes) + 14
    for n, note in enumerate(drawn.notes):
        body.append(svg.text(LEFT, bottom + 12 + 16 * n, note, fill="#a33"))
    return svg.document(WIDTH, height, body, label=label, id=id)


def timeline_svg(records: Sequence[AttemptRecord], *, lanes: LanesBy = "slot") -> str:
    """The timeline of `records`, as a standalone SVG document (`job report --svg`)."""
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + render(plan(records, lanes=lanes)) + "\n"


def _legend(tasks: list[str]) -> list[str]:
    parts, at = [], LEFT
    items = [(svg.QUEUED_COLOUR, "queued"), (svg.FAILED_COLOUR, "failed")]
    items += [(colour, task) for task, colour in svg.colours(tasks[:12]).items()]
    if len(tasks) > 12:
        items.append(("#fff", f"+{len(tasks) - 12} more tasks"))
    for colour, name in items:
        shown = name if len(name) <= 20 else name[:19] + "…"
        parts.append(svg.tag("rect", {"x": at, "y": 6.0, "width": 10, "height": 10,
                                      "fill": colour}))  # fmt: skip
        parts.append(svg.text(at + 14, 15, shown))
        at += 24 + 6.5 * len(shown)
        if at > WIDTH - 120:
            break
    return parts


@dataclass(frozen=True)
class _Canvas:
    """Where the timeline draws: time 0, the x scale (seconds since), the lanes' height."""

    first: dt.datetime
    x: svg.Scale
    lane_h: float
    colours: dict[str, str]

    def at(self, moment: dt.datetime) -> float:
        return self.x((moment - self.first).total_seconds())


def _axis(canvas: _Canvas, span: float, bottom: float) -> list[str]:
    start = canvas.first.strftime("%Y-%m-%d %H:%M:%S UTC")
    parts = [svg.text(8, TOP - 22, f"time since {start}", fill="#555")]
    for tick in ticks(0.0, span, "s", most=8):
        at = canvas.x(tick)
        parts.append(svg.tag("line", {"x1": at, "x2": at, "y1": TOP - 4, "y2": bottom,
                                      "stroke": "#e3e3e3"}))  # fmt: skip
        shown = "0" if tick == 0 else seconds(tick)
        parts.append(svg.text(at, TOP - 8, shown, text_anchor="middle", fill="#555"))
    return parts


def _lane(canvas: _Canvas, name: str, bars: list[Bar], top: float) -> list[str]:
    middle = top + canvas.lane_h / 2
    parts = [svg.tag("text", {"x": LEFT - 6, "y": middle + 4, "text-anchor": "end",
                              "font-size": 10 if canvas.lane_h >= 10 else 0},
                     svg.title(name) + esc(name[:32]))]  # fmt: skip
    for bar in bars:
        parts += _bar(canvas, bar, middle)
    return parts


def _bar(canvas: _Canvas, bar: Bar, middle: float) -> list[str]:
    record, height, parts = bar.record, canvas.lane_h, []
    if bar.queued is not None and bar.queued < bar.started:
        parts.append(svg.tag("line", {"x1": canvas.at(bar.queued), "x2": canvas.at(bar.started),
                                      "y1": middle, "y2": middle,
                                      "stroke": svg.QUEUED_COLOUR}))  # fmt: skip
    left, right = canvas.at(bar.started), canvas.at(bar.ended)
    tip = (
        f"job {record.job_id} attempt {record.attempt}: {record.name}, "
        f"{record.outcome or 'running'}, ran {seconds(record.run)}, waited {seconds(record.wait)}"
        + (f"; {record.reason_line}" if record.failed else "")
    )
    attrs: dict[str, svg.Attr] = {"x": left, "y": middle - height * 0.35,
                                  "width": max(0.6, right - left), "height": height * 0.7,
                                  "fill": canvas.colours[record.name]}  # fmt: skip
    if record.failed:
        attrs.update(stroke=svg.FAILED_COLOUR, stroke_width=1)
    parts.append(svg.tag("rect", attrs, svg.title(tip)))
    if record.failed:
        parts.append(svg.tag("rect", {"x": max(left, right - 2), "y": middle - height / 2,
                                      "width": 2, "height": height,
                                      "fill": svg.FAILED_COLOUR}))  # fmt: skip
    return parts
