"""bt-runner side by side with procrastinate and an ideal fork-per-job loop, on one PostgreSQL.

    .venv/bin/python bench/compare.py [--jobs 2000] [--rounds 3] [--runners 1 2]
        [--only bt|procrastinate|ideal ...] [--bt-path DIR ...]

One throwaway PostgreSQL cluster (fsync and synchronous_commit on) and SQLite files for bt.
Interleaved rounds: in each round every system drains N no-op jobs with 1, then 2 workers, each
on a fresh database, in an order that rotates from round to round. The systems:

- procrastinate (`pip install .[bench]`): an async no-op task, workers of concurrency 1 run with
  `run_worker_async(wait=False)`, jobs deferred in bulk beforehand;
- ideal: a psycopg loop that claims with FOR UPDATE SKIP LOCKED, forks a child that exits at
  once, waits for it, and finishes the job (2 commits a job, the isolated limit);
- bt: `bt-runner` in drain mode, on PostgreSQL and (for reference) on SQLite; `--bt-path DIR`
  adds bt-runner run from another source tree (e.g. a `git worktree` of an older commit) through
  PYTHONPATH, so "before" and "after" are measured in one run.

Throughput is jobs / (last end - first start) by the database's own timestamps (every system
records both); "wall" is jobs / (first worker started .. last worker exited), Python start-up
included. Commits and WAL bytes per job come from `pg_stat_database.xact_commit` of the
system's database and `pg_current_wal_lsn()`, read from the maintenance database (so the
measuring adds no commit to the count) right before the workers start and after every backend
of the database has gone. Every job must end done/succeeded, else a warning is printed.
Needs the test tasks (`scripts/bootstrap --dev`). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = str(Path(__file__).resolve())
KINDS = ("procrastinate", "ideal", "bt")
QUIET_TIMEOUT = 30.0  #: seconds to wait for a database's backends to go before reading counters

IDEAL_SCHEMA = """
CREATE TABLE ideal_job (id bigserial PRIMARY KEY, status text, token text, output text,
                        ts_started timestamptz, ts_ended timestamptz);
