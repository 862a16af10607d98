"""How the core scales: bulk creation, listing a huge history, subjob completion, claiming.

Prints its figures; it asserts nothing. Usage:
    .venv/bin/python bench/scale.py [--db sqlite postgresql] [--history 1000000]
        [--only bulk subjobs claim listing stats] [--keep DIR]
PostgreSQL runs on a throwaway cluster with default durability that this script starts. With
`--keep DIR` the databases live in DIR and outlive the run (the cluster is halted, not removed),
and the listing reuses a history of the same size instead of creating it again (after migrating
it to the current schema).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, inspect, select, text, update
from sqlalchemy.orm import Session

from bench.common import ROOT, databases, fresh_app, percentile, timed
from bt import Brownthrower
from bt.attempts import records
from bt.db import Database
from bt.models import ATTEMPT, Job
from bt.registry import TaskRegistry
from bt.report import group_stats
from bt.report.stats import GroupBy
from bt.schema import upgrade
from bt.sqltypes import db_now
from bt.status import Status
from bt.values import DeclaredJob, JobSpec, NodeSpec, RunResult

BATCH = 20_000


def bulk_create(app: Brownthrower, count: int, *, submit: bool, task: str = "noop") -> float:
    """Seconds to create (and submit) `count` jobs through the service, in batches."""

    def run() -> None:
        for start in range(0, count, BATCH):
            size = min(BATCH, count - start)
            app.jobs.create_graph([NodeSpec(i, JobSpec(task), submit) for i in range(size)])

    return timed(run)


def measure_bulk(url: str, count: int) -> None:
    app = fresh_app(url)
    seconds = bulk_create(app, count, submit=True)
    print(
        f"  bulk create + submit of {count:,} jobs: {count / seconds:,.0f} jobs/s ({seconds:.1f} s)"
    )
    app.close()


#: the filters measured on the history, each with its order (newest first or not)
LISTINGS: tuple[tuple[list[str], bool], ...] = (
    (["status=FAILED"], True),
    (["status=BLOCKED"], True),
    (["name=ech*"], False),
    (["name=ech*"], True),
    (["status=STASHED", "name=noop"], True),
    (["status=STASHED", "name=noop"], False),
    (["name=noop"], True),
    (["name=*o*"], False),
    (["name=none*"], True),
    ([], True),
)


def make_history(url: str, history: int) -> Brownthrower:
    """`history` jobs, half noop then half echo, a few FAILED and BLOCKED among them."""
    app = fresh_app(url)
    bulk_create(app, history // 2, submit=False, task="noop")
    bulk_create(app, history - history // 2, submit=False, task="echo")
    app.db.write(
        lambda s: s.execute(update(Job).where(Job.id % 97 == 0).values(status=Status.FAILED))
    )
    blocked = (
        update(Job)
        .where(Job.id % 101 == 0)
        .values(  # as if behind a failed parent
            status=Status.QUEUED, blocking_parents=1, pending_parents=1
        )
    )
    app.db.write(lambda s: s.execute(blocked))
    return app


def history_app(url: str, history: int, *, reuse: bool) -> Brownthrower:
    """The listing's history: the one kept from an earlier run if it has `history` jobs."""
    db = Database(url)
    if reuse and _job_count(db) == history:
        upgrade(db)
        return Brownthrower(db, TaskRegistry())
    db.engine.dispose()
    return make_history(url, history)


def _job_count(db: Database) -> int | None:
    with db.engine.connect() as conn:
        if not inspect(conn).has_table("job"):
            return None
        return conn.scalar(select(func.count()).select_from(Job))


def time_first_page(app: Brownthrower, terms: list[str], newest: bool) -> list[float]:
    """Seconds of 20 first pages of 50 (after one to warm the cache)."""

    def first_page() -> None:
        app.jobs.list(terms, limit=50, newest_first=newest)

    first_page()
    return [timed(first_page) for _ in range(20)]


