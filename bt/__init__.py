"""brownthrower: job orchestration for scientific pipelines on batch farms (core library).

The core knows nothing of terminals: the shell (`shell`), the runner and the dispatcher are front
ends over `Brownthrower`'s services.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bt.errors import BrownthrowerError
from bt.status import Status
from bt.task import JobOutput, NewJob, Task, TaskContext

if TYPE_CHECKING:
    from bt.client import Brownthrower

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """`bt.Brownthrower` is imported on first use, so that task plugins (which import `bt.Task`)
    load without the database layer: the runner's job processes stay small and fork fast."""
    if name == "Brownthrower":
        from bt.client import Brownthrower

        return Brownthrower
    raise AttributeError(f"module 'bt' has no attribute {name!r}")


__all__ = [
    "Brownthrower",
    "BrownthrowerError",
    "JobOutput",
    "NewJob",
    "Status",
    "Task",
    "TaskContext",
    "__version__",
]
