"""Statistics of attempts (`bt.report.stats`): exact quantiles, per-task figures on known data."""

from __future__ import annotations

import json
import random
import statistics

import pytest

from bt.report import group_stats, quantile, summarize
from bt.report.stats import Spread
from tests.unit.reportdata import MB, record


@pytest.mark.parametrize(
    ("q", "expected"), [(0.0, 1.0), (0.25, 1.75), (0.5, 2.5), (0.9, 3.7), (1.0, 4.0)]
)
def test_quantiles_interpolate_between_the_closest_ranks(q: float, expected: float) -> None:
    assert quantile([1.0, 2.0, 3.0, 4.0], q) == pytest.approx(expected)


def test_a_quantile_of_one_value_is_that_value_and_of_none_is_none() -> None:
    assert quantile([7.0], 0.9) == 7.0
    assert quantile([], 0.5) is None


def test_a_quantile_outside_0_to_1_is_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        quantile([1.0], 1.5)


def test_quantiles_are_the_inclusive_method_of_the_standard_library() -> None:
    """Type 7, as PostgreSQL's percentile_cont: the deciles of random data agree."""
    rng = random.Random(3)
    for n in (2, 3, 10, 101):
        values = sorted(rng.uniform(0, 100) for _ in range(n))
        deciles = statistics.quantiles(values, n=10, method="inclusive")
        assert [quantile(values, k / 10) for k in range(1, 10)] == pytest.approx(deciles)


def test_a_spread_ignores_unknown_values() -> None:
    spread = Spread.of([3.0, None, 1.0, 2.0])
    assert (spread.count, spread.total, spread.min, spread.p50, spread.max) == (3, 6, 1, 2, 3)
    assert Spread.of([]).p90 is None


def known_task() -> list:  # type: ignore[type-arg]
    """Task `a`: jobs 1-5 waited 1-5 s, ran 10-50 s and peaked at 100-500 MB; job 2 first
    failed (retried) after waiting 0.5 s, running 0.25 s and peaking at 50 MB."""
    runs = [
        record(n, name="a", queued=0, started=n, ended=n + 10 * n, rss=n * 100 * MB,
               attempt=2 if n == 2 else 1)
        for n in range(1, 6)
    ]  # fmt: skip
    retried = record(2, name="a", outcome="retried", reason="MemoryError\ntraceback",
                     queued=0, started=0.5, ended=0.75, rss=50 * MB)  # fmt: skip
    return [*runs, retried]


def test_statistics_per_task_on_known_durations() -> None:
    (a,) = group_stats(known_task())
    assert (a.key, a.jobs, a.attempts, a.retries) == ("a", 5, 6, 1)
    assert a.by_status == {"DONE": 5}
    # runs 0.25 10 20 30 40 50: p50 at rank 2.5, p90 at rank 4.5 (0-based)
    assert (a.run.p50, a.run.p90, a.run.max) == pytest.approx((25, 45, 50))
    assert (a.wait.p50, a.wait.p90, a.wait.max) == pytest.approx((2.5, 4.5, 5))
    assert a.cpu_efficiency.p50 == pytest.approx(0.8)
    assert (a.peak_rss.p50, a.peak_rss.max) == (250 * MB, 500 * MB)
    assert a.failures == [("MemoryError", 1)]
    assert a.slowest == [5, 4, 3, 2, 1] and a.largest == [5, 4, 3, 2, 1]
    assert a.cpu_seconds == pytest.approx(0.8 * (150 + 0.25))


def test_statistics_group_by_task_status_or_host() -> None:
    records = [
        record(1, name="a", host="h1"),
        record(2, name="b", host="h2", outcome="FAILED", reason="boom"),
        record(3, name="b", host="h1", outcome=""),
    ]
    assert [g.key for g in group_stats(records)] == ["a", "b"]
    assert [g.key for g in group_stats(records, by="host")] == ["h1", "h2"]
    by_status = {g.key: g for g in group_stats(records, by="status")}
    assert sorted(by_status) == ["DONE", "FAILED", "RUNNING"]
    assert by_status["FAILED"].failures == [("boom", 1)]


def test_failure_reasons_count_by_first_line_most_frequent_first() -> None:
    reasons = ["b\nx", "a", "b\ny", None]
    records = [record(n, outcome="FAILED", reason=r) for n, r in enumerate(reasons)]
    (group,) = group_stats(records)
    assert group.failures == [("b", 2), ("(no reason given)", 1), ("a", 1)]


def test_attempts_without_figures_count_in_times_but_not_in_resources() -> None:
    (group,) = group_stats([record(1, with_usage=False), record(2)])
    assert (group.measured, group.run.count, group.peak_rss.count) == (1, 2, 1)


def test_the_summary_counts_final_statuses_cpu_hours_and_the_span() -> None:
    summary = summarize([*known_task(), record(9, outcome="FAILED", reason="boom", ended=3600)])
    assert summary.jobs == 6 and summary.attempts == 7
    assert summary.by_status == {"DONE": 5, "FAILED": 1}
    assert summary.span == 3600
    assert summary.cpu_hours == pytest.approx(0.8 * (150 + 0.25 + 3599) / 3600)
    assert summary.failures == [("MemoryError", 1), ("boom", 1)]


def test_statistics_and_summary_are_json_ready() -> None:
    records = known_task()
    json.dumps([g.as_dict() for g in group_stats(records)])
    assert json.loads(json.dumps(summarize(records).as_dict()))["span"] == 55.0