def measure_listing(url: str, history: int, *, reuse: bool = False) -> None:
    app = history_app(url, history, reuse=reuse)
    if app.db.is_postgresql:
        app.db.write(lambda s: s.execute(text("ANALYZE")))
    for terms, newest in LISTINGS:
        times = time_first_page(app, terms, newest)
        label = " ".join(terms) or "(no filter)"
        order = "newest" if newest else "oldest"
        print(
            f"  job list {label:<28} {order} first, first page of 50 at {history:,} jobs: "
            f"p50 {percentile(times, 0.5) * 1e3:.1f} ms, p90 {percentile(times, 0.9) * 1e3:.1f}"
            f" ms, p99 {percentile(times, 0.99) * 1e3:.1f} ms"
        )
    app.close()


def make_superjob(app: Brownthrower, subjobs: int) -> tuple[int, int]:
    """A superjob whose prolog declared `subjobs` queued noop subjobs; (its id, a runner id)."""
    runner = app.runners.register(host="bench", pid=1, slots=1, tasks=["noop"], lease=3600)
    parent = app.jobs.create(JobSpec("noop"), submit=True).id
    claim = app.claims.claim(runner.id, ["noop"])
    assert claim is not None and claim.job_id == parent
    declared = [DeclaredJob(i, "noop") for i in range(subjobs)]
    app.claims.finish(claim, RunResult(subjobs=declared))
    return parent, runner.id


def measure_subjob_completion(url: str, subjobs: int, measured: int, other_jobs: int = 0) -> None:
    """Complete the last `measured` subjobs of a superjob of `subjobs` through claim + finish;
    the ones before are marked DONE directly (set-up, not measured). `other_jobs` unrelated DONE
    jobs separate the cost of a bigger table from the cost of more siblings."""
    app = fresh_app(url)
    if other_jobs:
        bulk_create(app, other_jobs, submit=False)
        app.db.write(lambda s: s.execute(update(Job).values(status=Status.FAILED)))
    parent, runner = make_superjob(app, subjobs)
    head = subjobs - measured
    if head:
        app.db.write(
            lambda s: s.execute(
                text(
                    "UPDATE job SET status = 'DONE' WHERE id IN "
                    "(SELECT id FROM job WHERE super_id = :p ORDER BY id LIMIT :n)"
                ),
                {"p": parent, "n": head},
            )
        )
        app.db.write(lambda s: s.execute(update(Job).where(Job.id == parent).values(sub_done=head)))

    def complete_all() -> None:
        while (claim := app.claims.claim(runner, ["noop"])) is not None and claim.job_id != parent:
            app.claims.finish(claim, RunResult(output="1"))

    seconds = timed(complete_all)
    assert app.jobs.info(parent).status in (Status.QUEUED, Status.RUNNING)
    among = f" among {other_jobs:,} other jobs" if other_jobs else ""
    print(
        f"  completing {measured:,} subjobs of a superjob of {subjobs:,}{among}: "
        f"{seconds / measured * 1000:.2f} ms per subjob (claim + finish + derivation)"
    )
    app.close()


def measure_claim(url: str, blocked: int) -> None:
    """Latency of claiming the one runnable job with `blocked` QUEUED jobs waiting on a parent."""
    app = fresh_app(url)
    parent = app.jobs.create(JobSpec("noop")).id
    for start in range(0, blocked, BATCH):
        size = min(BATCH, blocked - start)
        app.jobs.create_graph(
            [NodeSpec(i, JobSpec("noop"), True) for i in range(size)],
            existing_parents=[(parent, i) for i in range(size)],
        )
    app.jobs.create(JobSpec("noop"), submit=True)
    runner = app.runners.register(host="bench", pid=1, slots=1, tasks=["noop"], lease=3600).id
    times = []
    for _ in range(200):
        claimed = None

        def claim() -> None:
            nonlocal claimed
            claimed = app.claims.claim(runner, ["noop"])

        times.append(timed(claim))
        assert claimed is not None
        app.claims.requeue(claimed)
    print(
        f"  claim with {blocked:,} blocked QUEUED jobs: p50 {percentile(times, 0.5) * 1000:.2f} ms,"
        f" p99 {percentile(times, 0.99) * 1000:.2f} ms"
    )
    app.close()