CREATE INDEX ideal_job_queued ON ideal_job (id) WHERE status = 'QUEUED';
INSERT INTO ideal_job (status) SELECT 'QUEUED' FROM generate_series(1, %s);
"""
IDEAL_CLAIM = """UPDATE ideal_job SET status = 'RUNNING', token = %s, ts_started = now()
WHERE id = (SELECT id FROM ideal_job WHERE status = 'QUEUED' ORDER BY id LIMIT 1
            FOR UPDATE SKIP LOCKED) RETURNING id"""
IDEAL_FINISH = (
    "UPDATE ideal_job SET status = 'DONE', output = 'null', ts_ended = now() WHERE id = %s"
)

#: per kind: (jobs ended well, first start, last end) by the database's timestamps
FINISHED = {
    "ideal": "SELECT count(*) FILTER (WHERE status = 'DONE'), min(ts_started), max(ts_ended)"
    " FROM ideal_job",
    "procrastinate": "SELECT (SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'),"
    " min(at) FILTER (WHERE type = 'started'), max(at) FILTER (WHERE type = 'succeeded')"
    " FROM procrastinate_events",
    "bt": "SELECT count(*), min(ts_started), max(ts_ended) FROM job WHERE status = 'DONE'",
}


@dataclass(frozen=True)
class System:
    """One system measured: what it is, on which database, from which source tree (bt only)."""

    kind: str
    database: str = "postgresql"
    tree: Path | None = None

    @property
    def label(self) -> str:
        name = self.kind if self.tree is None else f"bt@{self.tree.name}"
        return f"{name} ({'pg' if self.database == 'postgresql' else 'sqlite'})"


@dataclass(frozen=True)
class Sample:
    """One measurement: jobs/s by the database and by the wall clock; costs per job (PostgreSQL)."""

    rate: float
    wall: float
    commits: float | None
    wal: float | None


@dataclass(frozen=True)
class Target:
    """A fresh database for one measurement: its name, URL (bt) and libpq DSN (the peers)."""

    name: str
    url: str
    dsn: str
    folder: Path

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


class Bench:
    """Fresh databases on one cluster, workers started on them, and what they cost."""

    def __init__(self, admin_url: str, tmp: Path, jobs: int) -> None:
        self.admin_url, self.tmp, self.jobs = admin_url, tmp, jobs
        self.admin = libpq(admin_url)
        self.made = 0

    def measure(self, system: System, workers: int) -> Sample:
        target = self.fresh(system)
        prepare(system, target, self.jobs)
        before = None if target.is_sqlite else self.counters(target.name)
        wall = run_workers([command(system, target) for _ in range(workers)], system, target)
        after = None if target.is_sqlite else self.counters(target.name)
        done, first, last = finished(system, target)
        if done != self.jobs:
            warn(f"{system.label} x{workers}: only {done} of {self.jobs} jobs ended well")
        rate = done / (last - first).total_seconds() if first and last else 0.0
        costs = [None, None] if before is None or after is None else self.per_job(before, after)
        self.drop(target)
        return Sample(rate, done / wall, *costs)

    def fresh(self, system: System) -> Target:
        self.made += 1
        name = f"{system.kind}_{self.made}"
        folder = self.tmp / name
        folder.mkdir()
        if system.database == "sqlite":
            path = folder / "bench.db"
            return Target(name, f"sqlite:///{path}", "", folder)
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = self.admin_url.rsplit("/", 1)[0] + "/" + name
        return Target(name, url, libpq(url), folder)

    def counters(self, database: str) -> tuple[int, int]:
        """(commits, WAL position) once no backend is connected to `database` any more."""
        with psycopg.connect(self.admin, autocommit=True) as conn:
            wait_quiet(conn, database)
            row = conn.execute(
                "SELECT xact_commit, pg_current_wal_lsn() - '0/0'::pg_lsn FROM pg_stat_database"
                " WHERE datname = %s",
                (database,),
            ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    def per_job(self, before: tuple[int, int], after: tuple[int, int]) -> list[float | None]:
        return [(after[0] - before[0]) / self.jobs, (after[1] - before[1]) / self.jobs]

    def drop(self, target: Target) -> None:
        if not target.is_sqlite:
            with psycopg.connect(self.admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE "{target.name}" WITH (FORCE)')


def libpq(url: str) -> str:
    """The libpq form of a SQLAlchemy PostgreSQL URL."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def wait_quiet(conn: psycopg.Connection[tuple[object, ...]], database: str) -> None:
    """Until every backend of `database` has exited (and so flushed its statistics)."""
    deadline = time.monotonic() + QUIET_TIMEOUT
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
    while (row := conn.execute(query, (database,)).fetchone()) and row[0]:
        if time.monotonic() > deadline:
            warn(f"{database}: backends still connected; its commit count may be short")
            return
        time.sleep(0.01)


def warn(message: str) -> None:
    print(f"\n!!!!! WARNING: {message} !!!!!\n", flush=True)


# -- the systems -------------------------------------------------------------------------------


def prepare(system: System, target: Target, jobs: int) -> None:
    """Create `jobs` runnable no-op jobs of `system` in `target`."""
    if system.kind == "ideal":
        with psycopg.connect(target.dsn, autocommit=True) as conn:
            conn.execute(IDEAL_SCHEMA % int(jobs))
            conn.execute("VACUUM ANALYZE ideal_job")
        return
    argument = target.dsn if system.kind == "procrastinate" else target.url
    setup = [sys.executable, SCRIPT, "--worker", f"{system.kind}-setup", argument, str(jobs)]
    with (target.folder / "setup.log").open("w") as log:
        done = subprocess.run(
            setup, check=False, env=environment(system), cwd=target.folder, stdout=log, stderr=log
        )
    if done.returncode:
        log = (target.folder / "setup.log").read_text()
        sys.exit(f"{system.label}: set-up failed (procrastinate: pip install .[bench]):\n{log}")


def command(system: System, target: Target) -> list[str]:
    """How one worker of `system` is started on `target`."""
    if system.kind != "bt":
        return [sys.executable, SCRIPT, "--worker", system.kind, target.dsn]
    folder = target.folder
    return [
        sys.executable, "-m", "bt.cli.runner", "-u", target.url, "--tasks", "noop",
        "--log-dir", str(folder / "logs"), "--work-dir", str(folder / "work"),
    ]  # fmt: skip


def environment(system: System) -> dict[str, str]:
    """The workers' environment: bt from `system.tree` first when given."""
    if system.tree is None:
        return dict(os.environ)
    return {**os.environ, "PYTHONPATH": str(system.tree)}


