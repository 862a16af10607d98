from __future__ import annotations

import pytest

from bt import Brownthrower, Status, errors
from bt.jobs import JobSpec


def test_create_makes_a_stashed_job(app: Brownthrower) -> None:
    job = app.jobs.create(JobSpec("noop"))
    assert job.status is Status.STASHED


def test_create_refuses_an_unknown_task(app: Brownthrower) -> None:
    with pytest.raises(errors.TaskNotFound, match="'nosuch' is not available"):
        app.jobs.create(JobSpec("nosuch"))
