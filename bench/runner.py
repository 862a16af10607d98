"""Runner benchmark: end-to-end no-op throughput and abort latency, on SQLite and PostgreSQL.

    .venv/bin/python bench/runner.py [--jobs N] [--aborts N] [--measure throughput aborts]

Starts its own PostgreSQL cluster (scripts/pg-cluster) with default durability (fsync and
synchronous_commit on), and for each database: N no-op jobs through 1 and then 2 real `bt-runner`
processes (claim -> isolated job process -> finish), then the latency from an abort's commit to
the death of the job's process, each abort at a random moment of the job's first
`ABORT_WITHIN` seconds. Throughput is N / (last end - first start), from the database's own
timestamps, so runner start-up is not counted (the wall time with start-up is shown too).
`bench/compare.py` measures throughput against the peers. Needs the test tasks
(`scripts/bootstrap --dev`). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bt.client import Brownthrower
from bt.db import Database
from bt.models import Job
from bt.schema import upgrade
from bt.values import JobSpec, NodeSpec

ROOT = Path(__file__).resolve().parents[1]
RUNNER = [sys.executable, "-m", "bt.cli.runner"]
ABORT_WITHIN = 2.0  #: seconds: each abort comes at a random moment of its job's first ones


def start_cluster(base: Path) -> str:
    env = {**os.environ, "PG_FSYNC": "on", "PG_SYNC_COMMIT": "on"}
    out = subprocess.run(
        [str(ROOT / "scripts" / "pg-cluster"), "start", str(base)],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return out.stdout.strip().splitlines()[-1]


def stop_cluster(base: Path) -> None:
    subprocess.run([str(ROOT / "scripts" / "pg-cluster"), "stop", str(base)], check=False)


def fresh_database(kind: str, admin: str, tmp: Path, name: str) -> str:
    if kind == "sqlite":
        url = f"sqlite:///{tmp / (name + '.db')}"
    else:
        libpq = make_url(admin).set(drivername="postgresql").render_as_string(False)
        with psycopg.connect(libpq, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = make_url(admin).set(database=name).render_as_string(False)
    db = Database(url)
    upgrade(db)
    db.dispose()
    return url


def throughput(url: str, jobs: int, runners: int, tmp: Path) -> tuple[float, float]:
    """(jobs/s by the database clock, jobs/s by the wall clock with start-up)."""
    app = Brownthrower(Database(url))
    app.jobs.create_graph([NodeSpec(i, JobSpec("noop"), True) for i in range(jobs)])
    begin = time.perf_counter()
    command = [*RUNNER, "-u", url, "--tasks", "noop", "--log-dir", str(tmp / "logs"),
               "--work-dir", str(tmp / "work")]  # fmt: skip
    procs = [subprocess.Popen(command, stderr=subprocess.DEVNULL) for _ in range(runners)]
    for proc in procs:
        proc.wait()
    wall = time.perf_counter() - begin
    with app.db.read() as session:
        done, first, last = session.execute(
            select(func.count(), func.min(Job.ts_started), func.max(Job.ts_ended)).where(
                Job.status == "DONE"
            )
        ).one()
    app.close()
    assert done == jobs and first and last, f"only {done} of {jobs} jobs are DONE"
    return jobs / (last - first).total_seconds(), jobs / wall


def abort_latency(url: str, count: int, tmp: Path) -> list[float]:
    """Seconds from each abort's commit to the end of the job's process."""
    app = Brownthrower(Database(url))
    work = tmp / "abort-work"
    command = [*RUNNER, "-u", url, "--tasks", "hang", "--loop", "--log-dir", str(tmp / "logs"),
               "--work-dir", str(work)]  # fmt: skip
    runner = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    latencies: list[float] = []
    try:
        for _ in range(count):
            job = app.jobs.create(JobSpec("hang"), submit=True).id
            pid = int(_wait_for_file(work / str(job) / "pid"))
            time.sleep(random.uniform(0.0, ABORT_WITHIN))
            app.jobs.abort(job)
            aborted = time.perf_counter()
            while _alive(pid):
                time.sleep(0.0005)
            latencies.append(time.perf_counter() - aborted)
    finally:
        runner.terminate()
        runner.wait()
        app.close()
    return latencies


def _wait_for_file(path: Path, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return path.read_text()
        time.sleep(0.005)
    raise TimeoutError(f"{path} never appeared")


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


MEASURES = ("throughput", "aborts")


def measure_throughput(kind: str, admin: str, tmp: Path, jobs: int) -> None:
    for runners in (1, 2):
        url = fresh_database(kind, admin, tmp, f"tp_{runners}")
        db_rate, wall_rate = throughput(url, jobs, runners, tmp)
        print(f"{kind:10s} {runners} runner(s): {db_rate:7.1f} jobs/s "
              f"({wall_rate:.1f} jobs/s counting start-up)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=3000, help="no-op jobs per run (3000)")
    parser.add_argument("--aborts", type=int, default=40, help="aborts measured per database")
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument(
        "--measure", nargs="+", choices=MEASURES, default=list(MEASURES), help="what to measure"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bt-bench-runner-"))
    tmp.chmod(0o755)
    admin = start_cluster(tmp / "pg") if "postgresql" in args.databases else ""
    try:
        print(f"bt-runner benchmark: {os.cpu_count()} CPUs, {args.jobs} no-op jobs per run")
        for kind in args.databases:
            if "throughput" in args.measure:
                measure_throughput(kind, admin, tmp, args.jobs)
            if "aborts" not in args.measure:
                continue
            url = fresh_database(kind, admin, tmp, "aborts")
            lat = abort_latency(url, args.aborts, tmp / kind)
            p50, p99 = statistics.median(lat) * 1000, percentile(lat, 0.99) * 1000
            print(f"{kind:10s} abort latency over {len(lat)} aborts: p50 {p50:.1f} ms, "
                  f"p99 {p99:.1f} ms, max {max(lat) * 1000:.1f} ms")  # fmt: skip
    finally:
        if admin:
            stop_cluster(tmp / "pg")


if __name__ == "__main__":
    main()
