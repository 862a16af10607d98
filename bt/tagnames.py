"""Names of the tags brownthrower itself writes. User tags must not start with `bt_`."""

from __future__ import annotations

PREFIX = "bt_"
TRACEBACK = "bt_traceback"  #: failure text: the Python traceback, or what killed the job
REASON = "bt_reason"  #: one-line reason of the last failure: "aborted", "runner lost", ...
EXIT_CODE = "bt_exit_code"  #: exit code (or -signal) of the job process
STDOUT = "bt_stdout"  #: captured standard output (head and tail when long)
STDERR = "bt_stderr"  #: captured standard error (head and tail when long)
LOG = "bt_log"  #: captured Python logging of the task
PROFILE = "bt_profile"  #: cProfile summary, with --profile
RUNNER = "bt_runner"  #: host, pid and work dir of the run

#: Tags describing one run; a new submit clears them so an old failure never looks current.
RUN_TAGS = (TRACEBACK, REASON, EXIT_CODE, STDOUT, STDERR, LOG, PROFILE, RUNNER)
