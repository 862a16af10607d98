"""Claim throughput of jobs that hold a concurrency limit against jobs that hold none.

    .venv/bin/python bench/limits.py [--jobs 2000] [--rounds 3] [--pg URL] [--runners 1]

For each database (SQLite file; PostgreSQL when `--pg` gives a server's maintenance URL) and
each kind of job, on a fresh database per run, in rounds whose order rotates:

- `unlimited`: N no-op jobs without limits;
- `limited`: N no-op jobs holding a unit of a limit whose capacity never binds (N);
- `limited 4`: the same with capacity 4 (with one runner of one slot it never binds either,
  but every claim finds the limit's row at the edge).

Two figures per run: `service` is claims + finishes per second of an in-process loop
(`ClaimService.claim_many(..., 1)` then `finish`: the database path alone); `runner` is jobs per
second of `bt-runner` draining the queue (`--runners` processes of one slot), by the jobs' own
timestamps (first start to last end). Prints medians; asserts nothing. Needs the test tasks
(`scripts/bootstrap --dev`).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bt import Brownthrower, JobSpec, NodeSpec, RunResult
from bt.models import Job

KINDS = {"unlimited": None, "limited": 0, "limited 4": 4}  #: capacity (0: the job count)


def fresh(kind: str, base: str | None, tmp: Path, jobs: int) -> tuple[str, Brownthrower]:
    if base is None:
        url = f"sqlite:///{tmp / f'{uuid.uuid4().hex}.db'}"
    else:
        name = f"bench_limits_{uuid.uuid4().hex[:10]}"
        admin = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
    app = Brownthrower.open(url, auto_upgrade=True)
    capacity = KINDS[kind]
    limits = None
    if capacity is not None:
        app.limits.set("pool", capacity or jobs)
        limits = {"pool": 1}
    app.jobs.create_graph([NodeSpec(i, JobSpec("noop", limits=limits), True) for i in range(jobs)])
    return url, app


def service_rate(app: Brownthrower, jobs: int) -> float:
    who = app.runners.register(host="bench", pid=1, slots=1, tasks=["noop"], lease=600)
    start = time.perf_counter()
    done = 0
    while claimed := app.claims.claim_many(who.id, ["noop"], 1):
        for claim in claimed:
            app.claims.finish(claim, RunResult(output="1"))
            done += 1
    assert done == jobs, done
    return done / (time.perf_counter() - start)


def runner_rate(url: str, app: Brownthrower, jobs: int, runners: int, tmp: Path) -> float:
    command = [sys.executable, "-m", "bt.cli.runner", "-u", url, "--tasks", "noop"]
    command += ["--log-dir", str(tmp / "logs"), "--work-dir", str(tmp / "work")]
    started = [
        subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(runners)
    ]
    for process in started:
        process.wait(timeout=600)
    with app.db.read() as session:
        first, last, count = session.execute(
            select(func.min(Job.ts_started), func.max(Job.ts_ended), func.count()).where(
                Job.status == "DONE"
            )
        ).one()
    assert count == jobs, count
    return float(jobs / (last - first).total_seconds())


def drop(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    admin = parsed.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runners", type=int, default=1)
    parser.add_argument("--pg", help="a PostgreSQL maintenance URL (postgresql+psycopg://...)")
    args = parser.parse_args()
    databases = {"sqlite": None, **({"postgresql": args.pg} if args.pg else {})}
    results: dict[tuple[str, str, str], list[float]] = {}
    kinds = list(KINDS)
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        for round_ in range(args.rounds):
            order = kinds[round_ % len(kinds) :] + kinds[: round_ % len(kinds)]
            for db, base in databases.items():
                for kind in order:
                    for what in ("service", "runner"):
                        url, app = fresh(kind, base, tmp, args.jobs)
                        try:
                            rate = (
                                service_rate(app, args.jobs)
                                if what == "service"
                                else runner_rate(url, app, args.jobs, args.runners, tmp)
                            )
                        finally:
                            app.close()
                            drop(url)
                        results.setdefault((db, kind, what), []).append(rate)
                        print(f"round {round_ + 1} {db:10} {kind:10} {what:7} {rate:8.1f}/s")
    print(f"\nmedians of {args.rounds} rounds, {args.jobs} jobs, {args.runners} runner(s):")
    for db in databases:
        base_rates = {
            w: statistics.median(results[(db, "unlimited", w)]) for w in ("service", "runner")
        }
        for kind in kinds:
            cells = []
            for what in ("service", "runner"):
                rate = statistics.median(results[(db, kind, what)])
                cells.append(f"{what} {rate:7.1f}/s ({rate / base_rates[what]:4.0%})")
            print(f"  {db:10} {kind:10} " + "  ".join(cells))


if __name__ == "__main__":
    main()
