"""Synthetic attempt records for the report tests: a campaign of known shape, with hostile text."""

from __future__ import annotations

import datetime as dt
import random

from bt.report import AttemptRecord
from bt.usage import Usage

T0 = dt.datetime(2025, 3, 4, 9, 0, tzinfo=dt.UTC)
MB = 1 << 20
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
CONTROL = "\x1b[2J\x1b]0;pwned\x07"
HOSTILE = (SCRIPT, IMG, CONTROL)
TASKS = ("catalog.generate", "sim_photometry", "merge", f"evil{SCRIPT}")
REASONS = (
    "MemoryError",
    f"ValueError: bad {IMG}",
    f"crash {CONTROL}",
    "time limit of 60 s exceeded",
)


def usage(realtime: float, cpu: float, rss: int, *, host: str = "node1", code: int = 0) -> Usage:
    return Usage(
        realtime=realtime, cpu_user=cpu * 0.9, cpu_sys=cpu * 0.1, peak_rss=rss,
        minflt=rss // 4096, majflt=0, vol_ctxt=10, inv_ctxt=2, inblock=0, oublock=8,
        rchar=rss // 2, wchar=rss // 4, read_bytes=0, write_bytes=4096, exit_code=code,
        host=host, batch_id="1234", slots=4,
    )  # fmt: skip


def record(
    job_id: int,
    *,
    name: str = "merge",
    outcome: str = "DONE",
    attempt: int = 1,
    queued: float = 0.0,
    started: float = 1.0,
    ended: float | None = 2.0,
    host: str = "node1",
    runner_id: int = 1,
    reason: str | None = None,
    with_usage: bool = True,
    rss: int = 100 * MB,
) -> AttemptRecord:
    """One attempt; times in seconds after `T0`."""
    run = None if ended is None else ended - started
    return AttemptRecord(
        job_id=job_id, attempt=attempt, name=name, outcome=outcome, runner_id=runner_id,
        host=host, queued_at=T0 + dt.timedelta(seconds=queued),
        started_at=T0 + dt.timedelta(seconds=started),
        ended_at=None if ended is None else T0 + dt.timedelta(seconds=ended),
        exit_code=None if outcome == "" else (0 if outcome == "DONE" else 1),
        reason=reason,
        usage=usage(run, run * 0.8, rss, host=host) if with_usage and run is not None else None,
    )  # fmt: skip


def campaign(attempts: int, seed: int = 1, *, hostile: bool = True) -> list[AttemptRecord]:
    """`attempts` attempts of jobs over 4 tasks, 3 hosts, 2 runners each with 4 slots: some
    fail (a few retried), the last ones still run; with `hostile`, a task, a host and reasons
    are hostile text."""
    rng = random.Random(seed)
    tasks = TASKS if hostile else (*TASKS[:3], "reduce")
    reasons = REASONS if hostile else (*REASONS[:1], "ValueError: bad input", *REASONS[3:])
    hosts = ("node1", "node2", f"node{SCRIPT}" if hostile else "node3")
    free = {(h, r): [0.0] * 4 for h in hosts for r in (1, 2)}
    records: list[AttemptRecord] = []
    job = 0
    while len(records) < attempts:
        job += 1
        name = tasks[job % len(tasks)]
        queued = job * 0.5
        for attempt in (1, 2):
            (host, runner), slots = rng.choice(list(free.items()))
            slot = min(range(4), key=slots.__getitem__)
            started = max(queued, slots[slot]) + rng.uniform(0, 3)
            ended = started + rng.lognormvariate(3, 0.6)
            slots[slot] = ended
            fails = rng.random() < 0.08
            outcome = (
                ("retried" if attempt == 1 and rng.random() < 0.5 else "FAILED")
                if fails
                else "DONE"
            )
            running = len(records) >= attempts - 3
            records.append(record(
                job, name=name, outcome="" if running else outcome, attempt=attempt,
                queued=queued, started=started, ended=None if running else ended, host=host,
                runner_id=runner, reason=rng.choice(reasons) if fails else None,
                rss=int(rng.lognormvariate(19, 0.5)),
            ))  # fmt: skip
            if outcome != "retried":
                break
            queued = ended
    return records
