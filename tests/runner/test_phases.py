"""prolog / run / epilog through real runners, as inventory §3 says."""

from __future__ import annotations

from bt import Brownthrower, Status, yamlio
from tests.runner.conftest import Runners, status, submit


def test_sum4_runs_its_prolog_subjobs_and_epilog(app: Brownthrower, runners: Runners) -> None:
    job = submit(app, "sum4", input="[5, 10, 12, 15]")
    runners.run()
    details = app.jobs.get(job)
    assert details.status is Status.DONE
    assert yamlio.parse(details.output) == 42
    assert details.subjobs == 3 and details.subjobs_done == 3


def test_epilog_children_run_after_their_parent(app: Brownthrower, runners: Runners) -> None:
    job = submit(app, "fanout")
    runners.run()
    details = app.jobs.get(job)
    assert yamlio.parse(details.output) == 3
    (child,) = details.children
    assert status(app, child) is Status.DONE
    assert yamlio.parse(app.jobs.get(child).output) == "after"


def test_run_output_becomes_the_job_output(app: Brownthrower, runners: Runners) -> None:
    job = submit(app, "echo", input="{a: [1, 2]}")
    runners.run()
    assert yamlio.parse(app.jobs.get(job).output) == {"a": [1, 2]}