def run_workers(commands: list[list[str]], system: System, target: Target) -> float:
    """Start the workers together and wait for them all; seconds from the first start."""
    env, began = environment(system), time.perf_counter()
    with (target.folder / "workers.log").open("w") as log:
        procs = [
            subprocess.Popen(argv, env=env, cwd=target.folder, stdout=log, stderr=log)
            for argv in commands
        ]
        codes = [proc.wait() for proc in procs]
    wall = time.perf_counter() - began
    if any(codes):
        warn(f"{system.label}: worker exit codes {codes}; see {target.folder / 'workers.log'}")
    return wall


def finished(system: System, target: Target) -> tuple[int, dt.datetime | None, dt.datetime | None]:
    """(jobs ended well, first start, last end) by the database's own timestamps."""
    query = FINISHED[system.kind]
    if target.is_sqlite:
        with sqlite3.connect(target.url.removeprefix("sqlite:///")) as conn:
            done, first, last = conn.execute(query).fetchone()
        return done, _parsed(first), _parsed(last)
    with psycopg.connect(target.dsn) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def _parsed(stamp: str | None) -> dt.datetime | None:
    return None if stamp is None else dt.datetime.fromisoformat(stamp)


# -- worker processes (they import psycopg and their own system only) ---------------------------


def ideal_worker(dsn: str) -> None:
    """Claim, fork a child that exits at once, wait for it, finish; until nothing is left."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        while row := conn.execute(IDEAL_CLAIM, (secrets.token_hex(8),)).fetchone():
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            os.waitpid(pid, 0)
            conn.execute(IDEAL_FINISH, row)


def procrastinate_app(dsn: str) -> tuple[object, object]:
    """A procrastinate app on `dsn` with an async no-op task named `noop` (and that task)."""
    from procrastinate import App, PsycopgConnector

    app = App(connector=PsycopgConnector(conninfo=dsn, min_size=1, max_size=10))

    @app.task(name="noop")
    async def noop() -> None:
        pass

    return app, noop


async def procrastinate_setup(dsn: str, jobs: int) -> None:
    app, noop = procrastinate_app(dsn)
    async with app.open_async():  # type: ignore[attr-defined]
        await app.schema_manager.apply_schema_async()  # type: ignore[attr-defined]
        await noop.batch_defer_async(*([{}] * jobs))  # type: ignore[attr-defined]


async def procrastinate_worker(dsn: str) -> None:
    app, _noop = procrastinate_app(dsn)
    async with app.open_async():  # type: ignore[attr-defined]
        await app.run_worker_async(  # type: ignore[attr-defined]
            wait=False, concurrency=1, install_signal_handlers=False
        )


def bt_setup(url: str, jobs: int) -> None:
    """Migrate a fresh bt database and create `jobs` QUEUED no-op jobs (with the bt on the path)."""
    from bt.client import Brownthrower
    from bt.db import Database
    from bt.schema import upgrade
    from bt.values import JobSpec, NodeSpec

    db = Database(url)
    upgrade(db)
    app = Brownthrower(db)
    app.jobs.create_graph([NodeSpec(i, JobSpec("noop"), True) for i in range(jobs)])
    app.close()


def worker(kind: str, *arguments: str) -> None:
    """The body of a worker or set-up process (`--worker KIND ARG...`)."""
    match kind:
        case "ideal":
            ideal_worker(arguments[0])
        case "procrastinate":
            asyncio.run(procrastinate_worker(arguments[0]))
        case "procrastinate-setup":
            asyncio.run(procrastinate_setup(arguments[0], int(arguments[1])))
        case "bt-setup":
            bt_setup(arguments[0], int(arguments[1]))
        case _:
            sys.exit(f"unknown worker kind {kind!r}")


# -- the run and its report ---------------------------------------------------------------------


def systems(only: list[str], trees: list[Path]) -> list[System]:
    wanted = only or list(KINDS)
    chosen = [System(kind) for kind in KINDS if kind in wanted and kind != "bt"]
    if "bt" in wanted:
        for tree in [None, *trees]:
            chosen += [System("bt", "postgresql", tree), System("bt", "sqlite", tree)]
    return chosen


def rounds(chosen: list[System], count: int, workers: list[int]) -> Iterator[tuple[System, int]]:
    """Every system with every worker count, round after round, the order rotating."""
    for round_ in range(count):
        shift = round_ % len(chosen)
        for n in workers:
            for system in chosen[shift:] + chosen[:shift]:
                yield system, n


def describe(sample: Sample) -> str:
    costs = ""
    if sample.commits is not None and sample.wal is not None:
        costs = f", {sample.commits:.2f} commits/job, {sample.wal:.0f} WAL bytes/job"
    return f"{sample.rate:7.1f} jobs/s (wall {sample.wall:.1f}){costs}"


def spread(values: list[float], digits: int = 1) -> str:
    if not values:
        return "-"
    med, low, high = statistics.median(values), min(values), max(values)
    return f"{med:.{digits}f} ({low:.{digits}f}-{high:.{digits}f})"


def report(results: dict[tuple[System, int], list[Sample]], workers: list[int]) -> None:
    print("\nsystem              workers  jobs/s by database     jobs/s wall            "
          "commits/job       WAL bytes/job")  # fmt: skip
    for (system, n), samples in results.items():
        commits = [s.commits for s in samples if s.commits is not None]
        wal = [s.wal for s in samples if s.wal is not None]
        print(f"{system.label:20s} {n:6d}  {spread([s.rate for s in samples]):22s} "
              f"{spread([s.wall for s in samples]):22s} {spread(commits, 2):17s} "
              f"{spread(wal, 0)}")  # fmt: skip
    for system in dict.fromkeys(s for s, _ in results):
        if system.kind == "bt" and system.database == "postgresql":
            for peer in ("procrastinate", "ideal"):
                ratios(system, System(peer), results, workers)


def ratios(
    bt: System, peer: System, results: dict[tuple[System, int], list[Sample]], workers: list[int]
) -> None:
    """bt / peer: of the medians, and the range of the rounds' own ratios."""
    for n in workers:
        mine, theirs = results.get((bt, n)), results.get((peer, n))
        if not mine or not theirs:
            continue
        for clock in ("rate", "wall"):
            a, b = [getattr(s, clock) for s in mine], [getattr(s, clock) for s in theirs]
            paired = [x / y for x, y in zip(a, b, strict=False) if y] or [0.0]
            print(f"{bt.label} / {peer.label} x{n} ({'database' if clock == 'rate' else 'wall'}):"
                  f" {statistics.median(a) / statistics.median(b):.2f}"
                  f" (rounds {min(paired):.2f}-{max(paired):.2f})")  # fmt: skip


