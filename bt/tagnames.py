"""Tag names: the ones brownthrower itself writes, and the rule every tag name follows.

Free of SQLAlchemy, so job processes (which check their tags before sending them) stay lean.
User tags must not start with `bt_`.
"""

from __future__ import annotations

from bt import errors

PREFIX = "bt_"
NAME_LENGTH = 255  #: characters in a tag name
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
#: Tags the end of a run does not write: `job tags` shows them from the job's latest run in its
#: history (`bt_runner` is written while a run lasts, once it has run half a second)
FROM_HISTORY = (EXIT_CODE, RUNNER)


def check_name(name: str, *, system: bool = False) -> None:
    """`InvalidValue` unless `name` is a valid tag name (reserved `bt_` names only if `system`)."""
    if not name or len(name) > NAME_LENGTH or not name.isprintable() or " " in name:
        raise errors.InvalidValue(
            f"Tag name {name!r} must be 1 to {NAME_LENGTH} printable characters, no spaces."
        )
    if name.startswith(PREFIX) and not system:
        raise errors.InvalidValue(f"Tag names starting with {PREFIX!r} are reserved.")
