"""Killing what is left of runs that no longer hold their job, found by their run mark.

A job's process group dies with the job, and the job process dies with the fork server (a
parent-death signal), but processes the job started outlive both when the runner and its fork
server are killed together (kill -9, the OOM killer): they are orphans under init while the job
is re-run elsewhere. Every process of a run carries its mark, `BT_RUN_MARK=<job id>:<token>`
(`bt.runner.environ`); at start and whenever it recovers lost runners' jobs, a runner looks for
processes on its host marked for its database and kills those whose token no longer holds the
job. Processes are
identified by their mark alone, never by name, and killed through a pidfd after reading the mark
again, so a reused pid is never hit.
"""

from __future__ import annotations

import logging
import os
import signal

from bt.runner import osutil
from bt.runner.environ import parse_mark
from bt.runner.protocol import MARK
from bt.services import ClaimService
from bt.values import Claim

log = logging.getLogger("bt.runner")

Run = tuple[int, str]  #: (job id, claim token)


def sweep(claims: ClaimService, scope: str) -> int:
    """Kill this host's processes marked for database `scope` whose run no longer holds its
    job; how many."""
    found = marked(scope)
    stale = stale_runs(claims, set(found.values()))
    killed = 0
    for pid, run in found.items():
        if run in stale and kill_marked(pid, run, scope):
            log.warning("leftover_killed job=%d pid=%d (its run is over)", run[0], pid)
            killed += 1
    return killed


def marked(scope: str) -> dict[int, Run]:
    """The run of every process of this host whose environment carries a mark of `scope`."""
    found = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            run = parse_mark(osutil.initial_env(int(entry.name), MARK), scope)
            if run is not None:
                found[int(entry.name)] = run
    return found


def stale_runs(claims: ClaimService, runs: set[Run]) -> set[Run]:
    """Those of `runs` whose token no longer holds the job (one query per run of a job)."""
    layers: list[dict[int, str]] = []
    for job_id, token in sorted(runs):
        layer = next((layer for layer in layers if job_id not in layer), None)
        if layer is None:
            layers.append(layer := {})
        layer[job_id] = token
    stale: set[Run] = set()
    for layer in layers:
        held = [Claim(job_id, "", None, token, 0, False) for job_id, token in layer.items()]
        stale |= {(job_id, layer[job_id]) for job_id in claims.released(held)}
    return stale


def kill_marked(pid: int, run: Run, scope: str) -> bool:
    """SIGKILL process `pid` if it still carries the mark of `run` on `scope`."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return False
    try:
        if parse_mark(osutil.initial_env(pid, MARK), scope) != run:
            return False
        signal.pidfd_send_signal(fd, signal.SIGKILL)
    except OSError:
        return False
    finally:
        os.close(fd)
    return True
