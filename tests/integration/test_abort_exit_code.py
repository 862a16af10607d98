"""The exit code of a run killed because its job was aborted, recorded by its runner once the
process is gone: in the abort's history event, unless the job moved on since."""

from __future__ import annotations

from bt import Brownthrower
from tests.factories import claim, job, runner


def test_an_aborted_run_gets_its_exit_code_in_its_history(app: Brownthrower) -> None:
    job_id = job(app, submit=True)
    held = claim(app, runner(app))
    app.jobs.abort(job_id)
    assert app.claims.record_abort_exit(held, -15)
    (attempt,) = app.jobs.history(job_id)
    assert (attempt.outcome, attempt.exit_code) == ("FAILED", -15)


def test_an_exit_code_arriving_after_a_resubmit_writes_nothing(app: Brownthrower) -> None:
    job_id = job(app, submit=True)
    held = claim(app, runner(app))
    app.jobs.abort(job_id)
    app.jobs.submit(job_id)
    assert not app.claims.record_abort_exit(held, -15)
    assert [e.exit_code for e in app.jobs.events(job_id)] == [None] * 4
