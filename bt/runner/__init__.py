"""The runner daemon `bt-runner`: claims runnable jobs and runs each one isolated.

Process layout (see `bt.runner.forkserver`): the runner process holds the database connections
and its threads (heartbeat, PostgreSQL listener); a fork server, forked from it at start-up before
any thread or connection exists, has every task plugin imported and forks one job process per job.
A job process runs task code and reports over pipes; the runner does every database write.
"""

from __future__ import annotations

from bt.runner.daemon import Runner
from bt.runner.options import RunnerOptions

__all__ = ["Runner", "RunnerOptions"]
