"""DAG-aware on-demand sizing with real pilots: the next layer's pilots are asked for while the
layer before it runs, and pilots that wait for work exit once idle."""

from __future__ import annotations

import pytest

from bt import Brownthrower, Status
from bt.dispatch import Snapshot
from bt.values import JobSpec, NodeSpec
from tests.dispatch.helpers import Dispatchers, drive

pytestmark = pytest.mark.slow

FIRST, SECOND, THIRD = 2, 3, 2  #: jobs per layer


def three_layers(app: Brownthrower) -> dict[int, list[int]]:
    """Layer 1: `sleep 300` jobs (they run until the test ends); layer 2: noop jobs, each a child
    of every layer-1 job; layer 3: noop jobs, each a child of every layer-2 job."""
    nodes = [NodeSpec((1, i), JobSpec("sleep", input="300"), submit=True) for i in range(FIRST)]
    nodes += [NodeSpec((2, i), JobSpec("noop"), submit=True) for i in range(SECOND)]
    nodes += [NodeSpec((3, i), JobSpec("noop"), submit=True) for i in range(THIRD)]
    links = [((1, i), (2, j)) for i in range(FIRST) for j in range(SECOND)]
    links += [((2, i), (3, j)) for i in range(SECOND) for j in range(THIRD)]
    ids = app.jobs.create_graph(nodes, links)
    sizes = {1: FIRST, 2: SECOND, 3: THIRD}
    return {n: [ids[(n, i)] for i in range(size)] for n, size in sizes.items()}


def test_the_second_layers_pilots_are_requested_while_the_first_layer_runs(
    dispatchers: Dispatchers, kind: str, app: Brownthrower
) -> None:
    layers = three_layers(app)
    dispatcher = dispatchers.build(
        kind, "--mode", "on-demand", "--max-pilots", "10", "--idle-exit", "120"
    )
    assert "--loop" in dispatcher.command and "--idle-exit" in dispatcher.command
    seen: list[Snapshot] = []
    drive(dispatcher, lambda s: len(submitted(seen)) >= FIRST + SECOND, timeout=90, seen=seen)
    first, *ahead = [s for s in seen if s.report.submitted]
    assert first.report.demand is not None and first.report.demand.runnable == FIRST
    assert len(first.report.submitted) == FIRST  # one pilot per runnable job
    for snapshot in ahead:  # asked for while the first layer runs: its jobs are soon runnable
        assert snapshot.report.demand is not None
        assert snapshot.report.demand.runnable == 0
        assert snapshot.report.demand.soon_runnable == SECOND
    assert all(app.jobs.info(j).status is Status.RUNNING for j in layers[1])
    assert len(submitted(seen)) == FIRST + SECOND  # none for the third layer: its parents queue

    settled = [dispatcher.step() for _ in range(3)]  # no more while nothing changes
    assert all(s.report.submitted == [] for s in settled)


def submitted(seen: list[Snapshot]) -> list[str]:
    return [batch_id for s in seen for batch_id in s.report.submitted]


def test_draining_pilots_are_not_sent_for_work_they_could_not_wait_for(
    dispatchers: Dispatchers, app: Brownthrower
) -> None:
    layers = three_layers(app)
    dispatcher = dispatchers.build("local", "--mode", "on-demand", "--max-pilots", "10")
    drive(
        dispatcher,
        lambda s: all(app.jobs.info(j).status is Status.RUNNING for j in layers[1]),
        timeout=60,
    )
    snapshot = dispatcher.step()
    assert snapshot.report.demand is not None and snapshot.report.demand.soon_runnable == SECOND
    assert snapshot.report.submitted == []
