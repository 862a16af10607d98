"""The fork server's tasks: each name with its class, imported from the `module:attr` target
that the runner's `TaskRegistry` resolved.

The server leaves entry-point discovery to the runner: `importlib.metadata` (and the archive
and compression modules it pulls in) would map dozens more memory areas into the server, and
every job's `fork()` copies them all.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from bt.errors import TaskNotFound
from bt.task import Task


class TaskTable:
    """Task classes by name, imported at once (the registry checked them in the runner)."""

    def __init__(self, targets: Mapping[str, str]) -> None:
        self._tasks = {name: _load(name, target) for name, target in targets.items()}

    def get(self, name: str) -> type[Task]:
        """The task class for `name`: `TaskNotFound` if the server was not given it."""
        try:
            return self._tasks[name]
        except KeyError:
            raise TaskNotFound(name) from None


def _load(name: str, target: str) -> type[Task]:
    module, _, attribute = target.partition(":")
    loaded: object = importlib.import_module(module.strip())
    for part in filter(None, attribute.strip().split(".")):
        loaded = getattr(loaded, part)
    if not (isinstance(loaded, type) and issubclass(loaded, Task)):
        raise TypeError(f"{target} is not a subclass of bt.Task")
    loaded.name = name
    return loaded


def encode(targets: Mapping[str, str]) -> list[str]:
    """`name=target` arguments for the server's command line."""
    return [f"{name}={target}" for name, target in targets.items()]


def decode(arguments: list[str]) -> dict[str, str]:
    """The targets of `encode`'s arguments."""
    return dict(argument.partition("=")[::2] for argument in arguments)
