"""The task registry: task plugins found through the entry-point group `brownthrower.task`.

Names are known without importing anything; a plugin is imported the first time its task is
needed. A plugin that fails to import, is not a `Task`, or shares its name with another plugin is
recorded with its error (shown by `task list`) and never crashes the caller.
"""

from __future__ import annotations

import fnmatch
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from bt.errors import PluginLoadError, TaskNotFound
from bt.task import Task

GROUP = "brownthrower.task"


@dataclass
class TaskEntry:
    """One registered task: where it comes from and, once loaded, its class or its load error."""

    name: str
    distribution: str
    target: str
    point: EntryPoint | None = None
    task: type[Task] | None = None
    error: str | None = None
    traceback: str | None = None

    @property
    def loaded(self) -> bool:
        return self.task is not None or self.error is not None


class TaskRegistry:
    """Lazily loaded mapping of task names to `Task` classes."""

    def __init__(self, points: Iterable[EntryPoint] | None = None) -> None:
        found = entry_points(group=GROUP) if points is None else points
        self._entries: dict[str, TaskEntry] = {}
        for point in found:
            self._add(point)

    def _add(self, point: EntryPoint) -> None:
        dist = point.dist.name if point.dist is not None else "?"
        existing = self._entries.get(point.name)
        if existing is None:
            self._entries[point.name] = TaskEntry(point.name, dist, point.value, point)
            return
        if existing.target == point.value and existing.distribution == dist:
            return  # the same distribution seen twice on sys.path
        existing.task = None
        existing.error = (
            f"duplicate task name {point.name!r}: registered by {existing.distribution} "
            f"({existing.target}) and by {dist} ({point.value})"
        )

    def names(self) -> list[str]:
        """Every registered name, loadable or not, sorted; imports nothing."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def entry(self, name: str) -> TaskEntry:
        """The entry for `name`, loaded; `TaskNotFound` when nothing registers it."""
        try:
            entry = self._entries[name]
        except KeyError:
            raise TaskNotFound(name) from None
        if not entry.loaded:
            self._load(entry)
        return entry

    def get(self, name: str) -> type[Task]:
        """The task class for `name`: `TaskNotFound` or `PluginLoadError` if unavailable."""
        entry = self.entry(name)
        if entry.task is None:
            raise PluginLoadError(f"Task {name!r} cannot be loaded: {entry.error}")
        return entry.task

    def entries(self) -> list[TaskEntry]:
        """Every entry, loaded, sorted by name (for `task list`)."""
        return [self.entry(name) for name in self.names()]

    def available(self) -> list[str]:
        """Names of the tasks that load correctly."""
        return [entry.name for entry in self.entries() if entry.task is not None]

    def matching(self, patterns: Iterable[str]) -> list[str]:
        """Loadable task names matching any of the glob `patterns` (all of them if none given)."""
        wanted = list(patterns) or ["*"]
        return [n for n in self.available() if any(fnmatch.fnmatchcase(n, p) for p in wanted)]

    def _load(self, entry: TaskEntry) -> None:
        assert entry.point is not None
        try:
            loaded = entry.point.load()
        except Exception as exc:  # noqa: BLE001 - any plugin failure is recorded, never raised
            entry.error = f"{type(exc).__name__}: {exc}"
            entry.traceback = traceback.format_exc()
            return
        if not (isinstance(loaded, type) and issubclass(loaded, Task)):
            entry.error = f"{entry.target} is not a subclass of bt.Task"
        elif loaded.name and loaded.name != entry.name:
            entry.error = (
                f"{entry.target} calls itself {loaded.name!r}, registered as {entry.name!r}"
            )
        else:
            loaded.name = entry.name
            entry.task = loaded
