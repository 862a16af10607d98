"""brownthrower: job orchestration for scientific pipelines on batch farms (core library).

The core knows nothing of terminals: the shell (`shell`), the runner and the dispatcher are front
ends over `Brownthrower`'s services.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bt.errors import BrownthrowerError
from bt.status import BLOCKED, RUNNABLE, Status
from bt.task import JobOutput, NewJob, Task, TaskContext
from bt.usage import Usage
from bt.values import (
    EDIT_FIELDS,
    Attempt,
    Beat,
    Claim,
    Dag,
    DatabaseInfo,
    DeclaredJob,
    EditField,
    Failed,
    Finding,
    Finished,
    JobDetails,
    JobEvent,
    JobInfo,
    JobSpec,
    LimitInfo,
    LiveRunner,
    Neighbourhood,
    NodeSpec,
    Page,
    Refill,
    Requeued,
    RunnerInfo,
    RunResult,
    Settled,
    TagInfo,
    TreeNode,
)

if TYPE_CHECKING:
    from bt.client import Brownthrower, inspect_database, upgrade_database
    from bt.registry import TaskEntry, TaskRegistry

#: names imported on first use, and their modules
_LAZY = {
    "Brownthrower": "bt.client",
    "inspect_database": "bt.client",
    "upgrade_database": "bt.client",
    "TaskEntry": "bt.registry",
    "TaskRegistry": "bt.registry",
}

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """`bt.Brownthrower`, the database functions and the registry are imported on first use, so
    that task plugins (which import `bt.Task`) load without the database layer: the runner's job
    processes stay small and fork fast."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'bt' has no attribute {name!r}")


__all__ = [
    "BLOCKED",
    "EDIT_FIELDS",
    "RUNNABLE",
    "Attempt",
    "Beat",
    "Brownthrower",
    "BrownthrowerError",
    "Claim",
    "Dag",
    "DatabaseInfo",
    "DeclaredJob",
    "EditField",
    "Failed",
    "Finding",
    "Finished",
    "JobDetails",
    "JobEvent",
    "JobInfo",
    "JobOutput",
    "JobSpec",
    "LimitInfo",
    "LiveRunner",
    "Neighbourhood",
    "NewJob",
    "NodeSpec",
    "Page",
    "Refill",
    "Requeued",
    "RunResult",
    "RunnerInfo",
    "Settled",
    "Status",
    "TagInfo",
    "Task",
    "TaskContext",
    "TaskEntry",
    "TaskRegistry",
    "TreeNode",
    "Usage",
    "__version__",
    "inspect_database",
    "upgrade_database",
]
