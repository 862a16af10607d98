"""The web dashboard at scale: page times at 200,000 jobs, and what open dashboards cost.

    .venv/bin/python bench/web.py [--jobs 200000] [--runs 7] [--window 20] [--dashboards 1 10]

A throwaway PostgreSQL cluster (`scripts/pg-cluster`, default durability, `pg_stat_statements`
preloaded) gets `--jobs` jobs through bt's services: plain jobs of several tasks, most of them
run through claims and settled (DONE with figures, about one in twelve FAILED with a
traceback), a DAG of a few thousand linked jobs, superjobs with thousands of subjobs (one of
them still STAND-BY), registered runners holding RUNNING jobs. Then a real
`brownthrower web --bind 127.0.0.1:0` serves it, and:

1. Page times: every page and API route, `--runs` times each, each run right after the
   dashboard's cache was dropped (a NOTIFY on `bt_work` makes its hub bump the version: seen on
   `/events` before the GET is sent), so every GET computes its page. The time is the GET's
   round trip over loopback (server time plus well under a millisecond), p50 and max, against
   the 300 ms target; a warm GET (served from the cache) is shown beside it.
2. Database cost of open dashboards: N simulated dashboards (each an `/events` stream that,
   like `web/static/live.js`, fetches the page's live fragments on every event) for
   `--window` seconds each, with one runner-like writer committing a job every 0.2 s; the
   bt database's statements (`pg_stat_statements`) and transactions (`pg_stat_database`) per
   second, read from the `postgres` database, for 0, 1 and 10 dashboards, and the ratio.

Prints its figures; asserts nothing. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import psycopg

from bench.common import ROOT, percentile
from bt import Brownthrower, TaskRegistry
from bt.db import Database
from bt.schema import upgrade
from bt.usage import Usage
from bt.values import Claim, DeclaredJob, Failed, Finished, JobSpec, NodeSpec, RunResult

BATCH = 20_000  #: jobs per create_graph
SETTLE = 1_000  #: runs recorded per settle transaction
TASKS = ("noop", "echo", "add2", "sum4", "random")  #: the plain jobs' tasks, round robin
ALL = [*TASKS, "pipe", "scatter"]  #: every task of the bench's jobs
HOSTS = [f"node{n:02d}" for n in range(8)]
TARGET = 0.300  #: seconds: the issue's page target at 200,000 jobs


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the database ---------------------------------------------------------------------------


@contextlib.contextmanager
def cluster() -> Iterator[str]:
    """A throwaway PostgreSQL cluster with pg_stat_statements; the URL of database `bt`."""
    base = Path(tempfile.mkdtemp(prefix="bt-bench-web-"))
    base.chmod(0o755)
    script, pg = str(ROOT / "scripts" / "pg-cluster"), str(base / "pg")
    env = {**os.environ, "PG_FSYNC": "on", "PG_SYNC_COMMIT": "on"}
    out = subprocess.run([script, "start", pg], check=True, capture_output=True, text=True, env=env)
    admin = out.stdout.strip().splitlines()[-1]
    try:
        with psycopg.connect(libpq(admin), autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
            conn.execute("CREATE DATABASE bt")
        subprocess.run([script, "halt", pg], check=True, env=env)
        subprocess.run([script, "resume", pg], check=True, env=env)
        with psycopg.connect(libpq(admin), autocommit=True) as conn:  # read from here
            conn.execute("CREATE EXTENSION pg_stat_statements")
        yield admin.rsplit("/", 1)[0] + "/bt"
    finally:
        subprocess.run([script, "stop", pg], check=False, capture_output=True)


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def usage(rng: random.Random, host: str) -> Usage:
    realtime = rng.lognormvariate(3, 1)
    return Usage(
        realtime=realtime,
        cpu_user=realtime * rng.uniform(0.3, 0.95),
        cpu_sys=realtime * 0.02,
        peak_rss=rng.randint(50, 4000) << 20,
        minflt=1000,
        majflt=0,
        vol_ctxt=50,
        inv_ctxt=20,
        inblock=0,
        oublock=80,
        rchar=1 << 20,
        wchar=1 << 18,
        read_bytes=0,
        write_bytes=1 << 18,
        exit_code=0,
        host=host,
        batch_id=None,
        slots=1,
    )


def end_of(claim: Claim, rng: random.Random, host: str) -> Finished | Failed:
    """Most runs finish; about one in twelve fails with a traceback."""
    if not claim.epilog and rng.random() < 1 / 12:
        reason = rng.choice(["ValueError: negative flux", "MemoryError", "exit code 3"])
        traceback = f'Traceback (most recent call last):\n  File "task.py", line 7\n{reason}\n'
        return Failed(claim, reason, traceback, 1, usage=usage(rng, host))
    return Finished(claim, RunResult(output=f"{rng.random():.6f}\n"), usage=usage(rng, host))


def run(app: Brownthrower, runners: list[int], tasks: list[str], count: int) -> int:
    """Claim and settle up to `count` runs of `tasks`, rotating through the runners; how many."""
    rng, done = random.Random(count), 0
    while done < count:
        runner = runners[done // SETTLE % len(runners)]
        claims = app.claims.claim_many(runner, tasks, min(SETTLE, count - done))
        if not claims:
            break
        host = HOSTS[runners.index(runner) % len(HOSTS)]
        app.claims.settle([end_of(c, rng, host) for c in claims])
        done += len(claims)
    return done


def superjob(app: Brownthrower, runner: int, subjobs: int) -> int:
    """A superjob whose prolog declared `subjobs` queued `echo` subjobs; its id."""
    parent = app.jobs.create(JobSpec("scatter", description="split the sky"), submit=True).id
    (claim,) = app.claims.claim_many(runner, ["scatter"], 1)  # the only scatter job
    declared = [DeclaredJob(i, "pipe", description=f"tile {i}") for i in range(subjobs)]
    app.claims.finish(claim, RunResult(subjobs=declared))
    return parent


def dag(app: Brownthrower, layers: int, width: int) -> list[int]:
    """Layers of `width` jobs, each linked to two jobs of the layer before; their ids."""
    nodes = [
        NodeSpec((layer, i), JobSpec("sum4", description=f"stage {layer}"), True)
        for layer in range(layers)
        for i in range(width)
    ]
    edges = [
        ((layer - 1, (i + k) % width), (layer, i))
        for layer in range(1, layers)
        for i in range(width)
        for k in (0, 1)
    ]
    ids = app.jobs.create_graph(nodes, edges)
    return [ids[node.key] for node in nodes]


def fill(url: str, jobs: int) -> dict[str, int]:
    """`jobs` jobs in the database at `url`; a few ids worth showing (superjob, DAG node)."""
    db = Database(url)
    upgrade(db)
    app = Brownthrower(db, TaskRegistry())
    runners = [
        app.runners.register(host=h, pid=1000 + n, slots=8, tasks=ALL, lease=86400).id
        for n, h in enumerate(HOSTS)
    ]
    started = time.monotonic()
    supers = [superjob(app, runners[0], 2_500) for _ in range(4)]
    nodes = dag(app, 20, 100)
    made = 4 + 4 * 2_500 + len(nodes)
    plain = jobs - made - 4_000 - 1
    for start in range(0, plain, BATCH):
        size = min(BATCH, plain - start)
        app.jobs.create_graph(
            [NodeSpec(i, JobSpec(TASKS[(start + i) % len(TASKS)]), True) for i in range(size)]
        )
    say(f"  created {jobs - 4_000:,} jobs in {time.monotonic() - started:.0f} s")
    ran = run(app, runners, ALL, int(jobs * 0.6))
    say(f"  ran {ran:,} jobs in {time.monotonic() - started:.0f} s")
    app.jobs.create_graph([NodeSpec(i, JobSpec("noop")) for i in range(4_000)])  # STASHED
    standby = superjob(app, runners[1], 1_000)
    run(app, runners[1:2], ["pipe"], 400)
    for runner in runners:
        app.claims.claim_many(runner, ALL, 5)  # RUNNING, held by live runners
    say(f"  filled in {time.monotonic() - started:.0f} s")
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    failed = app.jobs.list(["status=FAILED", "super_id=none", "name=echo"], limit=1).jobs[0].id
    running = app.jobs.list(["status=RUNNING"], limit=1).jobs[0].id
    app.close()
    return {
        "superjob": supers[0], "standby": standby, "node": nodes[len(nodes) // 2],
        "failed": failed, "running": running, "middle": jobs // 2,
    }  # fmt: skip


# -- the dashboard ----------------------------------------------------------------------------

TOKEN = "bench-web-token-0123456789"
WEB = [str(Path(sys.executable).with_name("brownthrower")), "web", "--bind", "127.0.0.1:0"]


@contextlib.contextmanager
def dashboard_server(url: str, log: Path) -> Iterator[str]:
    """A `brownthrower web` process on the database, its output in `log`; its base URL."""
    env = {**os.environ, "BT_DATABASE_URL": url, "BT_WEB_TOKEN": TOKEN}
    with log.open("w") as output:
        process = subprocess.Popen(WEB, stdout=output, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 60
        while "/login?token=" not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("brownthrower web printed no login URL:\n" + log.read_text())
            time.sleep(0.1)
        line = next(x for x in log.read_text().splitlines() if "/login?token=" in x)
        yield line[line.index("http://") :].split("/login", 1)[0]
    finally:
        process.terminate()
        process.wait(30)
        errors = [x for x in log.read_text().splitlines() if x.startswith("Traceback")]
        if errors:
            say(f"the dashboard logged {len(errors)} errors: see {log}")


def client(base: str) -> httpx.Client:
    """An HTTP client logged in to the dashboard (its session cookie set)."""
    session = httpx.Client(base_url=base, timeout=60)
    session.get(f"/login?token={TOKEN}")
    return session


class Versions:
    """Follows the dashboard's version on `/events`, as a page does."""

    def __init__(self, base: str) -> None:
        self.version = 0
        self.changed = threading.Condition()
        self.session = client(base)
        threading.Thread(target=self._follow, daemon=True).start()

    def _follow(self) -> None:
        while True:
            try:
                with self.session.stream("GET", "/events", timeout=None) as stream:
                    for line in stream.iter_lines():
                        if line.startswith("data:"):
                            with self.changed:
                                self.version = int(line[5:])
                                self.changed.notify_all()
            except httpx.TransportError:
                time.sleep(0.1)  # the stream was cut: open it again, as EventSource does

    def bump(self, url: str) -> None:
        """A NOTIFY the dashboard's hub hears: its next look bumps the version; wait for it."""
        with self.changed:
            before = self.version
        with psycopg.connect(libpq(url), autocommit=True) as conn:
            conn.execute("NOTIFY bt_work")
        with self.changed:
            if not self.changed.wait_for(lambda: self.version > before, 30):
                raise SystemExit("the dashboard's version did not change after a NOTIFY")