def measure_claim_with_delayed(url: str, delayed: int) -> None:
    """Latency of claiming the one runnable job while `delayed` QUEUED jobs wait for a retry
    (their `not_before` an hour ahead), and of finding nothing among them (the claim then
    also releases due retries)."""
    app = fresh_app(url)
    bulk_create(app, delayed, submit=True)
    later = update(Job).values(not_before=db_now(3600))
    app.db.write(lambda s: s.execute(later))
    runner = app.runners.register(host="bench", pid=1, slots=1, tasks=["noop"], lease=3600).id
    app.jobs.create(JobSpec("noop"), submit=True)
    found = []
    for _ in range(200):
        claimed = None

        def claim() -> None:
            nonlocal claimed
            claimed = app.claims.claim(runner, ["noop"])

        found.append(timed(claim))
        assert claimed is not None
        app.claims.requeue(claimed)
    empty = [timed(lambda: app.claims.claim(runner, ["echo"])) for _ in range(200)]
    print(
        f"  claim with {delayed:,} delayed retries: p50 {percentile(found, 0.5) * 1000:.2f} ms,"
        f" p99 {percentile(found, 0.99) * 1000:.2f} ms; nothing runnable: p50 "
        f"{percentile(empty, 0.5) * 1000:.2f} ms"
    )
    app.close()


T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def attempt_rows(job_ids: list[int]) -> Iterator[dict[str, Any]]:
    """One ended run per job (`measure_stats`): every tenth FAILED with a reason, waits and
    run times to the microsecond, figures on 16 hosts."""
    for job_id in job_ids:
        queued = T0 + dt.timedelta(seconds=job_id)
        started = queued + dt.timedelta(seconds=job_id % 13, microseconds=job_id % 1000)
        failed = job_id % 10 == 0
        yield {
            "job_id": job_id, "seq": 1, "attempt": 1, "after_event": None,
            "outcome": Status.FAILED if failed else Status.DONE, "runner_id": 1,
            "host": f"node{job_id % 16}", "queued_at": queued, "started_at": started,
            "ended_at": started + dt.timedelta(seconds=(job_id % 97) * 0.5),
            "exit_code": job_id % 10, "reason": f"boom {job_id % 7}" if failed else None,
            "traceback": "Traceback" if failed else None, "stderr": None,
            "realtime": (job_id % 97) * 0.5, "cpu_user": (job_id % 89) * 0.3, "cpu_sys": 0.01,
            "peak_rss": (job_id % 1000) * 1048576, "minflt": 10, "majflt": 0, "vol_ctxt": 5,
            "inv_ctxt": 6, "inblock": 0, "oublock": 8, "rchar": 1000, "wchar": 2000,
            "read_bytes": 0, "write_bytes": 4096, "batch_id": None, "slots": 1,
        }  # fmt: skip


def insert_attempts(session: Session) -> None:
    job_ids = list(session.scalars(select(Job.id).order_by(Job.id)))
    rows = list(attempt_rows(job_ids))
    for start in range(0, len(rows), BATCH):
        session.execute(insert(ATTEMPT), rows[start : start + BATCH])


def in_python(app: Brownthrower, terms: Sequence[str] = (), by: GroupBy = "task") -> list[Any]:
    """`job stats` as it was computed before `bt.attempt_stats`: every record read into Python."""
    with app.db.read() as s:
        return group_stats(records(s, terms), by)


def _close(found: object, expected: object) -> bool:
    """Equal, but for floats that differ in their last bits (a database's sum and math.fsum)."""
    if is_dataclass(found) and is_dataclass(expected):
        return _close(asdict(found), asdict(expected))  # type: ignore[arg-type]
    if isinstance(found, dict) and isinstance(expected, dict):
        return found.keys() == expected.keys() and all(_close(found[k], expected[k]) for k in found)
    if isinstance(found, list | tuple) and isinstance(expected, list | tuple):
        pairs = zip(found, expected, strict=False)
        return len(found) == len(expected) and all(_close(a, b) for a, b in pairs)
    if isinstance(found, float) and isinstance(expected, float):
        return math.isclose(found, expected, rel_tol=1e-12)
    return found == expected


