"""`job stats` in the database: `bt.report.group_stats` of the selected jobs' attempts, computed
from `job_attempt` (and the job rows of runs under way) instead of in Python.

The attempt records of `bt.attempts.records` are rebuilt as rows, the `facts`: a run given back
unstarted is no attempt; a superjob's epilog continues the attempt its prolog began (its wait
and run count from the prolog's times), and a prolog is an attempt of its own only while no run
follows it; a run under way is the job row. Most jobs have one run, which is their one attempt:
only the jobs with more (a run whose `seq` is not 1, or a run under way) go through those rules,
and only their records are ranked within their job (the latest; those with the job's longest
run time and largest peak RSS).

Quantiles are exact type-7 (`bt.report.stats.quantile`). PostgreSQL reads the facts once, in
one statement: `percentile_cont` for the quantiles, and for the slowest and largest jobs an
`array_agg` ordered by the figure over each job's best record. SQLite, whose sorts and window
passes are slow, writes the facts to a temporary table (gone with the savepoint that holds it)
with an index per figure, then reads the two values each quantile needs and the top jobs with
`LIMIT 1 OFFSET n`, which Python interpolates as `quantile` does. Durations are exact
microseconds divided once, like `timedelta.total_seconds`. Totals (`Spread.total`,
`cpu_seconds`) are the database's `sum`, which may differ from `math.fsum` in the last bits of a
float.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from bt import filters
from bt.attempt_stats import postgresql, sqlite
from bt.report.stats import GroupBy, GroupStats


def group_stats(
    session: Session, terms: Sequence[str] = (), by: GroupBy = "task"
) -> list[GroupStats]:
    """`bt.report.group_stats(bt.attempts.records(session, terms), by)`, in the database."""
    where = filters.condition(terms)
    if session.get_bind().dialect.name == "postgresql":
        groups = postgresql.in_postgresql(session, where, by)
    else:
        groups = sqlite.in_sqlite(session, where, by)
    return sorted(groups, key=lambda group: group.key)