def routes(url: str, ids: dict[str, int]) -> list[str]:
    """Every page, fragment and API route, on the bench's own jobs."""
    node, sup, standby, failed, running = (
        ids["node"], ids["superjob"], ids["standby"], ids["failed"], ids["running"]
    )  # fmt: skip
    return [
        "/", "/jobs", "/jobs?filter=status%3DFAILED", "/jobs?filter=status%3DRUNNABLE",
        "/jobs?filter=name%3Decho&sort=ended&newest=1", f"/jobs?after={ids['middle']}",
        "/jobs?filter=name%3Dn*+status%3DDONE", f"/jobs?filter=super_id%3D{standby}",
        f"/jobs/{node}", f"/jobs/{sup}", f"/jobs/{standby}", f"/jobs/{failed}",
        f"/jobs/{running}", f"/jobs/{node}/graph", f"/jobs/{sup}/graph",
        f"/jobs/{standby}/graph", "/runners", "/stats", "/stats?filter=name%3Decho",
        "/dispatchers", "/limits",
        "/fragment/overview", "/fragment/runners", f"/fragment/jobs/{running}/summary",
        f"/fragment/jobs/{running}/attempts", f"/fragment/jobs/{running}/streams",
        "/api/overview", "/api/jobs", "/api/jobs?filter=status%3DFAILED", f"/api/jobs/{node}",
        f"/api/jobs/{failed}/attempts", "/api/stats", "/api/runners", "/api/limits",
        "/api/openapi.json",
    ]  # fmt: skip


