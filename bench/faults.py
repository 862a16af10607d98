"""Fault injection: a DAG of 1,000+ jobs (layers of linked jobs, superjobs with subjobs) drained
by looping runners while they are killed -9, stopped with SIGSTOP past their lease, PostgreSQL
restarts and every connection is killed again and again.

    .venv/bin/python bench/faults.py [--runners 3] [--lease 5] [--rounds 2]

Runs on its own PostgreSQL cluster (fsync and synchronous_commit on). Every run of a job holds a
lock file, so two runs of one job at the same time are journalled as an overlap. Prints jobs,
DONE, FAILED, stuck, overlapping runs and the recovery time after each kill; asserts nothing.
Needs the test tasks (`scripts/bootstrap --dev`).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bt import Brownthrower, JobSpec, NodeSpec
from bt.db import Database
from bt.schema import upgrade

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = str(ROOT / "scripts" / "pg-cluster")
RUNNER = str(ROOT / ".venv" / "bin" / "bt-runner")
ACTIVE = ("QUEUED", "RUNNING", "STAND-BY")


def cluster(base: Path, command: str) -> str:
    env = {**os.environ, "PG_FSYNC": "on", "PG_SYNC_COMMIT": "on"}
    done = subprocess.run([SCRIPT, command, str(base)], env=env, check=True, capture_output=True)
    return done.stdout.decode().strip()


def build_dag(app: Brownthrower, folder: Path, layers: int, width: int, supers: int) -> int:
    """Layers of journal jobs, each linked to two of the layer above, plus superjobs; the count."""
    config = f"{{dir: {folder}, sleep: 0.3}}"
    nodes, links = [], []
    for layer in range(layers):
        for i in range(width):
            nodes.append(NodeSpec((layer, i), JobSpec("journal", config=config), submit=True))
            if layer:
                links += [((layer - 1, p), (layer, i)) for p in random.sample(range(width), 2)]
    scatter = f"{{dir: {folder}, sleep: 0.3, subjobs: 10}}"
    nodes += [
        NodeSpec(("s", i), JobSpec("scatter", config=scatter), submit=True) for i in range(supers)
    ]
    app.jobs.create_graph(nodes, links)
    return len(nodes) + supers * 10


class Runners:
    """Looping `bt-runner`s, restartable."""

    def __init__(self, url: str, folder: Path, count: int, lease: float) -> None:
        self.env = {**os.environ, "BT_DATABASE_URL": url}
        self.folder, self.lease = folder, lease
        self.procs = [self.start(i) for i in range(count)]

    def start(self, index: int) -> subprocess.Popen[bytes]:
        log = open(self.folder / f"runner{index}.log", "ab")  # noqa: SIM115 - lives with the runner
        argv = [RUNNER, "--loop", "--slots", "3", "--lease", str(self.lease), "--tasks",
                "journal", "scatter", "--log-dir", str(self.folder / "logs"),
                "--work-dir", str(self.folder / "work")]  # fmt: skip
        return subprocess.Popen(argv, env=self.env, stdout=log, stderr=log, cwd=self.folder)

    def kill(self, index: int) -> float:
        """kill -9 a runner alone (its fork server and jobs must fence themselves); the time."""
        self.procs[index].kill()
        self.procs[index].wait()
        moment = time.time()
        self.procs[index] = self.start(index)
        return moment

    def pause(self, index: int, seconds: float) -> None:
        os.kill(self.procs[index].pid, signal.SIGSTOP)
        time.sleep(seconds)
        os.kill(self.procs[index].pid, signal.SIGCONT)

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            proc.wait(timeout=60)


def kill_connections(url: str, seconds: float) -> None:
    libpq = make_url(url).set(drivername="postgresql").render_as_string(False)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with psycopg.connect(libpq, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND datname = current_database()"
            )
        time.sleep(0.7)


def chaos_round(runners: Runners, base: Path, url: str, lease: float) -> list[float]:
    """One round of every fault; the kill times."""
    kills = [runners.kill(0)]
    time.sleep(lease)
    runners.pause(1, 2.5 * lease)
    time.sleep(lease)
    cluster(base, "halt")
    time.sleep(6)
    cluster(base, "resume")
    time.sleep(lease)
    kill_connections(url, 10)
    kills.append(runners.kill(len(runners.procs) - 1))
    return kills


def active(app: Brownthrower) -> int:
    counts = app.jobs.counts()
    return sum(counts[s] for s in ACTIVE)


def drain(app: Brownthrower, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout and active(app):
        time.sleep(1)
    return time.monotonic() - start


def recoveries(app: Brownthrower, kills: list[float]) -> list[float]:
    """For each kill, seconds until the first job of a lost runner went back to the queue."""
    lost = [
        e.at.timestamp()
        for job in app.jobs.list([], limit=10_000).jobs
        for e in app.jobs.events(job.id)
        if e.reason == "runner lost"
    ]
    return [min((t - k for t in lost if t > k), default=float("nan")) for k in kills]


def report(
    app: Brownthrower, folder: Path, total: int, kills: list[float], *, seconds: float, lease: float
) -> None:
    counts = app.jobs.counts()
    journal = (folder / "journal").read_text().splitlines()
    overlaps = sum(" overlap " in line for line in journal)
    runs = sum(" start " in line for line in journal)
    stuck = sum(counts[s] for s in ACTIVE)
    print(f"jobs {total:,}: DONE {counts['DONE']:,}, FAILED {counts['FAILED']:,}, stuck {stuck}")
    print(f"runs {runs:,}, overlapping runs {overlaps}, drained in {seconds:.0f} s")
    shown = ", ".join(f"{r:.1f} s" for r in recoveries(app, kills))
    print(f"recovery after kill -9 (lease {lease:g} s): {shown}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runners", type=int, default=3)
    parser.add_argument("--lease", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bt-faults-") as tmp:
        folder = Path(tmp)
        folder.chmod(0o755)
        base = folder / "pg"
        url = cluster(base, "start").splitlines()[-1]
        try:
            db = Database(url)
            upgrade(db)
            app = Brownthrower(db)
            total = build_dag(app, folder, layers=10, width=58, supers=40)
            runners = Runners(url, folder, args.runners, args.lease)
            start = time.monotonic()
            kills = [
                k
                for _ in range(args.rounds)
                if active(app)
                for k in chaos_round(runners, base, url, args.lease)
            ]
            drain(app, timeout=600)
            seconds = time.monotonic() - start
            runners.stop()
            report(app, folder, total, kills, seconds=seconds, lease=args.lease)
            app.close()
        finally:
            cluster(base, "stop")


if __name__ == "__main__":
    main()
