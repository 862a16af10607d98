"""Checking what a new job is made of, the same way for every path that creates jobs.

A spec is checked before anything is written: its task name and sizes, that its config and input
are YAML, and, when the task is installed here, the task's own `validate` hook. The task also
gives the job's failure handling (`max_attempts`, `retries`, `retry_delay`, `retry_backoff`,
`time_limit`) and the concurrency limits it holds (`limits`) wherever the spec leaves them unset.
Whether those limits exist is for the transaction that inserts the job (`bt.limits.require`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bt import errors, yamlio
from bt.limitnames import checked_limits
from bt.models import NAME_LENGTH
from bt.registry import TaskRegistry
from bt.task import Task
from bt.values import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RETRIES,
    DEFAULT_RETRY_BACKOFF,
    DEFAULT_RETRY_DELAY,
    MAX_RETRY_DELAY,
    JobSpec,
)

MAX_RETRIES = 1000  #: the most automatic re-runs (and runs for lost runners) a job may have
#: what a job takes from its task unless its spec says, with the defaults
POLICY: dict[str, Any] = {
    "max_attempts": DEFAULT_MAX_ATTEMPTS,
    "retries": DEFAULT_RETRIES,
    "retry_delay": DEFAULT_RETRY_DELAY,
    "retry_backoff": DEFAULT_RETRY_BACKOFF,
    "time_limit": None,
    "limits": {},
}


def check_spec(spec: JobSpec, registry: TaskRegistry | None) -> JobSpec:
    """The spec with its YAML checked and its attempt budget settled.

    `InvalidValue` for a bad name, size, YAML or a refusal by the task's `validate`;
    `TaskNotFound`/`PluginLoadError` when a `registry` is given and cannot provide the task.
    """
    if not spec.task or len(spec.task) > NAME_LENGTH:
        raise errors.InvalidValue(f"A task name has 1 to {NAME_LENGTH} characters: {spec.task!r}.")
    yamlio.check_text(spec.task, "task name")
    yamlio.check_size(spec.description, yamlio.MAX_DESCRIPTION_BYTES, "description")
    config = yamlio.checked(spec.config, what="config")
    input_ = yamlio.checked(spec.input, what="input")
    if registry is not None:
        validate_with_task(registry, spec.task, config, input_)
    _check_failure_handling(spec)
    policy = task_policy(registry, spec.task)
    settled = {name: value for name, value in policy.items() if getattr(spec, name) is None}
    limits = checked_limits(settled.pop("limits", spec.limits), spec.task)
    return replace(spec, config=config, input=input_, limits=limits, **settled)


def _check_failure_handling(spec: JobSpec) -> None:
    checks = (
        ("max_attempts", spec.max_attempts, 1, MAX_RETRIES, _number),
        ("retries", spec.retries, 0, MAX_RETRIES, _number),
        ("retry delay", spec.retry_delay, 0, MAX_RETRY_DELAY, _seconds),
        ("retry backoff", spec.retry_backoff, 1, 100, _number),
        ("time limit", spec.time_limit, 0.001, 366 * 86400, _seconds),
    )
    for what, value, low, high, shown in checks:
        if value is not None and not low <= value <= high:
            bounds = f"from {shown(low)} to {shown(high)}"
            raise errors.InvalidValue(f"The {what} must be {bounds}: {shown(value)}.")


def _number(value: float) -> str:
    return f"{value:g}"


def _seconds(value: float) -> str:
    """A duration as people read it: `0.001 s`, `90 s`, `1 hour`, `1 year` (366 days)."""
    for unit, size in (("year", 366 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if value >= size and value % size == 0:
            count = value / size
            return f"{count:g} {unit}" + ("" if count == 1 else "s")
    return f"{value:,.6f}".rstrip("0").rstrip(".") + " s"


def task_policy(registry: TaskRegistry | None, task: str) -> dict[str, Any]:
    """The task's attempt, retry and time-limit attributes, or the defaults when the task is
    not available here (a job may be created where its task is not installed)."""
    task_class = _task_class(registry, task)
    return {name: getattr(task_class, name, default) for name, default in POLICY.items()}


def _task_class(registry: TaskRegistry | None, task: str) -> type[Task] | None:
    if registry is None or task not in registry:
        return None
    try:
        return registry.get(task)
    except errors.BrownthrowerError:
        return None


def validate_with_task(
    registry: TaskRegistry, task: str, config: str | None, input_: str | None
) -> None:
    """Run the task's validation hook; `InvalidValue` carries its message."""
    task_class = registry.get(task)
    try:
        task_class().validate(yamlio.parse(config), yamlio.parse(input_))
    except (ValueError, TypeError, KeyError) as exc:
        raise errors.InvalidValue(f"Task {task!r} refuses this job: {exc}") from exc
