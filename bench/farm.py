"""A farm of pilots on one PostgreSQL: connections, refusals, idle cost, drain and abort latency.

    .venv/bin/python bench/farm.py [--pilots 30] [--mode direct|pooled|both] [--jobs 2000]
        [--idle-seconds 60] [--warmup 30] [--aborts 20] [--max-connections 100] [--lease 30]
        [--pool-size 20] [--simulate N [--sim-procs P]] [--bt-path DIR ...] [--keep]

Each configuration gets a throwaway PostgreSQL cluster (`scripts/pg-cluster`; fsync and
synchronous_commit on, `max_connections` left at 100) with a database `bt` owned by a plain role
`bt` (not a superuser: like a site's, its clients cannot take the slots reserved for
superusers), and in pooled mode a throwaway PgBouncer in transaction mode in front of it
(`scripts/pgbouncer`, pool size 20). Then:

1. N pilots are started, 10 at a time: real `bt-runner --loop --tasks record hang` processes,
   each in its own process group with its own `--log-dir`/`--work-dir` (`--pooled` in pooled
   mode), or with `--simulate N`, N pilot loops run in-process by a few processes of threads:
   each a `bt.db.Database(single=True)` of its own (one connection, like a runner) that
   registers, beats (every lease/4 while it holds work, lease/2 while idle, recovering lost
   runners when it wins the chore), claims with the runner's `ClaimPacer` backoff and settles
   every claimed job at once (`ClaimService.settle` with a refill of one, as a one-slot runner
   records a run and claims the next in one commit), and unregisters at the end.
2. After a warm-up (the pilots' idle backoff reaches its maximum), an idle window: the bt
   database's transactions (`pg_stat_database`) and the CPU of the PostgreSQL (and PgBouncer)
   processes (`/proc`), the pilots' connections and RSS.
3. The drain: M `record` jobs submitted in one go (Python API, direct connection), timed until
   none is QUEUED or RUNNING; meanwhile 5 `brownthrower status` and a piped script of 200
   `job create noop` lines, as a user of the farm would. Jobs run more than once are read from
   the `record` file (one line per execution) and the attempts' times (`job history`).
4. Real pilots on this tree: K `hang` jobs aborted at random moments (`app.jobs.abort`), timed
   until their process is dead.

Server connections are counted from a monitoring connection to the `postgres` database every
0.2 s (`pg_stat_activity` rows of database `bt`, the bench's own excluded). Backends publish
their transaction counts up to seconds late, so short idle windows are noisy: keep the defaults
(60 s after 30 s of warm-up) for figures to quote. `--bt-path DIR` runs
the real pilots, the shell and the set-up from another source tree (`PYTHONPATH=DIR`), e.g.
`git worktree add /tmp/farm-base f99874b^`: a tree whose `bt-runner` has no `--pooled` runs
through PgBouncer without it. Needs PostgreSQL, PgBouncer and the test tasks
(`scripts/bootstrap --dev`). Prints figures; asserts nothing. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import inspect
import itertools
import json
import logging
import math
import multiprocessing
import os
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import psycopg

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = str(Path(__file__).resolve())
BIN = Path(sys.executable).parent  #: the venv's bin: bt-runner and brownthrower
DB_NAME = "bt"  #: the farm's database, owned by the role of the same name
DB_ROLE = "bt"
BENCH_APP = "bt-farm"  #: application_name prefix of the bench's own connections (not counted)
SIM_APP = "bt-sim"  #: application_name of the simulated pilots' connections
TASKS = ("record", "hang")  #: what the pilots run
START_BATCH = 10  #: pilots started at a time
BATCH_WAIT = 30.0  #: seconds a batch may take to register before the next one starts anyway
REGISTER_WAIT = 60.0  #: seconds for the last pilots to register after the last batch started
SAMPLE_EVERY = 0.2  #: seconds between connection counts
PER_PILOT_EVERY = 1.0  #: seconds between counts of each pilot's own connections (from /proc)
STATUS_RUNS = 5  #: `brownthrower status` runs during the drain
SCRIPT_LINES = 200  #: `job create noop` lines piped into the shell during the drain
SHELL_TIMEOUT = 120.0  #: seconds a shell command may take
DRAIN_STALL = 120.0  #: seconds without a job ending before the drain is given up
ABORT_WITHIN = 2.0  #: seconds: each abort comes at a random moment of these once its job runs
ABORT_WAIT = 60.0  #: seconds for the hang jobs to be running, and for each to die
STOP_WAIT = 20.0  #: seconds pilots get to exit after SIGTERM before SIGKILL
ERROR_MARKS = (
    "FATAL",
    "too many clients",
    "remaining connection slots",
    "database_unreachable",
    "_failed",
)
NOT_AN_ERROR = re.compile(r"\bjob_failed job=")  #: a task's own failure, not a connection error
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

log = logging.getLogger("bt.runner")


def progress(message: str) -> None:
    """A progress line on stderr, stamped with the time of day."""
    print(f"[farm {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def libpq(url: str) -> str:
    """The libpq form of a SQLAlchemy PostgreSQL URL."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def with_database(url: str, name: str, user: str | None = None) -> str:
    """`url` naming database `name` (and `user`, when given) instead of its own."""
    base, _, _ = url.rpartition("/")
    if user is not None:
        scheme, _, rest = base.partition("://")
        base = f"{scheme}://{user}@{rest.split('@', 1)[-1]}"
    return f"{base}/{name}"


def url_port(url: str) -> int:
    """The TCP port of a PostgreSQL URL."""
    return int(url.rsplit(":", 1)[1].split("/", 1)[0])


