"""Checking what a new job is made of, the same way for every path that creates jobs.

A spec is checked before anything is written: its task name and sizes, that its config and input
are YAML, and, when the task is installed here, the task's own `validate` hook. The task also
gives the job's attempt budget (`Task.max_attempts`) unless the spec sets one.
"""

from __future__ import annotations

from dataclasses import replace

from bt import errors, yamlio
from bt.models import NAME_LENGTH
from bt.registry import TaskRegistry
from bt.values import DEFAULT_MAX_ATTEMPTS, JobSpec


def check_spec(spec: JobSpec, registry: TaskRegistry | None) -> JobSpec:
    """The spec with its YAML checked and its attempt budget settled.

    `InvalidValue` for a bad name, size, YAML or a refusal by the task's `validate`;
    `TaskNotFound`/`PluginLoadError` when a `registry` is given and cannot provide the task.
    """
    if not spec.task or len(spec.task) > NAME_LENGTH:
        raise errors.InvalidValue(f"A task name has 1 to {NAME_LENGTH} characters: {spec.task!r}.")
    yamlio.check_size(spec.description, yamlio.MAX_DESCRIPTION_BYTES, "description")
    config = yamlio.checked(spec.config, what="config")
    input_ = yamlio.checked(spec.input, what="input")
    if registry is not None:
        validate_with_task(registry, spec.task, config, input_)
    attempts = spec.max_attempts or max_attempts_of(registry, spec.task)
    return replace(spec, config=config, input=input_, max_attempts=attempts)


def validate_with_task(
    registry: TaskRegistry, task: str, config: str | None, input_: str | None
) -> None:
    """Run the task's validation hook; `InvalidValue` carries its message."""
    task_class = registry.get(task)
    try:
        task_class().validate(yamlio.parse(config), yamlio.parse(input_))
    except (ValueError, TypeError, KeyError) as exc:
        raise errors.InvalidValue(f"Task {task!r} refuses this job: {exc}") from exc


def max_attempts_of(registry: TaskRegistry | None, task: str) -> int:
    """The task's `max_attempts`, or the default when the task is not available here."""
    if registry is None or task not in registry:
        return DEFAULT_MAX_ATTEMPTS
    try:
        return registry.get(task).max_attempts
    except errors.BrownthrowerError:
        return DEFAULT_MAX_ATTEMPTS