def get(session: httpx.Client, path: str) -> tuple[float, int]:
    """Seconds of one GET and its status (0: no answer; one retry on a dropped connection)."""
    for _ in range(2):
        start = time.perf_counter()
        try:
            status = session.get(path).status_code
        except httpx.TransportError:
            continue
        return time.perf_counter() - start, status
    return 0.0, 0


def time_routes(base: str, url: str, ids: dict[str, int], runs: int) -> None:
    """Every route `runs` times right after a version bump (computed), and once warm (from the
    cache, on a new connection: a connection kept open waits for delayed ACKs here)."""
    versions, session = Versions(base), client(base)
    print(f"page times ({runs} GETs each, each right after a version bump; warm: from the cache)")
    slowest = (0.0, "")
    for path in dict.fromkeys(routes(url, ids)):
        cold: list[float] = []
        status = 200
        while len(cold) < runs and sum(cold) < 30 and status == 200:
            versions.bump(url)
            seconds, status = get(session, path)
            cold.append(seconds)
        if status != 200:
            print(f"  {path:<48} HTTP {status or 'no answer'}")
            continue
        with httpx.Client(base_url=base, cookies=session.cookies) as fresh:
            warm, _ = get(fresh, path)
        p50, top = percentile(cold, 0.5), max(cold)
        slowest = max(slowest, (top, path))
        flag = "" if top < TARGET else "  OVER 300 ms"
        print(
            f"  {path:<48} p50 {p50 * 1e3:7.1f} ms  max {top * 1e3:7.1f} ms  "
            f"warm {warm * 1e3:5.1f} ms  ({len(cold)} runs){flag}"
        )
    print(f"  slowest: {slowest[1]} {slowest[0] * 1e3:.0f} ms (target {TARGET * 1e3:.0f} ms)")


