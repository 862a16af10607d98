"""Box plots, one box per task: quartiles, whiskers at 1.5 IQR (Tukey), outliers with job ids.

The boxes are exact over every attempt given; only the outliers drawn are capped
(`MAX_OUTLIERS` per box, the farthest from the median), and `LABELLED` of them carry their job
id as text (every drawn one has it as a tooltip).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bt.report import svg
from bt.report.records import AttemptRecord
from bt.report.stats import Metric, quantile
from bt.report.text import esc, figure, ticks

MAX_OUTLIERS = 50  #: outliers drawn per box
LABELLED = 3  #: outliers per box whose job id is written beside them
WIDTH, LEFT, RIGHT, TOP, ROW, AXIS = 760.0, 170.0, 30.0, 28.0, 36.0, 34.0
LABEL_CHARS = 26  #: characters of a task name shown (all of it in the tooltip)


@dataclass(frozen=True)
class Box:
    """One box: what it summarises and where its parts go."""

    label: str
    count: int
    q1: float
    median: float
    q3: float
    low: float  #: the lower whisker: the lowest value within 1.5 IQR of the box
    high: float  #: the upper whisker
    outliers: list[tuple[float, int]]  #: (value, job id) beyond the whiskers, farthest first
    hidden: int  #: outliers not drawn

    @classmethod
    def of(cls, label: str, points: Sequence[tuple[float, int]]) -> Box | None:
        """The box of `points` (value, job id); None when there are none."""
        ordered = sorted(points)
        values = [value for value, _ in ordered]
        if not values:
            return None
        q1, median, q3 = (quantile(values, q) or 0.0 for q in (0.25, 0.5, 0.75))
        fence_low, fence_high = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
        inside = [v for v in values if fence_low <= v <= fence_high]
        far = [p for p in ordered if not fence_low <= p[0] <= fence_high]
        far.sort(key=lambda p: (-abs(p[0] - median), p[1]))
        return cls(
            label, len(values), q1, median, q3, min(inside), max(inside),
            far[:MAX_OUTLIERS], max(0, len(far) - MAX_OUTLIERS),
        )  # fmt: skip


def boxes(metric: Metric, groups: dict[str, list[AttemptRecord]]) -> list[Box]:
    """A box per group (by label) of the attempts with a value of `metric`."""
    found = []
    for label in sorted(groups):
        points = [(v, r.job_id) for r in groups[label] if (v := metric.get(r)) is not None]
        if (box := Box.of(label, points)) is not None:
            found.append(box)
    return found


def box_plot(metric: Metric, groups: dict[str, list[AttemptRecord]], *, id: str) -> str:
    """An SVG box plot of `metric`, one horizontal box per group."""
    drawn = boxes(metric, groups)
    height = TOP + ROW * max(1, len(drawn)) + AXIS
    body = [svg.text(LEFT, 16, metric.title, font_weight="bold")]
    if not drawn:
        body.append(svg.text(LEFT, TOP + ROW / 2, "no figures", fill="#777"))
        return svg.document(WIDTH, height, body, label=metric.title, id=id)
    values = [v for b in drawn for v in (b.low, b.high, *(o for o, _ in b.outliers))]
    low, high = min(0.0, *values), max(values)
    high = high if high > low else low + 1
    x = svg.scale(low, high, LEFT, WIDTH - RIGHT)
    body += _axis(metric, low, high, x, TOP + ROW * len(drawn))
    for row, box in enumerate(drawn):
        body += _box(box, metric, x, TOP + ROW * row + ROW / 2)
    return svg.document(WIDTH, height, body, label=metric.title, id=id)


def _axis(metric: Metric, low: float, high: float, x: svg.Scale, bottom: float) -> list[str]:
    parts = [svg.tag("line", {"x1": LEFT, "x2": WIDTH - RIGHT, "y1": bottom, "y2": bottom,
                              "stroke": "#999"})]  # fmt: skip
    for tick in ticks(low, high, metric.unit):
        at = x(tick)
        parts.append(svg.tag("line", {"x1": at, "x2": at, "y1": TOP, "y2": bottom + 4,
                                      "stroke": "#e3e3e3"}))  # fmt: skip
        shown = "0" if tick == 0 else figure(tick, metric.unit)
        parts.append(svg.text(at, bottom + 16, shown, text_anchor="middle"))
    return parts


def _box(box: Box, metric: Metric, x: svg.Scale, y: float) -> list[str]:
    def line(x1: float, x2: float, y1: float, y2: float) -> str:
        return svg.tag("line", {"x1": x1, "x2": x2, "y1": y1, "y2": y2, "stroke": "#333"})

    shown = box.label if len(box.label) <= LABEL_CHARS else box.label[: LABEL_CHARS - 1] + "…"
    summary = (
        f"{box.label}: {box.count} attempts; median {figure(box.median, metric.unit)}, "
        f"quartiles {figure(box.q1, metric.unit)} to {figure(box.q3, metric.unit)}, "
        f"whiskers {figure(box.low, metric.unit)} to {figure(box.high, metric.unit)}"
    )
    parts = [
        svg.tag("text", {"x": LEFT - 8, "y": y + 4, "text-anchor": "end"},
                svg.title(summary) + esc(shown)),
        line(x(box.low), x(box.high), y, y),
        line(x(box.low), x(box.low), y - 6, y + 6),
        line(x(box.high), x(box.high), y - 6, y + 6),
        svg.tag("rect", {"x": x(box.q1), "y": y - 9, "width": max(1.0, x(box.q3) - x(box.q1)),
                         "height": 18.0, "fill": "#cfe0f1", "stroke": "#333"},
                svg.title(summary)),
        svg.tag("line", {"x1": x(box.median), "x2": x(box.median), "y1": y - 9, "y2": y + 9,
                         "stroke": "#111", "stroke-width": 2}),
    ]  # fmt: skip
    return parts + _outliers(box, metric, x, y)


def _outliers(box: Box, metric: Metric, x: svg.Scale, y: float) -> list[str]:
    parts = []
    for n, (value, job_id) in enumerate(box.outliers):
        tip = svg.title(f"job {job_id}: {figure(value, metric.unit)}")
        parts.append(svg.tag("circle", {"cx": x(value), "cy": y, "r": 2.5, "fill": "none",
                                        "stroke": svg.FAILED_COLOUR}, tip))  # fmt: skip
        if n < LABELLED:
            parts.append(svg.text(x(value), y - 8 - 9 * (n % 2), f"#{job_id}",
                                  text_anchor="middle", fill="#555", font_size=9))  # fmt: skip
    if box.hidden:
        parts.append(svg.text(WIDTH - RIGHT, y + 16, f"+{box.hidden} outliers not drawn",
                              text_anchor="end", fill="#777", font_size=9))  # fmt: skip
    return parts
