"""`job report` of a campaign: how large the HTML file is and how long it takes to make and to
show, for 1,000 and 10,000 jobs (above 10,000 attempts the report samples the timeline).

    .venv/bin/python bench/report.py [--jobs 1000 10000] [--rounds 3] [--no-browser]

On a fresh SQLite file: jobs made with `create_graph`, one or two runs each in `job_attempt`
(a tenth retried, a twentieth FAILED, on 8 hosts, 4 runners each, 8 slots each). Times: reading the
attempts (`app.jobs.attempt_records`), writing the HTML (`bt.report.report_html`), and, with
Debian's Chromium through Playwright, opening the file until its `load` event. Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bench.common import fresh_app
from bt import Brownthrower
from bt.models import ATTEMPT, Job
from bt.report import report_html
from bt.status import Status
from bt.values import JobSpec, NodeSpec

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
CHROMIUM = Path("/usr/bin/chromium")
TASKS = ("noop", "echo", "sleep", "add2")  #: installed tasks (the test plugin, the examples)


def runs(job_ids: list[int], seed: int = 1) -> Iterator[dict[str, Any]]:
    """One or two ended runs per job, back to back on 256 slots."""
    rng = random.Random(seed)
    free = [0.0] * 256
    for job_id in job_ids:
        queued = job_id * 0.05
        for seq in (1, 2):
            slot = min(range(len(free)), key=free.__getitem__)
            started = max(queued, free[slot]) + rng.uniform(0, 2)
            ended = started + rng.lognormvariate(3, 0.6)
            free[slot] = ended
            retried = seq == 1 and rng.random() < 0.1
            failed = not retried and rng.random() < 0.05
            outcome = Status.QUEUED if retried else Status.FAILED if failed else Status.DONE
            yield _row(job_id, seq, slot, outcome, (queued, started, ended), rng=rng)
            if not retried:
                break
            queued = ended


def _row(
    job_id: int, seq: int, slot: int, outcome: Status, times: tuple[float, ...], *, rng: Any
) -> dict[str, Any]:
    queued, started, ended = (T0 + dt.timedelta(seconds=t) for t in times)
    bad = outcome is not Status.DONE
    return {
        "job_id": job_id, "seq": seq, "attempt": seq, "after_event": None, "outcome": outcome,
        "runner_id": slot // 8, "host": f"node{slot // 32}", "queued_at": queued,
        "started_at": started, "ended_at": ended, "exit_code": 1 if bad else 0,
        "reason": rng.choice(("MemoryError", "exit code 3", "time limit")) if bad else None,
        "traceback": "Traceback" if bad else None, "stderr": None,
        "realtime": (ended - started).total_seconds(), "cpu_user": rng.uniform(1, 20),
        "cpu_sys": 0.1, "peak_rss": int(rng.lognormvariate(19, 0.5)), "minflt": 10,
        "majflt": 0, "vol_ctxt": 5, "inv_ctxt": 6, "inblock": 0, "oublock": 8, "rchar": 1000,
        "wchar": 2000, "read_bytes": 0, "write_bytes": 4096, "batch_id": "4242", "slots": 8,
    }  # fmt: skip


def campaign(url: str, jobs: int) -> Brownthrower:
    app = fresh_app(url)
    nodes = [NodeSpec(i, JobSpec(TASKS[i % len(TASKS)]), submit=False) for i in range(jobs)]
    app.jobs.create_graph(nodes)
    with app.db.read() as session:
        rows = list(runs(list(session.scalars(select(Job.id).order_by(Job.id)))))
    for start in range(0, len(rows), 2000):
        batch = rows[start : start + 2000]
        app.db.write(partial(_insert, batch))
    return app


def _insert(rows: list[dict[str, Any]], session: Session) -> None:
    session.execute(insert(ATTEMPT), rows)


def shown(path: Path) -> float | None:
    """Seconds Chromium takes to open `path` until `load`; None without Playwright/Chromium."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not CHROMIUM.exists():
        return None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page()
        began = time.perf_counter()
        page.goto(path.as_uri(), wait_until="load")
        took = time.perf_counter() - began
        browser.close()
    return took


def measure(jobs: int, rounds: int, browser: bool, folder: Path) -> None:
    app = campaign(f"sqlite:///{folder}/report{jobs}.db", jobs)
    reads, writes, opens, size, count = [], [], [], 0, 0
    for _ in range(rounds):
        began = time.perf_counter()
        records = app.jobs.attempt_records()
        reads.append(time.perf_counter() - began)
        began = time.perf_counter()
        html = report_html(records, selection="(all jobs)")
        writes.append(time.perf_counter() - began)
        path = folder / f"report{jobs}.html"
        path.write_text(html)
        size, count = len(html.encode()), len(records)
        seconds = shown(path) if browser else None
        if seconds is not None:
            opens.append(seconds)
    app.close()
    opened = f", Chromium opens it in {statistics.median(opens):.2f} s" if opens else ""
    print(
        f"  {jobs:,} jobs ({count:,} attempts): {size / 1e6:.2f} MB; reading the attempts "
        f"{statistics.median(reads):.2f} s, writing the HTML {statistics.median(writes):.2f} s"
        f"{opened} (medians of {rounds})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    print(f"job report on SQLite, {args.rounds} rounds:")
    with tempfile.TemporaryDirectory(prefix="bt-bench-report-") as tmp:
        for jobs in args.jobs:
            measure(jobs, args.rounds, not args.no_browser, Path(tmp))


if __name__ == "__main__":
    main()
