"""The dispatcher core: runner pilots on a batch farm, kept by a reconciliation loop.

`backend` defines the small interface to a batch system (`submit`, `status`, `cancel`) and
`local`/`slurm` implement it; `script` renders what a pilot runs; `reconcile` compares desired
pilots with the batch system's view; `dispatcher` ties that to job counts; `options` holds a
dispatcher's settings (`DispatcherOptions`) and builds it. The command line and the terminal
rendering live in the `shell.dispatcher` package.
"""

from __future__ import annotations

from bt.dispatch.backend import Backend, BatchError, Pilot
from bt.dispatch.dispatcher import BT_STATUSES, Dispatcher, Snapshot
from bt.dispatch.options import DispatcherOptions, build_dispatcher
from bt.dispatch.reconcile import PassReport, Policy, Reconciler

__all__ = [
    "BT_STATUSES",
    "Backend",
    "BatchError",
    "Dispatcher",
    "DispatcherOptions",
    "PassReport",
    "Pilot",
    "Policy",
    "Reconciler",
    "Snapshot",
    "build_dispatcher",
]
