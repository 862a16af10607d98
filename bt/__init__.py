"""brownthrower: job orchestration for scientific pipelines on batch farms (core library).

The core knows nothing of terminals: the shell (`shell`), the runner and the dispatcher are front
ends over `Brownthrower`'s services.
"""

from __future__ import annotations

from bt.client import Brownthrower
from bt.errors import BrownthrowerError
from bt.status import Status
from bt.task import JobOutput, NewJob, Task, TaskContext

__version__ = "0.1.0"

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