def measure_stats(url: str, count: int) -> None:
    """Seconds for `job stats` (all jobs, by task; by host; a tenth of the jobs) over `count`
    jobs of one attempt each: in the database (`bt.attempt_stats`), and in Python as before."""
    app = fresh_app(url)
    bulk_create(app, count, submit=True)
    app.db.write(insert_attempts)
    if app.db.is_postgresql:
        app.db.write(lambda s: s.execute(text("ANALYZE")))
    tenth = [f"id<={count // 10}"]
    ways: dict[str, tuple[Callable[..., list[Any]], int]] = {
        "in the database": (app.jobs.stats, 3),
        "in Python": (partial(in_python, app), 1),
    }
    medians = []
    for label, (stats, runs) in ways.items():
        times = sorted(timed(stats) for _ in range(runs))
        by_host = timed(partial(stats, by="host"))
        some = timed(partial(stats, tenth))
        medians.append(times[runs // 2])
        print(
            f"  job stats over {count:,} attempts, {label}: {times[runs // 2]:.2f} s;"
            f" by host: {by_host:.2f} s; a tenth of the jobs (id filter): {some:.2f} s"
        )
    print(f"  in the database / in Python (same run): {medians[0] / medians[1]:.2f}")
    bys: tuple[GroupBy, ...] = ("task", "status", "host")
    exact = all(app.jobs.stats(by=by) == in_python(app, by=by) for by in bys)
    close = all(_close(app.jobs.stats(by=by), in_python(app, by=by)) for by in bys)
    print(f"  same figures both ways: {exact} (float totals within 1e-12: {close})")
    app.close()


@contextmanager
def kept_databases(which: list[str], keep: Path) -> Iterator[dict[str, str]]:
    """Like `databases`, in `keep`: the SQLite file stays, the PostgreSQL cluster is halted."""
    keep.mkdir(parents=True, exist_ok=True)
    urls = {"sqlite": f"sqlite:///{keep}/bench.db"} if "sqlite" in which else {}
    if "postgresql" not in which:
        yield urls
        return
    script, pg = str(ROOT / "scripts" / "pg-cluster"), keep / "pg"
    env = {**os.environ, "PG_FSYNC": "on", "PG_SYNC_COMMIT": "on"}
    if (pg / "data").exists():
        subprocess.run([script, "resume", str(pg)], check=True, env=env)
        port = (pg / "port").read_text().strip()
        urls["postgresql"] = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    else:
        out = subprocess.run(
            [script, "start", str(pg)], check=True, capture_output=True, text=True, env=env
        )
        urls["postgresql"] = out.stdout.strip().splitlines()[-1]
    try:
        yield urls
    finally:
        subprocess.run([script, "halt", str(pg)], check=False)


PARTS = ("bulk", "subjobs", "claim", "listing", "stats")


def measure(url: str, args: argparse.Namespace) -> None:
    """Every part of the bench named in `--only`, on one database."""
    if "bulk" in args.only:
        measure_bulk(url, args.bulk)
    if "subjobs" in args.only:
        measure_subjob_completion(url, 1_000, 1_000)
        measure_subjob_completion(url, args.subjobs, 1_000)
        measure_subjob_completion(url, 1_000, 1_000, other_jobs=args.subjobs)
    if "claim" in args.only:
        measure_claim(url, 0)
        measure_claim(url, args.bulk)
        measure_claim_with_delayed(url, 0)
        measure_claim_with_delayed(url, args.bulk)
    if "listing" in args.only:
        measure_listing(url, args.history, reuse=args.keep is not None)
    if "stats" in args.only:
        measure_stats(url, args.bulk)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--history", type=int, default=1_000_000, help="jobs for the listing")
    parser.add_argument("--bulk", type=int, default=100_000)
    parser.add_argument("--subjobs", type=int, default=100_000)
    parser.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--keep", type=Path, help="keep the databases in this directory")
    args = parser.parse_args()
    if args.keep is not None and "listing" in args.only and len(args.only) > 1:
        parser.error("--keep keeps the listing's history: use it with --only listing")
    with kept_databases(args.db, args.keep) if args.keep else databases(args.db) as urls:
        for name, url in urls.items():
            print(f"{name}:")
            measure(url, args)


if __name__ == "__main__":
    main()
