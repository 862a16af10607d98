"""The environments of the fork server and of job processes: never a password, always a mark.

The fork server is started with the runner's environment minus anything that holds the database
password (the URL is masked, libpq's `PGPASSWORD` dropped); job processes are forked from it, so
neither ever holds the password, not even in the environment /proc shows. The runner scrubs the
password from its own command line and initial environment as well, since task code runs as the
same user and could read those in /proc.

Every job process carries `BT_RUN_MARK=<job id>:<claim token>`, and so does everything it starts:
it identifies a run's leftover processes on this host (`bt.runner.sweep`) once the run is no
longer held, even when neither the runner nor its fork server survived to kill them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from sqlalchemy.engine import make_url

from bt.config import mask_url
from bt.runner import osutil
from bt.runner.protocol import MARK
from bt.values import Claim

URL_VARIABLE = "BT_DATABASE_URL"
SECRET_VARIABLES = ("PGPASSWORD",)  #: dropped from the fork server's environment
MARK_ROOM = 80  #: characters reserved for the mark in the fork server's initial environment


def server_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The fork server's environment: `environ` (the runner's) without secrets, and room for
    each job process to write its mark where /proc shows it."""
    env = {k: v for k, v in (os.environ if environ is None else environ).items()}
    for name in SECRET_VARIABLES:
        env.pop(name, None)
    if URL_VARIABLE in env:
        env[URL_VARIABLE] = mask_url(env[URL_VARIABLE])
    env[MARK] = " " * MARK_ROOM
    return env


def run_mark(claim: Claim) -> str:
    """The mark of the processes of this run of `claim`'s job."""
    return f"{claim.job_id}:{claim.token}"


def parse_mark(mark: str | None) -> tuple[int, str] | None:
    """(job id, claim token) of a mark; None for no mark or a blank one (a spare process)."""
    job, _, token = (mark or "").partition(":")
    return (int(job), token) if job.isdigit() and token else None


def password_of(url: str) -> str | None:
    """The password in a database URL (in its authority or its query), if any."""
    parsed = make_url(url)
    query = parsed.query.get("password")
    return parsed.password or (query if isinstance(query, str) else None)


def scrub_runner(url: str) -> None:
    """Hide the database password from /proc/<runner pid>/cmdline and environ (what task code,
    running as the same user, could read there)."""
    if password := password_of(url):
        osutil.scrub_own_memory(password, entries_with="://")
    for name in SECRET_VARIABLES:
        if value := os.environ.get(name):
            osutil.scrub_own_memory(value, entries_with=f"{name}=")
    for name in (URL_VARIABLE, *SECRET_VARIABLES):
        if name in os.environ:  # libc's getenv reads the scrubbed memory: give it the real value
            os.environ[name] = os.environ[name]
