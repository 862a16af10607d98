"""What each run cost is kept in the job's history, on the attempt it belongs to: done, retried
after its time limit, or aborted (on SQLite, PostgreSQL and through PgBouncer)."""

from __future__ import annotations

import signal

from bt import Brownthrower, Status
from tests.runner.conftest import Runners, status, submit
from tests.runner.test_usage import burning


def test_a_finished_run_keeps_its_figures_in_its_attempt(
    app: Brownthrower, runners: Runners
) -> None:
    job = submit(app, "burn", config="seconds: 0.3")
    runners.run()
    assert status(app, job) is Status.DONE
    usage = app.jobs.history(job)[-1].usage
    assert usage is not None and usage.exit_code == 0
    assert usage.cpu >= 0.25 and usage.realtime >= 0.3 and usage.peak_rss > 0
    assert usage.host and usage.slots == 1


def test_every_attempt_killed_at_its_time_limit_keeps_its_own_figures(
    app: Brownthrower, runners: Runners
) -> None:
    job = submit(app, "burn", config="seconds: 300", time_limit=0.5, retries=1, retry_delay=0)
    runners.run()
    attempts = app.jobs.history(job)
    assert [a.outcome for a in attempts] == ["retried", "FAILED"]
    for attempt in attempts:
        assert attempt.usage is not None
        assert attempt.usage.exit_code == -signal.SIGTERM and attempt.usage.realtime >= 0.5


def test_an_aborted_run_keeps_its_figures_in_its_attempt(
    app: Brownthrower, runners: Runners
) -> None:
    job, _pid = burning(app, runners)
    app.jobs.abort(job)
    assert runners.started[0].wait(timeout=60) == 0
    (attempt,) = app.jobs.history(job)
    assert attempt.usage is not None and attempt.usage.cpu >= 0.1
    assert attempt.exit_code == -signal.SIGTERM
