"""The 200-job DAG (48 sum4 with 3 add2 subjobs each, fanning into 8 pipe jobs) through runner
pilots on Slurm, against two plain local runners.

Prints wall-clock seconds from start (runners launched / first dispatcher pass) to every job
DONE; it asserts nothing. Needs root and slurm-wlm/munge (scripts/bootstrap --dev). Usage:
    .venv/bin/python bench/dispatch.py [--db sqlite postgresql] [--repeat 3]

`--layers`: a DAG of 3 layers x `--width` jobs of 2-4 s (each job a child of two jobs of the
layer before) under on-demand Slurm pilots, with the old sizing (ceil(RUNNABLE/K), draining
pilots) and the new one (soon-runnable work, `--idle-exit`) in the same run: makespan, pilots
submitted, pilot-seconds and idle pilot-seconds (pilot run time minus job run time).
`--crashloop SECONDS`: a static dispatcher of 2 local pilots whose pilot exits at once, with
`--backoff` seconds of first backoff: the submissions it makes in that time.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import MetaData

from bench.common import ROOT, databases, fresh_app
from bt import Brownthrower
from bt.db import Database
from bt.dispatch import Dispatcher, DispatcherOptions, Policy, Snapshot, build_dispatcher
from bt.dispatch.reconcile import PassReport, Reconciler
from bt.dispatch.sizing import Work
from bt.values import JobSpec, NodeSpec
from tests.dispatch.workload import DAG_SIZE, finished, submit_dag

RUNNER = str(Path(sys.executable).with_name("bt-runner"))
Step = Callable[[], None]
Setup = Callable[[Brownthrower, str, Path], tuple[Step, Step]]


@contextmanager
def slurm(cpus: int | None = None) -> Iterator[None]:
    """A throwaway single-node Slurm (scripts/slurm-cluster) of `cpus` CPUs (4 jobs each; default
    the machine's); SLURM_CONF set while it runs."""
    base = Path(tempfile.mkdtemp(prefix="bt-bench-slurm-"))
    script = str(ROOT / "scripts" / "slurm-cluster")
    env = {**os.environ, **({"SLURM_CPUS": str(cpus)} if cpus else {})}
    out = subprocess.run(
        [script, "start", str(base)], check=True, capture_output=True, text=True, env=env
    )
    os.environ["SLURM_CONF"] = out.stdout.strip().splitlines()[-1]
    try:
        yield
    finally:
        subprocess.run([script, "stop", str(base)], check=False, capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def local_runners(count: int) -> Setup:
    """`count` bt-runner processes in drain mode (they exit by themselves when done)."""

    def start(app: Brownthrower, url: str, work: Path) -> tuple[Step, Step]:
        env = {**os.environ, "BT_DATABASE_URL": url}
        runners = [
            subprocess.Popen(
                [RUNNER], env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            for _ in range(count)
        ]

        def stop() -> None:
            for runner in runners:
                runner.wait(60)

        return (lambda: None), stop

    return start


def slurm_pilots(policy: Policy) -> Setup:
    """A dispatcher keeping Slurm pilots; its pass is the step of the waiting loop."""

    def start(app: Brownthrower, url: str, work: Path) -> tuple[Step, Step]:
        options = DispatcherOptions(backend="slurm", state_dir=work, policy=policy, kill_wait=5)
        dispatcher = build_dispatcher(options, app)

        def step() -> None:
            dispatcher.step()

        def stop() -> None:
            dispatcher.shutdown()

        return step, stop

    return start


def measure(url: str, setup: Setup) -> float:
    """Seconds for the DAG to finish with `setup`'s workers (all pilots cancelled after)."""
    app = fresh_app(url)
    submit_dag(app)
    with tempfile.TemporaryDirectory(prefix="bt-bench-work-") as work:
        begin = time.perf_counter()
        step, stop = setup(app, url, Path(work))
        while not finished(app):
            step()
            time.sleep(0.2)
        took = time.perf_counter() - begin
        stop()
    assert app.jobs.counts()["DONE"] == DAG_SIZE
    app.close()
    return took


CASES: dict[str, Setup] = {
    "2 local bt-runner processes": local_runners(2),
    "2 static Slurm pilots": slurm_pilots(Policy(pilots=2)),
    "4 static Slurm pilots": slurm_pilots(Policy(pilots=4)),
    "on-demand Slurm pilots (max 4, 20 jobs each)": slurm_pilots(
        Policy("on-demand", max_pilots=4, jobs_per_pilot=20)
    ),
}


class OldSizing(Reconciler):
    """The on-demand sizing before soon-runnable work: ceil(RUNNABLE/K) pilots in all, at most
    max-pilots, whatever the live ones do."""

    def _size(self, work: Work, report: PassReport, now: float) -> None:
        live = self._live(report)
        desired = min(self.policy.max_pilots, -(-work.runnable // self.policy.jobs_per_pilot))
        report.desired = desired
        if len(live) < desired:
            self._submit(desired - len(live), report, now)
        elif len(live) > desired:
            self._cancel(self._surplus(live, len(live) - desired), report)


def submit_layers(app: Brownthrower, width: int) -> list[int]:
    """3 layers of `width` sleep jobs of 2-4 s; each job a child of two jobs of the layer before."""
    nodes = [
        NodeSpec((layer, i), JobSpec("sleep", input=str(2 + i % 3)), submit=True)
        for layer in range(3)
        for i in range(width)
    ]
    links = [
        ((layer - 1, (i + k) % width), (layer, i))
        for layer in (1, 2)
        for i in range(width)
        for k in (0, 1)
    ]
    return list(app.jobs.create_graph(nodes, links).values())


def emptied(url: str) -> Brownthrower:
    """`fresh_app` after dropping every table there is (whatever the migrations added)."""
    db = Database(url)
    meta = MetaData()
    meta.reflect(db.engine)
    meta.drop_all(db.engine)
    db.dispose()
    return fresh_app(url)


def layered(url: str, width: int, max_pilots: int, idle_exit: float | None) -> dict[str, float]:
    """One run of the layered DAG (the old sizing when `idle_exit` is None); its figures."""
    old = idle_exit is None
    app = emptied(url)
    ids = submit_layers(app, width)
    policy = Policy("on-demand", max_pilots=max_pilots, idle_exit=idle_exit)
    with tempfile.TemporaryDirectory(prefix="bt-bench-work-") as work:
        options = DispatcherOptions(
            name=f"layers-{uuid.uuid4().hex[:6]}",  # not the pilots of the run before
            backend="slurm", state_dir=Path(work), policy=policy, kill_wait=5,
            runner_args=("--lease", "10", "--poll", "0.5"),
        )  # fmt: skip
        dispatcher = build_dispatcher(options, app)
        if old:
            dispatcher.reconciler.__class__ = OldSizing
        elapsed: dict[str, float] = {}
        submitted: set[str] = set()
        begin = time.perf_counter()
        makespan = None
        while True:
            snapshot = dispatcher.step()
            submitted.update(snapshot.report.submitted)
            _note_elapsed(snapshot, elapsed)
            if makespan is None and finished(app):
                makespan = time.perf_counter() - begin
            if makespan is not None and snapshot.report.live == 0:
                break
            time.sleep(0.5)
        _settle(dispatcher, elapsed)
    busy = sum(_ran(app, job) for job in ids)
    app.close()
    pilot_seconds = sum(elapsed.get(batch_id, 0.0) for batch_id in submitted)
    return {
        "makespan": makespan,
        "pilots": len(submitted),
        "pilot_s": pilot_seconds,
        "idle_s": pilot_seconds - busy,
    }


def _note_elapsed(snapshot: Snapshot, elapsed: dict[str, float]) -> None:
    for pilot in snapshot.report.pilots or ():
        if pilot.elapsed is not None:
            elapsed[pilot.batch_id] = max(elapsed.get(pilot.batch_id, 0.0), pilot.elapsed)


def _settle(dispatcher: Dispatcher, elapsed: dict[str, float]) -> None:
    """The final run times of pilots that ended since the last pass."""
    time.sleep(1)
    _note_elapsed(dispatcher.look(), elapsed)


def _ran(app: Brownthrower, job: int) -> float:
    info = app.jobs.info(job)
    if info.started is None or info.ended is None:
        return 0.0
    return (info.ended - info.started).total_seconds()


def crashloop(url: str, seconds: float, backoff: float) -> list[float]:
    """Submission times (from start) of a static 2-pilot local dispatcher whose pilot exits at
    once, over `seconds`."""
    app = emptied(url)
    with tempfile.TemporaryDirectory(prefix="bt-bench-crash-") as work:
        pilot = Path(work) / "crash.sh"
        pilot.write_text('#!/bin/sh\necho "ImportError: No module named numpyy" >&2\nexit 1\n')
        pilot.chmod(0o755)
        options = DispatcherOptions(
            state_dir=Path(work), policy=Policy(pilots=2), runner=str(pilot), backoff=backoff
        )
        dispatcher = build_dispatcher(options, app)
        times: list[float] = []
        begin = time.perf_counter()
        while time.perf_counter() - begin < seconds:
            snapshot = dispatcher.step()
            times += [time.perf_counter() - begin] * len(snapshot.report.submitted)
            time.sleep(min(0.1, backoff / 10))
        print(f"  {snapshot.report.backoff}")
    app.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--layers", action="store_true", help="old against new on-demand sizing")
    parser.add_argument("--width", type=int, default=50, help="--layers: jobs per layer")
    parser.add_argument("--max-pilots", type=int, default=8, help="--layers: at most")
    parser.add_argument(
        "--cpus", type=int, help="--layers: Slurm CPUs, 4 jobs each (default: the machine's)"
    )
    parser.add_argument("--idle-exit", type=float, default=5.0, help="--layers: new pilots'")
    parser.add_argument("--crashloop", type=float, metavar="SECONDS", help="crash-loop run")
    parser.add_argument("--backoff", type=float, default=1.0, help="--crashloop: first backoff")
    args = parser.parse_args()
    logging.getLogger("bt.dispatch").setLevel(logging.ERROR)  # figures only
    if args.crashloop:
        with databases(args.db[:1]) as urls:
            times = crashloop(next(iter(urls.values())), args.crashloop, args.backoff)
        shown = ", ".join(f"{t:.1f}" for t in times)
        print(f"crash-looping pilot command: {len(times)} submissions in {args.crashloop:g} s")
        print(f"(first backoff {args.backoff:g} s) at {shown} s")
        return
    if args.layers:
        with databases(args.db) as urls, slurm(args.cpus):
            for db, url in urls.items():
                for idle_exit in (None, args.idle_exit):
                    for _ in range(args.repeat):
                        got = layered(url, args.width, args.max_pilots, idle_exit)
                        name = (
                            "old: ceil(RUNNABLE/K), draining"
                            if idle_exit is None
                            else f"new: --idle-exit {idle_exit:g}"
                        )
                        print(
                            f"{db:10}  {name:34}  makespan {got['makespan']:6.1f} s  "
                            f"pilots {got['pilots']:4.0f}  pilot-s {got['pilot_s']:7.1f}  "
                            f"idle pilot-s {got['idle_s']:7.1f}",
                            flush=True,
                        )
        return
    with databases(args.db) as urls, slurm():
        for db, url in urls.items():
            for name, setup in CASES.items():
                runs = [measure(url, setup) for _ in range(args.repeat)]
                print(
                    f"{db:10}  {name:46}  median {statistics.median(runs):5.1f} s  "
                    f"(runs: {', '.join(f'{r:.1f}' for r in runs)})",
                    flush=True,
                )


if __name__ == "__main__":
    main()