# -- the cost of open dashboards --------------------------------------------------------------


def live_paths(ids: dict[str, int]) -> list[list[str]]:
    """What a dashboard fetches on each event, by the page it shows (`data-live` elements)."""
    running = ids["running"]
    job = [f"/fragment/jobs/{running}/{part}" for part in ("summary", "attempts", "streams")]
    return [["/fragment/overview"], job, ["/fragment/runners"]]


def open_dashboard(base: str, fragments: list[str], stop: threading.Event) -> None:
    """One open page: its `/events` stream, and its live fragments fetched on every event."""
    session, seen = client(base), None
    with session.stream("GET", "/events", timeout=None) as stream:
        for line in stream.iter_lines():
            if stop.is_set():
                return
            if line.startswith("data:"):
                if seen is not None and line != seen:  # as live.js: not on the first
                    for path in fragments:
                        get(session, path)
                seen = line


def write_now_and_then(url: str, stop: threading.Event) -> None:
    """A farm at work: a new job queued and one finished, every 0.2 s (as another role, so
    that its statements are not the dashboard's)."""
    db = Database(url.replace("//postgres@", "//bench_writer@"))
    app = Brownthrower(db, TaskRegistry())
    runner = app.runners.register(host="writer", pid=1, slots=1, tasks=ALL, lease=3600).id
    rng = random.Random(1)
    while not stop.wait(0.2):
        app.jobs.create(JobSpec("noop"), submit=True)
        for claim in app.claims.claim_many(runner, ["noop"], 1):
            app.claims.settle([end_of(claim, rng, "writer")])
    app.close()


