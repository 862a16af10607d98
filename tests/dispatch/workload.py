"""Work for the end-to-end dispatcher tests: a 200-job DAG with subjobs, and quick job batches."""

from __future__ import annotations

from bt import Brownthrower
from bt.values import JobSpec, NodeSpec

SUMS = 48  #: sum4 jobs; each decomposes into 3 add2 subjobs at run time
FAN_IN = 6  #: each pipe job depends on this many sum4 jobs
DAG_SIZE = SUMS * 4 + SUMS // FAN_IN  #: 48 sum4 + 144 add2 subjobs + 8 pipe = 200 jobs


def submit_dag(app: Brownthrower) -> list[int]:
    """48 sum4 jobs fanning into 8 pipe jobs, all submitted; the top-level job ids."""
    sums = [
        NodeSpec(("sum", i), JobSpec("sum4", input=f"[{i}, 1, 2, 3]"), submit=True)
        for i in range(SUMS)
    ]
    pipes = [NodeSpec(("pipe", k), JobSpec("pipe"), submit=True) for k in range(SUMS // FAN_IN)]
    links = [(("sum", i), ("pipe", i // FAN_IN)) for i in range(SUMS)]
    return list(app.jobs.create_graph(sums + pipes, links).values())


def submit_jobs(app: Brownthrower, task: str, count: int, input: str | None = None) -> list[int]:
    """`count` independent submitted jobs of `task`."""
    nodes = [NodeSpec(i, JobSpec(task, input=input), submit=True) for i in range(count)]
    return list(app.jobs.create_graph(nodes).values())


def finished(app: Brownthrower, tasks: list[str] | None = None) -> bool:
    """Whether no job is waiting or running any more."""
    counts = app.jobs.counts(tasks)
    return all(counts[s] == 0 for s in ("QUEUED", "RUNNING", "STAND-BY"))
