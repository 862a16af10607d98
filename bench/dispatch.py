"""The 200-job DAG (48 sum4 with 3 add2 subjobs each, fanning into 8 pipe jobs) through runner
pilots on Slurm, against two plain local runners.

Prints wall-clock seconds from start (runners launched / first dispatcher pass) to every job
DONE; it asserts nothing. Needs root and slurm-wlm/munge (scripts/bootstrap --dev). Usage:
    .venv/bin/python bench/dispatch.py [--db sqlite postgresql] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, databases, fresh_app
from bt import Brownthrower
from bt.dispatch import DispatcherOptions, Policy, build_dispatcher
from tests.dispatch.workload import DAG_SIZE, finished, submit_dag

RUNNER = str(Path(sys.executable).with_name("bt-runner"))
Step = Callable[[], None]
Setup = Callable[[Brownthrower, str, Path], tuple[Step, Step]]


@contextmanager
def slurm() -> Iterator[None]:
    """A throwaway single-node Slurm (scripts/slurm-cluster); SLURM_CONF set while it runs."""
    base = Path(tempfile.mkdtemp(prefix="bt-bench-slurm-"))
    script = str(ROOT / "scripts" / "slurm-cluster")
    out = subprocess.run([script, "start", str(base)], check=True, capture_output=True, text=True)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
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
