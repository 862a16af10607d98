from __future__ import annotations

import pytest

from bt import Brownthrower, errors
from tests.factories import job


def test_edit_replaces_the_config_of_a_stashed_job(app: Brownthrower) -> None:
    job_id = job(app, "picky", config="n: 1")
    assert app.jobs.edit(job_id, "config", "n: 2  # more") is True
    assert app.jobs.get(job_id).config == "n: 2  # more"


def test_edit_without_a_change_reports_none(app: Brownthrower) -> None:
    job_id = job(app, "picky", config="n: 1")
    assert app.jobs.edit(job_id, "config", "n: 1") is False


def test_edit_of_a_queued_job_is_refused(app: Brownthrower) -> None:
    job_id = job(app, submit=True)
    with pytest.raises(errors.InvalidTransition, match="cannot be edited while QUEUED"):
        app.jobs.edit(job_id, "input", "1")


def test_edit_never_overwrites_a_concurrent_change(app: Brownthrower) -> None:
    job_id = job(app, "picky", config="n: 1")
    app.jobs.edit(job_id, "config", "n: 5")
    with pytest.raises(errors.ConflictError, match="changed by another client"):
        app.jobs.edit(job_id, "config", "n: 2", expected="n: 1")
    assert app.jobs.get(job_id).config == "n: 5"


def test_edit_checks_the_task_validation(app: Brownthrower) -> None:
    job_id = job(app, "picky", config="n: 1")
    with pytest.raises(errors.InvalidValue, match="positive n"):
        app.jobs.edit(job_id, "config", "n: 0")


def test_description_can_be_edited_in_any_status(app: Brownthrower) -> None:
    job_id = job(app, submit=True)
    app.jobs.edit(job_id, "description", "calibration run, 2nd pass")
    assert app.jobs.get(job_id).description == "calibration run, 2nd pass"


def test_edit_of_an_unknown_field_is_refused(app: Brownthrower) -> None:
    with pytest.raises(errors.InvalidValue, match="not 'output'"):
        app.jobs.edit(job(app), "output", "1")  # type: ignore[arg-type]