def header(admin: str, args: argparse.Namespace) -> None:
    with psycopg.connect(libpq(admin)) as conn:
        settings = [
            f"{name}={conn.execute(f'SHOW {name}').fetchone()[0]}"  # type: ignore[index]
            for name in ("server_version", "fsync", "synchronous_commit")
        ]
    print(f"compare: {os.cpu_count()} CPUs, {args.jobs} no-op jobs, {args.rounds} round(s), "
          f"workers {args.runners}; PostgreSQL {' '.join(settings)}")  # fmt: skip
    print("jobs/s by database = jobs / (last end - first start) by the database's timestamps; "
          "wall = from the first worker's start to the last one's exit")  # fmt: skip


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000, help="no-op jobs per run (2000)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument("--runners", type=int, nargs="+", default=[1, 2], help="worker counts")
    parser.add_argument("--only", choices=KINDS, action="append", default=[], help="repeatable")
    parser.add_argument("--bt-path", type=Path, action="append", default=[], metavar="DIR",
                        help="also run bt-runner from this source tree (repeatable)")  # fmt: skip
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse()
    if args.worker:
        worker(*args.worker)
        return
    sys.path.insert(0, str(ROOT))  # not at the top: workers (bt from --bt-path) run this file too
    from bench.common import postgresql_cluster

    chosen = systems(args.only, [tree.resolve() for tree in args.bt_path])
    results: dict[tuple[System, int], list[Sample]] = {
        (system, n): [] for n in args.runners for system in chosen
    }
    tmp = Path(tempfile.mkdtemp(prefix="bt-compare-"))
    tmp.chmod(0o755)
    with postgresql_cluster() as admin:
        header(admin, args)
        bench = Bench(admin, tmp, args.jobs)
        for system, n in rounds(chosen, args.rounds, args.runners):
            sample = bench.measure(system, n)
            results[system, n].append(sample)
            print(f"  {system.label:20s} x{n}: {describe(sample)}", flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    report(results, args.runners)


if __name__ == "__main__":
    main()
