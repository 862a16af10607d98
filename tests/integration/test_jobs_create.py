from __future__ import annotations

import pytest

from bt import Brownthrower, Status, errors
from bt.values import JobSpec
from bt.yamlio import MAX_YAML_BYTES
from tests.factories import job


def test_create_makes_a_stashed_job(app: Brownthrower) -> None:
    assert app.jobs.create(JobSpec("noop")).status is Status.STASHED


def test_create_can_submit_at_once(app: Brownthrower) -> None:
    assert app.jobs.create(JobSpec("noop"), submit=True).status is Status.QUEUED


def test_create_keeps_the_yaml_exactly_as_written(app: Brownthrower) -> None:
    text = "# my settings\nn: 2   # two\nm: 1\n"
    assert app.jobs.get(job(app, "picky", config=text)).config == text


def test_create_refuses_an_unknown_task(app: Brownthrower) -> None:
    with pytest.raises(errors.TaskNotFound, match="'nosuch' is not available"):
        app.jobs.create(JobSpec("nosuch"))


def test_create_refuses_a_task_whose_plugin_is_broken(app: Brownthrower) -> None:
    with pytest.raises(errors.PluginLoadError, match="this plugin is broken on purpose"):
        app.jobs.create(JobSpec("broken"))


def test_create_refuses_malformed_yaml_and_creates_nothing(app: Brownthrower) -> None:
    with pytest.raises(errors.InvalidYaml, match="config is not valid YAML"):
        app.jobs.create(JobSpec("noop", config="a: [1,"))
    assert app.jobs.list().jobs == []


def test_create_runs_the_task_validation_hook(app: Brownthrower) -> None:
    with pytest.raises(errors.InvalidValue, match=r"Task 'picky' refuses this job: .*positive n"):
        app.jobs.create(JobSpec("picky", config="n: -1"))


def test_create_refuses_oversized_input(app: Brownthrower) -> None:
    with pytest.raises(errors.ValueTooLarge):
        app.jobs.create(JobSpec("noop", input="x" * (MAX_YAML_BYTES + 1)))


def test_clone_copies_config_input_and_parents(app: Brownthrower) -> None:
    parent, original = job(app), job(app, "echo", input="[1, 2]")
    app.jobs.link(parent, original)
    copy = app.jobs.get(app.jobs.clone(original).id)
    assert (copy.status, copy.input, copy.parents) == (Status.STASHED, "[1, 2]", (parent,))


def test_get_of_an_unknown_job_names_it(app: Brownthrower) -> None:
    with pytest.raises(errors.JobNotFound, match="Job 999 does not exist"):
        app.jobs.get(999)
