"""What a farm of pilots needs from each runner: one connection, no LISTEN through a pooler, new
work taken while a retry waits, and an idle pilot that gives its batch slot back."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from sqlalchemy import make_url

from bt import Brownthrower, Status
from bt.values import JobSpec
from tests.conftest import is_pooled, require_postgresql
from tests.runner.conftest import Runners, status, submit, wait_for


def _server_connections(url: str) -> list[tuple[str, str]]:
    """(application_name, last query) of every server connection to `url`'s database."""
    name = make_url(url).database
    admin = make_url(require_postgresql()).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT application_name, query FROM pg_stat_activity WHERE datname = %s", [name]
        ).fetchall()
    return [(str(app), str(query)) for app, query in rows]


class Sampler(threading.Thread):
    """Samples the server connections of a test database until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.samples = url, []  # type: ignore[var-annotated]
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.05):
            self.samples.append(_server_connections(self.url))


def _drain_with_sampling(app: Brownthrower, runners: Runners) -> list[list[tuple[str, str]]]:
    sampler = Sampler(runners.url)
    sampler.start()
    jobs = [submit(app, "noop") for _ in range(20)]
    hanging = submit(app, "hang")
    runner = runners.start("--loop", "--slots", "4", "--lease", "2", "--poll", "0.2")
    wait_for(lambda: all(status(app, j) is Status.DONE for j in jobs), "the short jobs")
    wait_for(lambda: status(app, hanging) is Status.RUNNING, "the hanging job to run")
    time.sleep(1.5)  # heartbeats and abort checks happen meanwhile, on the same connection
    app.jobs.abort(hanging)
    wait_for(lambda: runner.poll() is None and not app.runners.list()[0].jobs, "the abort")
    sampler.stopped.set()
    sampler.join()
    return sampler.samples


@pytest.mark.parametrize(
    "farm_db_url",
    [
        pytest.param("postgresql", marks=pytest.mark.postgresql),
        pytest.param("pgbouncer", marks=pytest.mark.postgresql),
    ],
    indirect=True,
)
def test_a_runner_holds_at_most_one_connection_and_never_listens_through_a_pooler(
    app: Brownthrower, runners: Runners
) -> None:
    samples = _drain_with_sampling(app, runners)
    runner_connections = [sum(a == "bt-runner" for a, _q in s) for s in samples]
    if is_pooled(runners.url):  # the bouncer's server connections carry no runner name
        assert not any(q.upper().startswith("LISTEN") for s in samples for _a, q in s)
    else:
        assert max(runner_connections) == 1


def test_a_draining_runner_takes_new_work_while_a_retry_waits(
    app: Brownthrower, runners: Runners
) -> None:
    waiting = app.jobs.create(JobSpec("raiser", retries=1, retry_delay=600), submit=True).id
    runner = runners.start("--poll", "0.2", "--idle-poll", "1")
    wait_for(lambda: app.jobs.get(waiting).attempts == 1 and status(app, waiting) is Status.QUEUED,
             "the first attempt to fail and wait for its retry")  # fmt: skip
    fresh = submit(app, "noop")
    wait_for(lambda: status(app, fresh) is Status.DONE, "the new job to run", timeout=20)
    app.jobs.abort(waiting)
    assert runner.wait(timeout=20) == 0


def test_a_looping_runner_with_idle_exit_leaves_once_idle_that_long(
    app: Brownthrower, runners: Runners
) -> None:
    job = submit(app, "noop")
    runner = runners.start("--loop", "--idle-exit", "1", "--idle-poll", "0.2", "--poll", "0.2")
    assert runner.wait(timeout=30) == 0
    assert status(app, job) is Status.DONE
    assert "reason=idle" in (runners.tmp / "runner-0.log").read_text()
