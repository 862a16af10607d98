"""The environments of the fork server and of job processes: never a password, always a mark.

The fork server is started with the runner's environment minus anything that holds the database
password (the URL is masked, libpq's `PGPASSWORD` dropped); job processes are forked from it, so
neither ever holds the password, not even in the environment /proc shows. The runner scrubs the
password from its own command line and initial environment as well, since task code runs as the
same user and could read those in /proc.

Every job process carries `BT_RUN_MARK=<database>:<job id>:<claim token>`, and so does everything
it starts: it identifies a run's leftover processes on this host (`bt.runner.sweep`) once the run
is no longer held, even when neither the runner nor its fork server survived to kill them.
`<database>` (`database_scope`) keeps runners of another database from judging the mark.
"""

from __future__ import annotations

import hashlib
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


def database_scope(url: str) -> str:
    """A short name of the database `url` leads to (not of how the URL is spelt: driver and
    password aside), for run marks."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        where = os.path.abspath(parsed.database or ":memory:")
    else:
        where = f"{parsed.host}:{parsed.port or ''}/{parsed.database}"
    return hashlib.sha256(f"{parsed.get_backend_name()}:{where}".encode()).hexdigest()[:12]


def run_mark(scope: str, claim: Claim) -> str:
    """The mark of the processes of this run of `claim`'s job, on database `scope`."""
    return f"{scope}:{claim.job_id}:{claim.token}"


def parse_mark(mark: str | None, scope: str) -> tuple[int, str] | None:
    """(job id, claim token) of a mark of database `scope`; None for no mark, a blank one (a
    spare process) or one of another database."""
    ours, _, run = (mark or "").partition(":")
    job, _, token = run.partition(":")
    return (int(job), token) if ours == scope and job.isdigit() and token else None


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
