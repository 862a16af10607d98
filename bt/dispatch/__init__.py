"""The dispatcher core: runner pilots on a batch farm, kept by a reconciliation loop.

`backend` defines the small interface to a batch system (`submit`, `status`, `cancel`) and
`local`/`slurm` implement it; `script` renders what a pilot runs; `reconcile` compares desired
pilots with the batch system's view; `dispatcher` ties that to job counts; `options` is the
command line. Terminal rendering lives in the `shell` package.
"""

from __future__ import annotations

from bt.dispatch.backend import Backend, BatchError, Pilot
from bt.dispatch.dispatcher import Dispatcher, Snapshot
from bt.dispatch.reconcile import PassReport, Policy, Reconciler

__all__ = [
    "Backend",
    "BatchError",
    "Dispatcher",
    "PassReport",
    "Pilot",
    "Policy",
    "Reconciler",
    "Snapshot",
]
