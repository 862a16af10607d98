"""The runner daemon `bt-runner`: claims runnable jobs and runs each one isolated.

Process layout (see `bt.runner.forkserver`): the runner process holds the database connections
and its threads (heartbeat, PostgreSQL listener); a fork server, started first thing as a lean
interpreter that imports the task plugins but not the database layer, forks one job process per
job. A job process runs task code and reports over pipes; the runner does every database write.

This package's `__init__` imports nothing, so the fork server and job processes stay small.
"""

from __future__ import annotations
