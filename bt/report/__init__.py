"""Reports on what runs cost: statistics, box plots, a timeline and a self-contained HTML page.

Pure functions of attempt records (`AttemptRecord`): no database, no terminal. The shell's
`job stats` and `job report`, and any web front end, read the records and hand them here.
"""

from __future__ import annotations

from bt.report.page import MAX_ATTEMPTS, report_html
from bt.report.records import AttemptRecord
from bt.report.stats import GroupStats, Spread, Summary, group_stats, quantile, summarize
from bt.report.timeline import timeline_svg

__all__ = [
    "MAX_ATTEMPTS",
    "AttemptRecord",
    "GroupStats",
    "Spread",
    "Summary",
    "group_stats",
    "quantile",
    "report_html",
    "summarize",
    "timeline_svg",
]