WEB_STATEMENTS = (
    "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s JOIN pg_database d"
    " ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.userid"
    " WHERE d.datname = 'bt' AND r.rolname = 'postgres'"
)
TRANSACTIONS = "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = 'bt'"


def counters(url: str) -> tuple[int, int]:
    """(the dashboard's statements, every client's transactions) on database `bt` so far."""
    with psycopg.connect(libpq(url.rsplit("/", 1)[0] + "/postgres"), autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        statements = conn.execute(WEB_STATEMENTS).fetchone()
        transactions = conn.execute(TRANSACTIONS).fetchone()
    assert statements is not None and transactions is not None
    return int(statements[0]), int(transactions[0])


def measure_dashboards(
    base: str, url: str, ids: dict[str, int], counts: list[int], window: float
) -> None:
    """The dashboard's statements per second with no page open, then `counts` pages all on
    the overview, then the largest count spread over three kinds of page."""
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("CREATE ROLE bench_writer LOGIN SUPERUSER")
    stop_writer = threading.Event()
    writer = threading.Thread(target=write_now_and_then, args=(url, stop_writer), daemon=True)
    writer.start()
    versions = Versions(base)
    print(
        f"database cost of open dashboards ({window:.0f} s each; meanwhile a job is queued and "
        "one finished every 0.2 s by another role; statements: the dashboard's role's, from "
        "pg_stat_statements; transactions: every client's)"
    )
    kinds = live_paths(ids)
    scenarios = [(0, 1), *((count, 1) for count in counts), (max(counts), len(kinds))]
    rates: dict[tuple[int, int], float] = {}
    for count, spread in scenarios:
        pages = [kinds[n % spread] for n in range(count)]
        rates[count, spread] = open_for(base, url, pages, window, versions)
    stop_writer.set()
    writer.join(30)
    idle, one, most = rates[0, 1], rates[counts[0], 1], rates[counts[-1], 1]
    if one > idle:
        print(
            f"  {counts[-1]} dashboards on the overview cost {(most - idle) / (one - idle):.2f}x "
            f"the statements of {counts[0]} (each less the {idle:.1f}/s with none open)"
        )


def open_for(
    base: str, url: str, pages: list[list[str]], window: float, versions: Versions
) -> float:
    """Statements/s of the dashboard while `pages` are open (each the fragments it fetches)."""
    stop = threading.Event()
    viewers = [
        threading.Thread(target=open_dashboard, args=(base, fragments, stop), daemon=True)
        for fragments in pages
    ]
    for viewer in viewers:
        viewer.start()
    time.sleep(2.0)  # every page opened
    before, first, start = counters(url), versions.version, time.monotonic()
    time.sleep(window)
    after, last, seconds = counters(url), versions.version, time.monotonic() - start
    stop.set()
    for viewer in viewers:
        viewer.join(30)
    statements = (after[0] - before[0]) / seconds
    kinds = len({tuple(p) for p in pages})
    print(
        f"  {len(pages):2d} dashboards ({kinds} kinds of page): {statements:7.1f} statements/s "
        f"by the dashboard, {(after[1] - before[1]) / seconds:6.1f} transactions/s in all, "
        f"{(last - first) / seconds:.2f} versions/s"
    )
    return statements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5, help="computed GETs per route")
    parser.add_argument("--window", type=float, default=20.0, help="seconds per dashboard count")
    parser.add_argument("--dashboards", type=int, nargs="+", default=[1, 10])
    args = parser.parse_args()
    with cluster() as url:
        say(f"filling {args.jobs:,} jobs")
        ids = fill(url, args.jobs)
        with dashboard_server(url, Path(tempfile.gettempdir()) / "bench-web.log") as base:
            time_routes(base, url, ids, args.runs)
            measure_dashboards(base, url, ids, args.dashboards, args.window)


if __name__ == "__main__":
    main()
