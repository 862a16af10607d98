"""A shell rides out a database outage: one error per command during it, working after it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bt import Brownthrower
from bt.db import Database
from bt.schema import upgrade
from shell.app import build_shell
from tests import pgcluster
from tests.conftest import require_postgresql
from tests.shell.conftest import Driver


@pytest.fixture
def private_cluster() -> Iterator[pgcluster.Cluster]:
    """A PostgreSQL cluster of this test's own, which it may stop and start."""
    require_postgresql()
    cluster = pgcluster.Cluster()
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.mark.slow
@pytest.mark.postgresql
def test_a_shell_fails_one_line_per_command_in_an_outage_and_recovers(
    private_cluster: pgcluster.Cluster,
) -> None:
    assert private_cluster.url is not None
    db = Database(private_cluster.url)
    upgrade(db)
    with Brownthrower(db) as app:
        run = Driver(build_shell(None, client=app, scripted=True, auto_suggest=False))
        ride_out_an_outage(run, private_cluster)


def ride_out_an_outage(run: Driver, private_cluster: pgcluster.Cluster) -> None:
    assert not run("job create noop").failed
    private_cluster.halt()
    during = [run("job list"), run("job create noop")]
    assert all(r.failed and r.err.count("\n") == 1 and "ERROR:" in r.err for r in during)
    private_cluster.resume()
    after = run("job create noop")
    assert not after.failed and [j.id for j in run("job list").data] == [1, 2]