# -- what one run is, and what it found ------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Configuration:
    """One line of the table: direct or pooled, real or simulated pilots, from which tree."""

    pooled: bool
    pilots: int
    simulate: bool = False
    tree: Path | None = None

    @property
    def label(self) -> str:
        kind = "sim" if self.simulate else "real"
        where = "" if self.tree is None else f" @{self.tree.name}"
        return f"{kind} {'pooled' if self.pooled else 'direct'} x{self.pilots}{where}"

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.label.lower()).strip("-")

    def env(self) -> dict[str, str]:
        """The environment of the pilots, shells and set-up: no bt settings from outside, bt
        from `tree` first when given (else from this process's path)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("BT_")}
        if self.tree is not None:
            env["PYTHONPATH"] = str(self.tree)
        return env


@dataclasses.dataclass
class Result:
    """What one configuration measured; None where it was not measured."""

    label: str
    jobs: int
    started: int = 0
    registered: int = 0
    alive: int | None = None
    register_s: float | None = None
    idle_conns: int | None = None
    peak_conns: int | None = None
    per_pilot: int | None = None
    errors: int | None = None
    error_pilots: int | None = None
    status_refused: int | None = None
    created: int | None = None
    idle_xact: float | None = None
    pg_cpu: float | None = None
    bouncer_cpu: float | None = None
    rss_mb: float | None = None
    drain_s: float | None = None
    done: int | None = None
    twice: int | None = None
    overlaps: int | None = None
    aborts: list[float] = dataclasses.field(default_factory=list)
    abort_missed: int = 0
    notes: list[str] = dataclasses.field(default_factory=list)


# -- the throwaway servers -------------------------------------------------------------------


def run_script(argv: list[str], env: dict[str, str]) -> str:
    """Run one of `scripts/`, in its own session (Ctrl-C must not reach the servers it
    starts); the last line it printed."""
    done = subprocess.run(
        argv, env=env, capture_output=True, text=True, start_new_session=True, check=False
    )
    if done.returncode:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.strip() or done.stdout}")
    return done.stdout.strip().splitlines()[-1]


class Cluster:
    """A throwaway PostgreSQL cluster with fsync and synchronous commit on."""

    def __init__(self, folder: Path, max_connections: int) -> None:
        self.folder, self.max_connections = folder, max_connections
        self.script = str(ROOT / "scripts" / "pg-cluster")
        self.admin_url = ""  #: as the superuser, to database postgres

    def start(self) -> None:
        env = {
            **os.environ,
            "PG_FSYNC": "on",
            "PG_SYNC_COMMIT": "on",
            "PG_MAX_CONNECTIONS": str(self.max_connections),
        }
        self.admin_url = run_script([self.script, "start", str(self.folder)], env)

    def stop(self) -> None:
        subprocess.run([self.script, "stop", str(self.folder)], capture_output=True, check=False)

    @property
    def bt_url(self) -> str:
        """The farm's database, as its owner, directly."""
        return with_database(self.admin_url, DB_NAME, DB_ROLE)

    @property
    def bench_bt_url(self) -> str:
        """The farm's database as the superuser: the bench's own connections get in even when
        the pilots took every other slot (superusers have reserved ones)."""
        return with_database(self.admin_url, DB_NAME)

    def pids(self) -> list[int]:
        """The postmaster first, then every server process it started."""
        try:
            postmaster = int((self.folder / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return []
        return [postmaster, *children(postmaster)]

    def cpu(self) -> float:
        """CPU seconds used by the server so far (the postmaster counts its reaped backends)."""
        pids = self.pids()
        if not pids:
            return 0.0
        return cpu_seconds(pids[0], reaped=True) + sum(cpu_seconds(p) for p in pids[1:])


class Bouncer:
    """A throwaway PgBouncer in transaction mode in front of the farm's database."""

    def __init__(self, folder: Path, pool_size: int) -> None:
        self.folder, self.pool_size = folder, pool_size
        self.script = str(ROOT / "scripts" / "pgbouncer")
        self.url = ""

    def start(self, pg_url: str) -> None:
        env = {**os.environ, "PGBOUNCER_POOL_SIZE": str(self.pool_size)}
        printed = run_script([self.script, "start", str(self.folder), pg_url], env)
        self.url = with_database(printed, DB_NAME)

    def stop(self) -> None:
        subprocess.run([self.script, "stop", str(self.folder)], capture_output=True, check=False)

    def cpu(self) -> float:
        try:
            return cpu_seconds(int((self.folder / "pgbouncer.pid").read_text().strip()))
        except (OSError, ValueError):
            return 0.0


def create_database(cluster: Cluster) -> None:
    """The role `bt` and its database `bt` (trust authentication, as the whole cluster)."""
    with psycopg.connect(libpq(cluster.admin_url), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {DB_ROLE} LOGIN")
        conn.execute(f"CREATE DATABASE {DB_NAME} OWNER {DB_ROLE}")


# -- /proc ----------------------------------------------------------------------------------


def proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (field 3 first), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def cpu_seconds(pid: int, *, reaped: bool = False) -> float:
    """utime + stime of a process (with `reaped`: plus its waited-for children's)."""
    fields = proc_stat(pid)
    if fields is None:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLOCK_TICKS


def parents() -> dict[int, int]:
    """Every process's parent."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := proc_stat(int(entry))) is not None:
            found[int(entry)] = int(fields[1])
    return found


def offspring() -> dict[int, list[int]]:
    """Every process's children."""
    found: dict[int, list[int]] = {}
    for pid, parent in parents().items():
        found.setdefault(parent, []).append(pid)
    return found


def children(pid: int, kids: dict[int, list[int]] | None = None) -> list[int]:
    """Every descendant of `pid`."""
    kids = offspring() if kids is None else kids
    found, frontier = [], [pid]
    while frontier:
        frontier = [child for p in frontier for child in kids.get(p, [])]
        found += frontier
    return found


def alive(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie is dead: only its reaping is pending)."""
    fields = proc_stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def tcp_peers() -> dict[int, tuple[int, str]]:
    """Every TCP socket of this network namespace: inode -> (remote port, state)."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                found[int(fields[9])] = (int(fields[2].rsplit(":", 1)[1], 16), fields[3])
    return found


def socket_inodes(pid: int) -> set[int]:
    """The inodes of the sockets a process has open."""
    found = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    found.add(int(target[8:-1]))
    return found


ESTABLISHED = "01"


def connections_per_process(pids: dict[int, list[int]], port: int) -> list[int]:
    """For each group of processes (a pilot: runner and fork server), its established TCP
    connections to `port` on this host."""
    peers = tcp_peers()
    counts = []
    for group in pids.values():
        inodes = set().union(*(socket_inodes(p) for p in group))
        counts.append(sum(1 for i in inodes if peers.get(i) == (port, ESTABLISHED)))
    return counts


# -- watching the server ----------------------------------------------------------------------


Row = tuple[Any, ...]


class Monitor:
    """A connection to the `postgres` database that counts the farm's server connections every
    `SAMPLE_EVERY` (a thread), and reads the farm database's transaction counter."""

    COUNT = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
        " AND backend_type = 'client backend' AND application_name NOT LIKE %s"
    )

    def __init__(self, admin_url: str) -> None:
        self.conn: psycopg.Connection[Row] = psycopg.connect(
            libpq(admin_url), autocommit=True, application_name=f"{BENCH_APP}-monitor"
        )
        self.lock = threading.Lock()
        self.samples: list[tuple[float, int]] = []  #: (time, connections)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="farm-monitor", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopped.wait(SAMPLE_EVERY):
            with contextlib.suppress(psycopg.Error):
                row = self._one(self.COUNT, (DB_NAME, f"{BENCH_APP}%"))
                self.samples.append((time.monotonic(), int(row[0])))

    def _one(self, query: str, params: Sequence[object] = ()) -> Row:
        with self.lock:
            row = self.conn.execute(query, params).fetchone()
        assert row is not None
        return row

    def peak(self, since: float, until: float) -> int | None:
        """The most connections seen between two `time.monotonic()`s."""
        return max((n for at, n in self.samples if since <= at <= until), default=None)

    def xacts(self) -> int:
        """Transactions committed and rolled back in the farm's database so far."""
        with self.lock:
            self.conn.execute("SELECT pg_stat_clear_snapshot()")
            row = self.conn.execute(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
                (DB_NAME,),
            ).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(5)
        self.conn.close()


class Probe:
    """The bench's own reads of the farm's database (superuser, direct, not counted): never
    used during the idle window."""

    def __init__(self, dsn: str) -> None:
        self.conn: psycopg.Connection[Row] = psycopg.connect(
            dsn, autocommit=True, application_name=f"{BENCH_APP}-probe"
        )

    def scalar(self, query: str, params: Sequence[object] = ()) -> int:
        row = self.conn.execute(query, params).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def runners(self) -> int:
        return self.scalar("SELECT count(*) FROM runner")

    def jobs(self, task: str) -> int:
        return self.scalar("SELECT count(*) FROM job WHERE name = %s", (task,))

    def drain_state(self, task: str) -> tuple[int, int]:
        """(DONE, still QUEUED or RUNNING) among the jobs of `task`."""
        row = self.conn.execute(
            "SELECT count(*) FILTER (WHERE status = 'DONE'),"
            " count(*) FILTER (WHERE status IN ('QUEUED', 'RUNNING')) FROM job WHERE name = %s",
            (task,),
        ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    def retried(self, task: str) -> list[int]:
        """Jobs of `task` whose code ran more than once by their attempt counter."""
        rows = self.conn.execute(
            "SELECT id FROM job WHERE name = %s AND attempts > 1", (task,)
        ).fetchall()
        return [int(r[0]) for r in rows]

    def close(self) -> None:
        self.conn.close()


# -- bt through the configured tree: set-up, submission, history (worker processes) ----------


def bt_call(cfg: Configuration, *arguments: str) -> str:
    """Run `--worker ARGUMENTS` of this file with the configuration's bt; what it printed."""
    done = subprocess.run(
        [sys.executable, SCRIPT, "--worker", *arguments],
        env=cfg.env(), capture_output=True, text=True, check=False, cwd=tempfile.gettempdir(),
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"worker {arguments[0]} failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip()


def worker_database(url: str) -> Any:
    """A `bt.db.Database` of whatever tree is on the path, named as the bench's."""
    from bt.db import Database

    named = f"{url}?application_name={BENCH_APP}-worker"
    if "program" in inspect.signature(Database).parameters:
        return Database(named, program=f"{BENCH_APP}-worker")
    return Database(named)


def worker(kind: str, *arguments: str) -> None:
    """The body of a worker process (`--worker KIND ARG...`), with the configured tree's bt."""
    from bt.client import Brownthrower
    from bt.schema import upgrade
    from bt.values import JobSpec, NodeSpec

    db = worker_database(arguments[0])
    match kind:
        case "setup":
            upgrade(db)
        case "submit":
            task, count, config = arguments[1], int(arguments[2]), arguments[3] or None
            nodes = [NodeSpec(i, JobSpec(task, config=config), True) for i in range(count)]
            Brownthrower(db).jobs.create_graph(nodes)
            print(json.dumps({"at": time.monotonic()}))  # the clock is the system's
        case "overlaps":
            app = Brownthrower(db)
            suspects = [int(i) for i in arguments[1].split(",") if i]
            print(sum(1 for i in suspects if attempts_overlap(app.jobs.history(i))))
        case _:
            sys.exit(f"unknown worker kind {kind!r}")
    db.dispose()


def attempts_overlap(attempts: Sequence[Any]) -> bool:
    """Whether two attempts of a job ran at the same time (an unfinished one runs until now)."""
    spans = sorted(
        (a.started, a.ended or a.started.max.replace(tzinfo=a.started.tzinfo))
        for a in attempts
        if a.started is not None
    )
    return any(later[0] < earlier[1] for earlier, later in itertools.pairwise(spans))


def supports_pooled(cfg: Configuration) -> bool:
    """Whether the configuration's bt-runner has `--pooled`."""
    done = subprocess.run(
        [str(BIN / "bt-runner"), "--help"], env=cfg.env(), capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    return "--pooled" in done.stdout


# -- the pilots -------------------------------------------------------------------------------


class Farm(Protocol):
    """Pilots of one configuration, real or simulated."""

    def start(self, probe: Probe) -> float | None:
        """Start every pilot, a batch at a time; seconds until all registered (None: never)."""

    def alive(self) -> int:
        """Pilots alive now."""

    def per_pilot(self, port: int) -> int | None:
        """The most connections to `port` one pilot holds now (None: not known)."""

    def rss(self) -> float | None:
        """Mean RSS of a pilot in MB (None: not known)."""

    def error_lines(self) -> tuple[int, int, list[str]]:
        """Connection errors in the logs: lines, pilots with any, a few distinct examples."""

    def runs(self, probe: Probe) -> tuple[int, int]:
        """Drained jobs run more than once, and those whose runs overlapped in time."""

    def stop(self) -> None:
        """Stop every pilot (idempotent)."""


def wait_for(condition: Callable[[], bool], timeout: float, every: float = 0.25) -> bool:
    """Whether `condition` came true within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True


def count_errors(paths: Sequence[Path]) -> tuple[int, int, list[str]]:
    """Lines with a connection error, files with any, a few distinct ones (numbers masked)."""
    lines = files = 0
    examples: dict[str, str] = {}
    for path in paths:
        found = 0
        with contextlib.suppress(OSError), path.open(errors="replace") as stream:
            for line in stream:
                if any(m in line for m in ERROR_MARKS) and not NOT_AN_ERROR.search(line):
                    found += 1
                    text = line.split(": ", 1)[-1].strip()
                    examples.setdefault(re.sub(r"\d+", "N", text)[:100], text[:160])
        lines += found
        files += found > 0
    return lines, files, list(examples.values())[:3]


def record_path(folder: Path) -> Path:
    return folder / "record.txt"


class RealFarm:
    """N real `bt-runner --loop` processes, each in its own process group."""

    def __init__(
        self, cfg: Configuration, url: str, direct_url: str, folder: Path, lease: float
    ) -> None:
        self.cfg, self.url, self.folder, self.lease = cfg, url, folder, lease
        self.direct_url = direct_url  #: for the bench's own reads of job history
        self.procs: list[subprocess.Popen[bytes]] = []
        self.pooled_option = cfg.pooled and supports_pooled(cfg)
        self.stopped = False

    def command(self, folder: Path) -> list[str]:
        argv = [
            str(BIN / "bt-runner"), "-u", self.url, "--loop", "--tasks", *TASKS,
            "--lease", f"{self.lease:g}",
            "--log-dir", str(folder / "logs"), "--work-dir", str(folder / "work"),
        ]  # fmt: skip
        return [*argv, "--pooled"] if self.pooled_option else argv

    def spawn(self, index: int) -> None:
        folder = self.folder / "pilots" / f"{index:04d}"
        folder.mkdir(parents=True)
        with (folder / "runner.log").open("wb") as out:
            self.procs.append(
                subprocess.Popen(
                    self.command(folder),
                    cwd=folder,
                    env=self.cfg.env(),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )

    def exited(self) -> int:
        return sum(1 for p in self.procs if p.poll() is not None)

    def start(self, probe: Probe) -> float | None:
        began, n = time.monotonic(), self.cfg.pilots
        for first in range(0, n, START_BATCH):
            for index in range(first, min(n, first + START_BATCH)):
                self.spawn(index)
            wait_for(lambda: probe.runners() + self.exited() >= len(self.procs), BATCH_WAIT)
            progress(f"started {len(self.procs)}/{n}, registered {probe.runners()}, "
                     f"exited {self.exited()}")  # fmt: skip
        if wait_for(lambda: probe.runners() >= n, REGISTER_WAIT):
            return time.monotonic() - began
        return None

    def alive(self) -> int:
        return sum(1 for p in self.procs if p.poll() is None)

    def groups(self) -> dict[int, list[int]]:
        """Each live pilot's processes: the runner and its descendants."""
        kids = offspring()
        return {p.pid: [p.pid, *children(p.pid, kids)] for p in self.procs if p.poll() is None}

    def per_pilot(self, port: int) -> int | None:
        return max(connections_per_process(self.groups(), port), default=None)

    def rss(self) -> float | None:
        sizes = [sum(rss_mb(pid) for pid in group) for group in self.groups().values()]
        return statistics.mean(sizes) if sizes else None

    def error_lines(self) -> tuple[int, int, list[str]]:
        return count_errors(sorted((self.folder / "pilots").glob("*/runner.log")))

    def runs(self, probe: Probe) -> tuple[int, int]:
        try:
            counts = Counter(record_path(self.folder).read_text().split())
        except OSError:
            counts = Counter()
        twice = {int(i) for i, n in counts.items() if n > 1}
        suspects = sorted(twice | set(probe.retried("record")))
        if not suspects:
            return len(twice), 0
        return len(twice), int(bt_call(self.cfg, "overlaps", self.direct_url, join(suspects)))

    def exit_codes(self) -> Counter[int]:
        return Counter(p.returncode for p in self.procs if p.returncode is not None)

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        live = [p for p in self.procs if p.poll() is None]
        for proc in live:  # a process group is signalled only while its leader is unreaped
            signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_WAIT
        for proc in live:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.1, deadline - time.monotonic()))
        for proc in live:
            if proc.poll() is None:
                signal_group(proc.pid, signal.SIGKILL)
                proc.wait()
        for pid_file in (self.folder / "pilots").glob("*/work/*/pid"):
            self.kill_leftover(pid_file)

    def kill_leftover(self, pid_file: Path) -> None:
        """Kill a job process left running, if it still runs in its job's work directory."""
        with contextlib.suppress(OSError, ValueError):
            pid = int(pid_file.read_text())
            if Path(os.readlink(f"/proc/{pid}/cwd")) == pid_file.parent:
                os.kill(pid, signal.SIGKILL)


def signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


def join(ids: Sequence[int]) -> str:
    return ",".join(str(i) for i in ids)


# -- simulated pilots ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SimSettings:
    """What every simulated pilot of one process needs (picklable, for spawned processes)."""

    url: str
    pooled: bool
    lease: float
    idle_poll: float
    folder: str


class SimPilot(threading.Thread):
    """One pilot's loop with bt's services and no job processes: register, beat, claim with
    the runner's backoff, settle each claimed job at once, unregister."""

    def __init__(self, index: int, settings: SimSettings, stop: threading.Event) -> None:
        super().__init__(name=f"pilot-{index}", daemon=True)
        self.settings, self.stop = settings, stop
        self.registered = threading.Event()
        self.crashed = False
        self.lost = 0  #: times it was declared lost and registered again
        self.runs: list[tuple[int, float, float]] = []  #: (job, claimed, settled) wall times

    def run(self) -> None:
        try:
            self.loop()
        except Exception:
            self.crashed = True
            log.exception("pilot_crashed")
        finally:
            self.registered.set()

    def loop(self) -> None:
        from bt.db import Database
        from bt.runner.health import Backoff, Health
        from bt.runner.pacing import JITTER, ClaimPacer
        from bt.services import ClaimService, RunnerService

        s = self.settings
        self.db = Database(s.url, pooled=s.pooled, single=True, program=SIM_APP)
        self.runners, self.claims = RunnerService(self.db), ClaimService(self.db)
        self.health, self.backoff = Health(), Backoff(s.lease / 4)
        self.pacer = ClaimPacer(s.idle_poll, jitter=JITTER)
        self.runner_id: int | None = None
        self.beat_due = self.last_beat = 0.0
        self.pending: list[Any] = []  #: run ends not recorded yet (the database was away)
        self.record_due = 0.0
        self.claimed_at = 0.0  #: when the claims held were made (wall clock)
        try:
            self.cycle()
        finally:
            self.leave()

    def cycle(self) -> None:
        while not self.stop.is_set():
            if self.runner_id is None:
                self.join_farm()
                continue
            now = time.monotonic()
            if now >= self.beat_due:
                self.beat()
                if self.runner_id is None:
                    continue  # lost: register again
            if self.pending and now >= self.record_due:
                self.record([], None)
            elif not self.pending and self.pacer.due(now):
                self.work()
            wake = min(self.beat_due, self.record_due if self.pending else self.pacer.next_claim)
            self.stop.wait(max(0.0, wake - time.monotonic()))

    def join_farm(self) -> None:
        from bt import errors

        began = time.monotonic()
        try:
            info = self.runners.register(
                host=socket.gethostname(), pid=os.getpid(), slots=1, tasks=list(TASKS),
                lease=self.settings.lease,
            )  # fmt: skip
        except errors.BrownthrowerError as exc:
            self.health.failed("register", exc)
            self.stop.wait(self.backoff.next())
            return
        self.runner_id, self.last_beat = info.id, began
        self.beat_due = began + self.interval(busy=False)
        self.pacer.wake()
        self.registered.set()

    def interval(self, *, busy: bool) -> float:
        return self.settings.lease / (4 if busy else 2)

    def beat(self) -> None:
        from bt import errors

        assert self.runner_id is not None
        began, lease = time.monotonic(), self.settings.lease
        try:
            beat = self.runners.beat(self.runner_id, lease, chore_every=lease / 4)
        except errors.TokenMismatch:
            self.runner_id, self.lost = None, self.lost + 1
            log.error("runner_lost: registering again")
            return
        except errors.BrownthrowerError as exc:
            self.health.failed("heartbeat", exc)
            self.beat_due = time.monotonic() + self.backoff.next()
            return
        self.health.answered()
        self.backoff.reset()
        self.last_beat = began
        self.beat_due = began + self.interval(busy=False)
        if beat.recover:
            try:
                self.runners.recover_lost()
            except errors.BrownthrowerError as exc:
                self.health.failed("recovery", exc)

    def work(self) -> None:
        """Look for work; while some is found, finish it and claim the next in one commit."""
        from bt import errors

        assert self.runner_id is not None
        try:
            claims = self.claims.claim_many(self.runner_id, list(TASKS), 1)
        except errors.BrownthrowerError as exc:
            self.health.failed("claim", exc)
            self.pacer.after_claim(found=False, now=time.monotonic())
            return
        self.claimed_at = time.time()
        self.pacer.after_claim(found=bool(claims), now=time.monotonic())
        while claims and not self.stop.is_set():
            self.beat_due = min(self.beat_due, self.last_beat + self.interval(busy=True))
            if time.monotonic() >= self.beat_due:
                self.beat()
            if self.runner_id is None:
                return  # lost: another pilot recovers what it held
            claims = self.record(claims, self.refill())
        if claims:
            self.record(claims, None)

    def refill(self) -> Any:
        from bt.values import Refill

        assert self.runner_id is not None
        return Refill(self.runner_id, list(TASKS), 1)

    def record(self, claims: list[Any], refill: Any) -> list[Any]:
        """Settle the `claims` (run at once) and the pending ends; the claims `refill` made."""
        from bt import errors, tagnames
        from bt.values import Finished, RunResult

        tags = {tagnames.RUNNER: f"host: {socket.gethostname()}\n", tagnames.EXIT_CODE: "0"}
        ends = self.pending + [Finished(c, RunResult(), tags) for c in claims]
        try:
            settled = self.claims.settle(ends, refill)
        except errors.BrownthrowerError as exc:
            self.health.failed("job_record", exc, f" jobs={join([e.claim.job_id for e in ends])}")
            self.pending, self.record_due = ends, time.monotonic() + 1.0
            return []
        self.pending = []
        self.runs += [(c.job_id, self.claimed_at, time.time()) for c in claims]
        self.claimed_at = time.time()
        self.pacer.after_claim(found=bool(settled.claimed), now=time.monotonic())
        return list(settled.claimed)

    def leave(self) -> None:
        from bt import errors

        with contextlib.suppress(errors.BrownthrowerError):
            if self.pending:
                self.claims.settle(self.pending)
            if self.runner_id is not None:
                self.runners.unregister(self.runner_id)
        self.db.dispose()


def sim_process(index: int, count: int, settings: SimSettings, stop: Any) -> None:
    """One process of simulated pilots: start them a batch at a time, run until `stop` (a
    multiprocessing event) is set, then write what they did to `sim-INDEX.json`."""
    raise_file_limit()
    folder = Path(settings.folder)
    logging.basicConfig(
        filename=folder / f"sim-{index}.log", level=logging.WARNING,
        format="%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s",
    )  # fmt: skip
    local = threading.Event()  #: the pilots' stop (cheaper to wait on than `stop`)
    pilots = [SimPilot(index * 100_000 + i, settings, local) for i in range(count)]
    for first in range(0, count, START_BATCH):
        batch = pilots[first : first + START_BATCH]
        for pilot in batch:
            pilot.start()
        for pilot in batch:
            pilot.registered.wait(BATCH_WAIT)
        if stop.is_set():
            break
    stop.wait()
    living = sum(1 for p in pilots if p.is_alive() and not p.crashed)
    local.set()
    for pilot in pilots:
        pilot.join(30)
    summary = {
        "alive": living,
        "lost": sum(p.lost for p in pilots),
        "runs": [run for p in pilots for run in p.runs],
    }
    (folder / f"sim-{index}.json").write_text(json.dumps(summary))


class SimFarm:
    """N simulated pilots in a few processes of threads (spawned: no inherited connections)."""

    def __init__(self, cfg: Configuration, url: str, folder: Path, lease: float, procs: int):
        self.cfg, self.folder = cfg, folder
        self.settings = SimSettings(url, cfg.pooled, lease, 15.0, str(folder))
        context = multiprocessing.get_context("spawn")
        self.stop_event = context.Event()
        n, procs = cfg.pilots, max(1, min(procs, cfg.pilots))
        shares = [n // procs + (i < n % procs) for i in range(procs)]
        self.procs = [
            context.Process(
                target=sim_process, args=(i, share, self.settings, self.stop_event), daemon=True
            )
            for i, share in enumerate(shares)
        ]
        self.summaries: list[dict[str, Any]] = []

    def start(self, probe: Probe) -> float | None:
        began = time.monotonic()
        for proc in self.procs:
            proc.start()
        last, changed = -1, time.monotonic()
        while (now := time.monotonic()) - changed < BATCH_WAIT:
            registered = probe.runners()
            if registered >= self.cfg.pilots:
                return now - began
            if registered != last:
                progress(f"simulated pilots registered {registered}/{self.cfg.pilots}")
                last, changed = registered, now
            time.sleep(1.0)
        return None

    def alive(self) -> int:
        """Pilots alive: known only once they stopped (see `stop`); processes alive until."""
        if self.summaries:
            return sum(int(s["alive"]) for s in self.summaries)
        return sum(1 for p in self.procs if p.is_alive())

    def per_pilot(self, port: int) -> int | None:
        return None

    def rss(self) -> float | None:
        return None

    def error_lines(self) -> tuple[int, int, list[str]]:
        lines, _, examples = count_errors(sorted(self.folder.glob("sim-*.log")))
        pilots = set()
        for path in self.folder.glob("sim-*.log"):
            for line in path.read_text(errors="replace").splitlines():
                if any(m in line for m in ERROR_MARKS) and (m := re.search(r"pilot-\d+", line)):
                    pilots.add(m.group())
        return lines, len(pilots), examples

    def runs(self, probe: Probe) -> tuple[int, int]:
        spans: dict[int, list[tuple[float, float]]] = {}
        for summary in self.summaries:
            for job, began, ended in summary["runs"]:
                spans.setdefault(int(job), []).append((began, ended))
        twice = [sorted(runs) for runs in spans.values() if len(runs) > 1]
        overlapping = sum(
            1 for runs in twice if any(b[0] < a[1] for a, b in itertools.pairwise(runs))
        )
        return len(twice), overlapping

    def stop(self) -> None:
        if self.summaries or not any(p.pid for p in self.procs):
            return
        self.stop_event.set()
        for proc in self.procs:
            proc.join(STOP_WAIT + 30)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
        for index in range(len(self.procs)):
            with contextlib.suppress(OSError, ValueError):
                self.summaries.append(json.loads((self.folder / f"sim-{index}.json").read_text()))
        lost = sum(int(s["lost"]) for s in self.summaries)
        if lost:
            progress(f"simulated pilots declared lost and registered again: {lost}")


def raise_file_limit() -> None:
    """As many open files as allowed: a thousand pilots are a thousand sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


# -- the phases ------------------------------------------------------------------------------


class Shell:
    """`brownthrower` commands of the configuration's tree, as a user of the farm runs them."""

    def __init__(self, cfg: Configuration, url: str, pooled_option: bool, folder: Path) -> None:
        self.cfg, self.folder = cfg, folder
        self.argv = [str(BIN / "brownthrower"), "-u", url, *(["--pooled"] if pooled_option else [])]
        self.status_codes: list[int] = []
        self.failures: list[str] = []

    def run(self, extra: list[str], stdin: Any = subprocess.DEVNULL) -> int:
        try:
            done = subprocess.run(
                self.argv + extra, env=self.cfg.env(), stdin=stdin, capture_output=True,
                text=True, timeout=SHELL_TIMEOUT, check=False, cwd=self.folder,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            self.failures.append(f"{' '.join(extra) or 'script'}: timed out")
            return -1
        if done.returncode:
            first = (done.stderr.strip() or done.stdout.strip()).splitlines()[:1]
            self.failures.append(f"{' '.join(extra) or 'script'}: {' '.join(first)[:160]}")
        return done.returncode

    def statuses(self) -> None:
        for _ in range(STATUS_RUNS):
            self.status_codes.append(self.run(["status"]))
            time.sleep(0.3)

    def script(self) -> None:
        path = self.folder / "create.bt"
        path.write_text("job create noop\n" * SCRIPT_LINES)
        with path.open() as stdin:
            self.run([], stdin)


class Run:
    """One configuration from start to end: servers, pilots, the phases, the figures."""

    def __init__(self, cfg: Configuration, args: argparse.Namespace, base: Path) -> None:
        self.cfg, self.args = cfg, args
        self.folder = base / cfg.slug
        self.folder.mkdir(parents=True)
        self.folder.chmod(0o755)
        self.result = Result(cfg.label, args.jobs, started=cfg.pilots)
        self.bouncer: Bouncer | None = None
        self.pooled_option = cfg.pooled and supports_pooled(cfg)  #: the tree has --pooled

    def execute(self) -> Result:
        """Run the configuration; what it measured (up to a failure, noted)."""
        try:
            self.setup_and_run()
        except (RuntimeError, OSError, ValueError, psycopg.Error) as exc:
            progress(f"{self.cfg.label}: failed: {exc}")
            self.result.notes.append(f"failed: {str(exc).strip().splitlines()[-1][:200]}")
        return self.result

    def setup_and_run(self) -> None:
        with contextlib.ExitStack() as stack:
            cluster = Cluster(self.folder / "pg", self.args.max_connections)
            stack.callback(cluster.stop)
            cluster.start()
            self.cluster = cluster
            create_database(cluster)
            bt_call(self.cfg, "setup", cluster.bt_url)
            url = cluster.bt_url
            if self.cfg.pooled:
                self.bouncer = Bouncer(self.folder / "pgbouncer", self.args.pool_size)
                stack.callback(self.bouncer.stop)
                self.bouncer.start(cluster.bt_url)
                url = self.bouncer.url
            self.monitor = Monitor(cluster.admin_url)
            stack.callback(self.monitor.close)
            self.probe = Probe(libpq(cluster.bench_bt_url))
            stack.callback(self.probe.close)
            self.farm = self.make_farm(url)
            stack.callback(self.farm.stop)
            self.phases(url)

    def make_farm(self, url: str) -> Farm:
        if self.cfg.simulate:
            return SimFarm(self.cfg, url, self.folder, self.args.lease, self.args.sim_procs)
        farm = RealFarm(self.cfg, url, self.cluster.bench_bt_url, self.folder, self.args.lease)
        if self.cfg.pooled and not self.pooled_option:
            self.result.notes.append("bt-runner has no --pooled: run through PgBouncer as is")
        return farm

    def phases(self, url: str) -> None:
        r = self.result
        progress(f"{self.cfg.label}: starting {self.cfg.pilots} pilots")
        r.register_s = self.farm.start(self.probe)
        r.registered = self.probe.runners()
        if r.register_s is None:
            r.notes.append(f"only {r.registered} of {self.cfg.pilots} pilots registered")
        self.idle()
        self.drain(url)
        if self.args.aborts and not self.cfg.simulate and self.cfg.tree is None:
            self.abort_latency()
        r.alive = self.farm.alive()
        progress(f"{self.cfg.label}: stopping the pilots")
        self.farm.stop()
        if self.cfg.simulate:
            r.alive = self.farm.alive()
        r.twice, r.overlaps = self.farm.runs(self.probe)
        r.errors, r.error_pilots, examples = self.farm.error_lines()
        r.notes += [f"log: {line}" for line in examples]
        if isinstance(self.farm, RealFarm) and (codes := self.farm.exit_codes()):
            r.notes.append(f"pilot exit codes after SIGTERM: {dict(codes)}")

    @property
    def port(self) -> int:
        """Where the pilots connect: PostgreSQL, or PgBouncer in pooled mode."""
        return url_port(self.bouncer.url if self.bouncer else self.cluster.admin_url)

    def idle(self) -> None:
        """Warm up, then measure the idle window."""
        r, seconds = self.result, self.args.idle_seconds
        progress(f"{self.cfg.label}: warm-up {self.args.warmup:g} s, then idle {seconds:g} s")
        time.sleep(self.args.warmup)
        began, xacts, pg_cpu = time.monotonic(), self.monitor.xacts(), self.cluster.cpu()
        bouncer_cpu = self.bouncer.cpu() if self.bouncer else 0.0
        time.sleep(seconds / 2)
        r.per_pilot = self.farm.per_pilot(self.port)
        time.sleep(seconds / 2)
        r.rss_mb = self.farm.rss()
        elapsed = time.monotonic() - began
        done = self.monitor.xacts() - xacts
        r.idle_xact = done / max(1, r.registered) / elapsed
        r.pg_cpu = (self.cluster.cpu() - pg_cpu) / elapsed
        if self.bouncer:
            r.bouncer_cpu = (self.bouncer.cpu() - bouncer_cpu) / elapsed
        r.idle_conns = self.monitor.peak(began, time.monotonic())
        progress(f"{self.cfg.label}: idle {done} transactions in {elapsed:.0f} s "
                 f"({r.idle_xact:.3f}/s per pilot), connections {r.idle_conns}")  # fmt: skip

    def drain(self, url: str) -> None:
        """Submit the jobs, time their drain; the shell probes meanwhile."""
        r, cfg = self.result, self.cfg
        began = time.monotonic()
        created_before = self.probe.jobs("noop")
        config = f"{{path: {record_path(self.folder)}, sleep: 0}}"
        progress(f"{cfg.label}: submitting {self.args.jobs} record jobs")
        submitted = json.loads(
            bt_call(cfg, "submit", self.cluster.bench_bt_url, "record", str(self.args.jobs), config)
        )
        shell = Shell(cfg, url, self.pooled_option, self.folder)
        probes = [threading.Thread(target=shell.statuses), threading.Thread(target=shell.script)]
        for thread in probes:
            thread.start()
        sampler = PerPilot(self.farm, self.port)
        r.done, ended = self.wait_drained()
        r.drain_s = None if ended is None else ended - float(submitted["at"])
        for thread in probes:
            thread.join()
        per_pilot = sampler.stop()
        if per_pilot is not None:
            r.per_pilot = max(per_pilot, r.per_pilot or 0)
        r.peak_conns = self.monitor.peak(began, time.monotonic())
        r.status_refused = sum(1 for code in shell.status_codes if code)
        r.created = self.probe.jobs("noop") - created_before
        r.notes += [f"shell: {line}" for line in dict.fromkeys(shell.failures)][:3]
        if ended is not None and time.monotonic() - ended > 1.0:
            r.notes.append("the shell probes outlasted the drain")

    def wait_drained(self) -> tuple[int, float | None]:
        """Until no record job is QUEUED or RUNNING: DONE jobs and when (None: stalled)."""
        last, changed, shown = -1, time.monotonic(), 0.0
        while True:
            done, active = self.probe.drain_state("record")
            now = time.monotonic()
            if not active:
                progress(f"{self.cfg.label}: drained, {done} DONE")
                return done, now
            if done != last:
                last, changed = done, now
            elif now - changed > DRAIN_STALL:
                self.result.notes.append(f"drain stalled: {done} DONE, {active} left")
                return done, None
            if now - shown >= 5.0:
                progress(f"{self.cfg.label}: drain {done}/{self.args.jobs} DONE")
                shown = now
            time.sleep(0.2)

    def abort_latency(self) -> None:
        """K hang jobs, each aborted at a random moment once it runs (in rounds when K exceeds
        the pilots): the time from the abort's commit to its process's death."""
        from bt.client import Brownthrower
        from bt.db import Database
        from bt.values import JobSpec, NodeSpec

        k, r = self.args.aborts, self.result
        progress(f"{self.cfg.label}: {k} aborts")
        db = Database(self.cluster.bench_bt_url, program=f"{BENCH_APP}-abort")
        app = Brownthrower(db)
        latencies: list[float] = []
        threads: list[threading.Thread] = []
        try:
            nodes = [NodeSpec(i, JobSpec("hang"), True) for i in range(k)]
            ids = list(app.jobs.create_graph(nodes).values())
            pids: dict[int, int] = {}
            changed = time.monotonic()
            while len(pids) < k and time.monotonic() - changed < ABORT_WAIT:
                known = set(pids)
                for job in set(self.find_pids(ids, pids)) - known:  # in rounds: K > pilots
                    threads.append(
                        threading.Thread(target=abort_one, args=(app, job, pids[job], latencies))
                    )
                    threads[-1].start()
                    changed = time.monotonic()
                time.sleep(0.1)
            for thread in threads:
                thread.join()
        finally:
            db.dispose()
        r.aborts, r.abort_missed = latencies, k - len(latencies)

    def find_pids(self, ids: list[int], found: dict[int, int]) -> dict[int, int]:
        """The pids of the hang jobs running now, from their pid files (added to `found`)."""
        wanted = set(ids) - set(found)
        for path in (self.folder / "pilots").glob("*/work/*/pid"):
            job = int(path.parent.name)
            if job in wanted:
                with contextlib.suppress(OSError, ValueError):
                    pid = int(path.read_text())
                    if alive(pid):
                        found[job] = pid
        return found


def abort_one(app: Any, job: int, pid: int, latencies: list[float]) -> None:
    """Abort `job` at a random moment; note how long its process `pid` then lived."""
    time.sleep(random.uniform(0, ABORT_WITHIN))
    app.jobs.abort(job)
    aborted = time.monotonic()
    if wait_for(lambda: not alive(pid), ABORT_WAIT, every=0.005):
        latencies.append(time.monotonic() - aborted)


class PerPilot:
    """The most connections one pilot held, sampled every `PER_PILOT_EVERY` (a thread)."""

    def __init__(self, farm: Farm, port: int) -> None:
        self.farm, self.port = farm, port
        self.most: int | None = None
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="farm-per-pilot", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopped.wait(PER_PILOT_EVERY):
            found = self.farm.per_pilot(self.port)
            if found is not None:
                self.most = max(found, self.most or 0)

    def stop(self) -> int | None:
        self.stopped.set()
        self.thread.join(10)
        return self.most


# -- the report -------------------------------------------------------------------------------


COLUMNS = (
    ("configuration", 26),
    ("pilots s/r/a", 14),
    ("reg s", 6),
    ("conns idle/peak/pp", 19),
    ("errors (pilots)", 16),
    ("refused", 8),
    ("created", 8),
    ("idle tx/s/p", 11),
    ("cpu/s pg (pgb)", 15),
    ("RSS MB", 7),
    ("drain s (jobs/s)", 18),
    ("2x/ovl", 7),
    ("abort p50/p99/max s", 19),
)

LEGEND = """\
pilots s/r/a: started / registered (runner rows) / alive at the end; reg s: seconds until all
  registered (started 10 at a time). conns: server connections to the bt database in
  pg_stat_activity (the bench's own excluded): most seen in the idle window / peak during the
  drain / pp = most TCP connections one pilot (runner + fork server) held to its server
  (PostgreSQL direct, PgBouncer pooled; from /proc; real pilots only).
errors (pilots): lines of the pilots' logs with FATAL, too many clients, remaining connection
  slots, database_unreachable or _failed (not job_failed: a task's failure), and pilots with any.
  The bench itself holds two superuser connections (monitor, probe) of max_connections.
refused: `brownthrower status` runs that failed of 5 during the drain; created: jobs created by a
  piped script of 200 `job create noop` lines during the drain.
idle tx/s/p: transactions of the bt database per second per registered pilot over the idle
  window (pg_stat_database); cpu/s pg (pgb): CPU seconds per second of all PostgreSQL server
  processes (and of PgBouncer) over the idle window; RSS MB: mean per pilot, runner + fork server.
drain s: from the commit of the jobs' submission until none is QUEUED or RUNNING (jobs/s: DONE per
  second). 2x/ovl: jobs run more than once (record file; simulated: claims) / whose runs overlapped
  in time (job history). abort: from the abort's commit until the job's process is dead."""


def cell(value: object, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def row(r: Result) -> list[str]:
    """The table's cells for one result."""
    from bench.common import percentile

    drain = "-"
    if r.drain_s is not None and r.done is not None:
        drain = f"{r.drain_s:.1f} ({r.done / r.drain_s:.0f})"
    elif r.done is not None:
        drain = f"stalled {r.done}/{r.jobs}"
    abort = "-"
    if r.aborts:
        a = r.aborts
        abort = f"{percentile(a, 0.5):.2f}/{percentile(a, 0.99):.2f}/{max(a):.2f}"
        abort += f" ({r.abort_missed} lost)" if r.abort_missed else ""
    cpu = cell(r.pg_cpu, 3) + (f" ({r.bouncer_cpu:.3f})" if r.bouncer_cpu is not None else "")
    return [
        r.label,
        f"{r.started}/{r.registered}/{cell(r.alive)}",
        cell(r.register_s, 1),
        f"{cell(r.idle_conns)}/{cell(r.peak_conns)}/{cell(r.per_pilot)}",
        f"{cell(r.errors)} ({cell(r.error_pilots)})",
        f"{cell(r.status_refused)}/{STATUS_RUNS}",
        f"{cell(r.created)}/{SCRIPT_LINES}",
        cell(r.idle_xact, 3),
        cpu,
        cell(r.rss_mb, 0),
        drain,
        f"{cell(r.twice)}/{cell(r.overlaps)}",
        abort,
    ]


def report(results: list[Result], args: argparse.Namespace) -> None:
    print(f"\nfarm: {os.cpu_count()} CPUs, max_connections={args.max_connections}, lease "
          f"{args.lease:g} s, {args.jobs} record jobs, idle window {args.idle_seconds:g} s after "
          f"{args.warmup:g} s, PgBouncer pool {args.pool_size}")  # fmt: skip
    print("  ".join(f"{name:{width}s}" for name, width in COLUMNS))
    for result in results:
        cells = row(result)
        print("  ".join(f"{c:{w}s}" for c, (_, w) in zip(cells, COLUMNS, strict=True)))
    for result in results:
        for note in result.notes:
            print(f"  {result.label}: {note}")
    print(LEGEND)


# -- the command line -----------------------------------------------------------------------


def configurations(args: argparse.Namespace) -> list[Configuration]:
    modes = {"direct": [False], "pooled": [True], "both": [False, True]}[args.mode]
    if args.simulate:
        return [Configuration(pooled, args.simulate, simulate=True) for pooled in modes]
    trees = [None, *[tree.resolve() for tree in args.bt_path]]
    return [Configuration(pooled, args.pilots, tree=tree) for tree in trees for pooled in modes]


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add = parser.add_argument
    add("--pilots", type=int, default=30, help="real pilots (30)")
    add("--mode", choices=("direct", "pooled", "both"), default=None,
        help="straight to PostgreSQL, through PgBouncer, or both (default: both; pooled with "
        "--simulate)")  # fmt: skip
    add("--simulate", type=int, default=0, metavar="N", help="N simulated pilots instead")
    add("--sim-procs", type=int, default=0, metavar="P",
        help="processes the simulated pilots are spread over (default: one per 250)")  # fmt: skip
    add("--jobs", type=int, default=2000, help="short jobs drained (2000)")
    add("--idle-seconds", type=float, default=60.0, help="idle window (60)")
    add("--warmup", type=float, default=30.0,
        help="seconds between the last registration and the idle window (30)")  # fmt: skip
    add("--aborts", type=int, default=20, help="aborts timed, real pilots of this tree (20)")
    add("--max-connections", type=int, default=100, help="PostgreSQL's max_connections (100)")
    add("--lease", type=float, default=30.0, help="the pilots' --lease (30)")
    add("--pool-size", type=int, default=20, help="PgBouncer's default_pool_size (20)")
    add("--bt-path", type=Path, action="append", default=[], metavar="DIR",
        help="also run the real pilots from this source tree (repeatable)")  # fmt: skip
    add("--keep", action="store_true", help="keep the temporary directory")
    add("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.simulate and args.bt_path:
        parser.error("--simulate runs this tree's bt only: no --bt-path")
    args.mode = args.mode or ("pooled" if args.simulate else "both")
    args.sim_procs = args.sim_procs or max(1, math.ceil(args.simulate / 250))
    return args


def terminate(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    args = parse()
    if args.worker:
        worker(*args.worker)
        return
    sys.path.insert(0, str(ROOT))  # not at the top: workers (bt from --bt-path) run this file
    raise_file_limit()
    signal.signal(signal.SIGTERM, terminate)
    base = Path(tempfile.mkdtemp(prefix="bt-farm-"))
    base.chmod(0o755)
    results: list[Result] = []
    try:
        for cfg in configurations(args):
            run = Run(cfg, args, base)
            results.append(run.result)  # filled in as it goes: shown even if interrupted
            run.execute()
    except KeyboardInterrupt:
        progress("interrupted: cleaned up; figures so far follow")
    finally:
        if args.keep:
            progress(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    report(results, args)


if __name__ == "__main__":
    main()
