"""`job stats` in the database (`bt.attempt_stats`) equals `bt.report.group_stats` of the
attempt records (`bt.attempts.records`), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import itertools
import sys
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from bt import Brownthrower, RunResult, Usage
from bt.attempt_stats import group_stats as stats_in_db
from bt.attempt_stats.facts import WHITESPACE
from bt.attempts import records
from bt.models import ATTEMPT, JOB
from bt.report import group_stats
from bt.report.stats import GroupBy
from bt.runner.record import UNSTARTED
from bt.status import Status
from bt.values import Failed, Finished
from tests.factories import claim, job, superjob

T0 = dt.datetime(2026, 3, 4, 9, 0, 0, tzinfo=dt.UTC)
MB = 1 << 20
BYS: tuple[GroupBy, ...] = ("task", "status", "host")
REASONS = (
    "  \n\t MemoryError: too big \u00a0\n  at line 3",
    "exit 1",
    "   ",
    None,
    "x" * 250 + "\nrest",
    "exit 1\r\nsame first line",
    "Ärger",
    "zeta",
    "alpha",
)


def figures(run: float, rss_mb: int) -> Usage:
    return Usage(
        realtime=run, cpu_user=run / 2, cpu_sys=run / 4, peak_rss=rss_mb * MB, minflt=1,
        majflt=0, vol_ctxt=1, inv_ctxt=1, inblock=0, oublock=0, rchar=1000, wchar=2000,
        read_bytes=0, write_bytes=4096, exit_code=0, host="h", batch_id=None, slots=1,
    )  # fmt: skip


def at(quarters: int) -> dt.datetime:
    return T0 + dt.timedelta(seconds=quarters / 4)


def hosted(app: Brownthrower, host: str) -> Any:
    return app.runners.register(host=host, pid=1, slots=1, tasks=["*"], lease=600)


def run_the_campaign(app: Brownthrower) -> None:
    """Tasks noop and echo on hosts h1 and h2: jobs done, failed with reasons, a superjob
    (prolog, subjobs, epilog), runs under way."""
    h1, h2 = hosted(app, "h1"), hosted(app, "h2")
    tasks = ("noop", "echo")
    for i in range(12):
        job(app, tasks[i % 2], submit=True)
    for i in range(12):
        who = (h1, h2)[i % 2]
        claimed = claim(app, who, tasks)
        if i % 3 == 0:
            reason = REASONS[i % len(REASONS)] or ""
            app.claims.settle([Failed(claimed, reason, "Traceback", 1, usage=figures(1, i))])
        else:
            end = Finished(claimed, RunResult(output="1\n"), usage=figures(2, 10 * i))
            app.claims.settle([end])
    parent = superjob(app, h1, subjobs=2)
    for _ in range(2):
        app.claims.finish(claim(app, h2), RunResult(output="1\n"))
    app.claims.finish(claim(app, h1), RunResult(output="1\n"))  # the epilog
    assert app.jobs.info(parent).status is Status.DONE
    job(app, "noop", submit=True)
    job(app, "echo", submit=True)
    claim(app, h1, tasks)  # runs under way
    claim(app, h2, tasks)


def retried_first(s: Session) -> None:
    """Every fourth job first failed and was retried, then had a claim given back unstarted
    (a run under way among them: it was queued when its retry ended)."""
    for job_id in s.execute(select(JOB.c.id).where(JOB.c.id % 4 == 1)).scalars().all():
        s.execute(
            update(ATTEMPT)
            .where(ATTEMPT.c.job_id == job_id)
            .values(seq=ATTEMPT.c.seq + 2, attempt=ATTEMPT.c.attempt + 1)
        )
        s.execute(update(JOB).where(JOB.c.id == job_id).values(attempts=JOB.c.attempts + 1))
        retry = {"outcome": Status.QUEUED, "ended_at": T0, "attempt": 1, "job_id": job_id}
        s.execute(insert(ATTEMPT).values(seq=1, reason="exit 1", traceback="T", **retry))
        s.execute(insert(ATTEMPT).values(seq=2, reason=UNSTARTED, **retry))


def given_back(s: Session) -> None:
    """A claim given back unstarted ends the history of every third job (a run under way
    then came after it)."""
    last = select(ATTEMPT.c.job_id, func.max(ATTEMPT.c.seq)).group_by(ATTEMPT.c.job_id)
    for job_id, seq in s.execute(last).all():
        if job_id % 3 == 0:
            s.execute(
                insert(ATTEMPT).values(
                    job_id=job_id, seq=seq + 1, attempt=1, outcome=Status.QUEUED,
                    reason=UNSTARTED, ended_at=T0,
                )
            )  # fmt: skip


def odd_histories(s: Session) -> None:
    """Histories the services seldom write: a prolog followed by another, a requeued epilog,
    a prolog whose next run is another attempt, a trailing prolog, a claim given back."""
    job_id = s.execute(select(JOB.c.id).where(JOB.c.status == Status.DONE).limit(1)).scalar_one()
    start = s.execute(select(ATTEMPT.c.seq).where(ATTEMPT.c.job_id == job_id)).scalars().all()
    seq = itertools.count(max(start) + 1)
    rows = [
        ("STAND-BY", 5, None), ("QUEUED", 5, UNSTARTED), ("STAND-BY", 5, None),
        ("QUEUED", 5, "pre-empted"), ("DONE", 5, None), ("STAND-BY", 6, None), ("DONE", 7, None),
        ("FAILED", 7, "zeta"), ("STAND-BY", 8, None),
    ]  # fmt: skip
    for outcome, attempt, reason in rows:
        s.execute(
            insert(ATTEMPT).values(
                job_id=job_id, seq=next(seq), attempt=attempt, outcome=Status(outcome),
                reason=reason, ended_at=T0, traceback="T" if outcome == "FAILED" else None,
            )
        )  # fmt: skip


def known_figures(s: Session) -> None:
    """Every run gets times and figures in quarter seconds and powers of two (sums exact in
    any order), some unknown, hosts that are blank or missing, and reasons of all shapes."""
    keys = s.execute(select(ATTEMPT.c.job_id, ATTEMPT.c.seq).order_by("job_id", "seq")).all()
    for n, (job_id, seq) in enumerate(keys):
        queued = None if n % 11 == 0 else at(n % 7)
        started = None if n % 13 == 0 else at(8 + (n * 5) % 9)
        values: dict[str, Any] = {
            "queued_at": queued,
            "started_at": started,
            "ended_at": at(40 + (n * 3) % 17),
            "host": ("h1", "h2", None, "", "h3")[n % 5],
        }
        if n % 6 != 5:
            values |= {
                "realtime": (0.0, 0.5, 1.0, 2.0, 4.0)[n % 5], "cpu_user": (n % 4) * 0.25,
                "cpu_sys": 0.125, "peak_rss": None if n % 7 == 3 else (n % 9) * MB,
                "rchar": None if n % 4 == 1 else n * 1000, "wchar": n, "read_bytes": None,
                "write_bytes": 4096,
            }  # fmt: skip
        else:
            values |= {"realtime": None, "cpu_user": None, "peak_rss": 5}
        if n % 3 == 0:
            values["reason"] = REASONS[n % len(REASONS)]
        s.execute(
            update(ATTEMPT).where(ATTEMPT.c.job_id == job_id, ATTEMPT.c.seq == seq).values(values)
        )
    running = update(JOB).where(JOB.c.status == Status.RUNNING)
    s.execute(running.values(ts_queued=at(1), ts_started=at(6)))


@pytest.fixture
def campaign(app: Brownthrower) -> Brownthrower:
    run_the_campaign(app)
    app.db.write(retried_first)
    app.db.write(given_back)
    app.db.write(odd_histories)
    app.db.write(known_figures)
    return app


@pytest.mark.parametrize("by", BYS)
@pytest.mark.parametrize("terms", [(), ("name=noop",), ("status!=FAILED", "id>=3")])
def test_stats_in_the_database_equal_those_of_the_records(
    campaign: Brownthrower, by: GroupBy, terms: tuple[str, ...]
) -> None:
    with campaign.db.read() as s:
        expected = group_stats(records(s, terms), by)
        found = stats_in_db(s, terms, by)
    assert found == expected
    assert [g.as_dict() for g in found] == [g.as_dict() for g in expected]  # types too


def test_the_fixture_has_every_kind_of_attempt(campaign: Brownthrower) -> None:
    with campaign.db.read() as s:
        (task,) = [g for g in group_stats(records(s), "status") if g.key == "QUEUED"]
        everything = records(s)
    outcomes = {r.outcome for r in everything}
    assert {"DONE", "FAILED", "retried", "requeued", "STAND-BY", ""} <= outcomes
    assert task.retries > 0 and len({r.host for r in everything}) == 5
    assert any(r.usage is None for r in everything) and any(r.wait is None for r in everything)


def test_no_attempts_no_groups(app: Brownthrower) -> None:
    job(app, submit=True)
    with app.db.read() as s:
        assert stats_in_db(s) == [] == group_stats(records(s))


WAITS = [0.0, 5.0, 10.0, 15.0, 20.0]
RUNS = [1.0, 2.0, 3.0, 4.0, 10.0]


def test_stats_of_known_durations_give_the_exact_quantiles(app: Brownthrower) -> None:
    """Type 7: with n = 5, p90 is at rank 3.6, 60 % of the way from the 4th value to the 5th."""
    ids = [job(app, submit=True) for _ in RUNS]
    who = hosted(app, "h1")
    for _ in ids:
        app.claims.finish(claim(app, who), RunResult(output="1\n"))

    def times(s: Session) -> None:
        for i, job_id in enumerate(ids):
            started = T0 + dt.timedelta(seconds=WAITS[i])
            ended = started + dt.timedelta(seconds=RUNS[i])
            s.execute(
                update(ATTEMPT)
                .where(ATTEMPT.c.job_id == job_id)
                .values(queued_at=T0, started_at=started, ended_at=ended)
            )

    app.db.write(times)
    (group,) = app.jobs.stats()
    assert (group.run.p25, group.run.p50, group.run.p75) == (2.0, 3.0, 4.0)
    assert group.run.p90 == 4.0 + (10.0 - 4.0) * (0.9 * 4 - 3) == pytest.approx(7.6)
    assert (group.wait.min, group.wait.p50, group.wait.max) == (0.0, 10.0, 20.0)
    assert group.wait.p90 == 15.0 + 5.0 * (0.9 * 4 - 3) == pytest.approx(18.0)
    assert (group.run.count, group.run.total) == (5, 20.0)
    assert group.slowest == [ids[4], ids[3], ids[2], ids[1], ids[0]]


def test_failure_reasons_are_first_lines_cut_at_200_the_five_commonest_ties_by_reason(
    app: Brownthrower,
) -> None:
    job_id = job(app)
    reasons = ["b", "b", "a", "a", "\u00a0 c \n d", "c", "Ä", "z", " ", None, "y" * 250 + "\n"]

    def failed_runs(s: Session) -> None:
        for seq, reason in enumerate(reasons, start=1):
            s.execute(
                insert(ATTEMPT).values(
                    job_id=job_id, seq=seq, attempt=seq, outcome=Status.QUEUED, reason=reason,
                    traceback="T", ended_at=T0,
                )
            )  # fmt: skip

    app.db.write(failed_runs)
    with app.db.read() as s:
        (group,) = stats_in_db(s)
        assert [group] == group_stats(records(s))
    assert group.failures == [
        ("(no reason given)", 2),
        ("a", 2),
        ("b", 2),
        ("c", 2),
        ("y" * 200, 1),
    ]


def test_the_reasons_are_stripped_of_what_python_strips() -> None:
    every = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
    assert every == WHITESPACE


def test_stats_twice_in_one_session_leave_no_table_behind(campaign: Brownthrower) -> None:
    """SQLite's temporary table and its indexes go with the savepoint that holds them."""
    with campaign.db.read() as s:
        first, second = stats_in_db(s, (), "host"), stats_in_db(s, (), "host")
        if s.get_bind().dialect.name == "sqlite":
            assert s.execute(text("SELECT name FROM sqlite_temp_master")).all() == []
    assert first == second
