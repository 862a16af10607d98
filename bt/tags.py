"""Tags: named text attached to a job, written by users, task code and the runner."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bt import errors, queries, tagnames, yamlio
from bt.db import affected
from bt.models import Job, JobAttempt, Runner, Tag
from bt.status import Status
from bt.transitions import read_state
from bt.values import TagInfo


def put_tag(session: Session, job_id: int, name: str, value: str, *, system: bool = False) -> None:
    """Set tag `name` of a job to `value`, replacing any previous value (one statement)."""
    put_tags(session, job_id, {name: value}, system=system)


def put_tags(
    session: Session, job_id: int, tags: Mapping[str, str], *, system: bool = False
) -> None:
    """Set several tags of a job at once, replacing previous values (one statement).

    A user's value with a control character (other than newline and tab) is refused; the
    system's (captured output, tracebacks) keeps them, but NUL, which PostgreSQL cannot store,
    becomes U+FFFD.
    """
    put_tags_of(session, {job_id: tags}, system=system)


def put_tags_of(
    session: Session, tags: Mapping[int, Mapping[str, str]], *, system: bool = False
) -> None:
    """`put_tags` for several jobs at once (`tags` by job id), in one statement."""
    rows = [
        _tag_row(job_id, name, value, system=system)
        for job_id, named in tags.items()
        for name, value in named.items()
    ]
    if rows:
        session.execute(queries.tag_upsert(session.get_bind().dialect.name), rows)


def _tag_row(job_id: int, name: str, value: str, *, system: bool) -> dict[str, object]:
    tagnames.check_name(name, system=system)
    yamlio.check_text(name, "tag name")
    yamlio.check_size(value, yamlio.MAX_TAG_BYTES, f"value of tag {name!r}", controls=system)
    return {"job_id": job_id, "name": name, "value": value.replace("\x00", "\ufffd")}


def clear_run_tags(session: Session, job_id: int, keep: Collection[str] = ()) -> None:
    """Forget the tags of a previous run (traceback, captured output, reason, ...), except
    those named in `keep` (about to be replaced)."""
    stale = [name for name in tagnames.RUN_TAGS if name not in keep]
    session.execute(queries.DELETE_TAGS, {"job": job_id, "names": stale})


def set_tag(session: Session, job_id: int, name: str, value: str) -> None:
    """A user's tag: the job must exist and the name must not be reserved."""
    read_state(session, job_id, lock=False)
    put_tag(session, job_id, name, value)


def get_tag(session: Session, job_id: int, name: str) -> str:
    """The value of a job's tag; `NotFound` if it has none of that name."""
    value = session.scalar(select(Tag.value).where(Tag.job_id == job_id, Tag.name == name))
    if value is None and name in tagnames.FROM_HISTORY:
        value = from_history(session, job_id).get(name)
    if value is None:
        read_state(session, job_id, lock=False)
        raise errors.NotFound(f"Job {job_id} has no tag {name!r}.")
    return value


def delete_tag(session: Session, job_id: int, name: str) -> None:
    """Remove a user's tag; `NotFound` if the job has none of that name."""
    tagnames.check_name(name)
    if affected(session.execute(delete(Tag).where(Tag.job_id == job_id, Tag.name == name))) == 0:
        read_state(session, job_id, lock=False)
        raise errors.NotFound(f"Job {job_id} has no tag {name!r}.")


def list_tags(session: Session, job_id: int) -> list[TagInfo]:
    """Every tag of a job, by name, with those read from its latest run (`FROM_HISTORY`)."""
    read_state(session, job_id, lock=False)
    rows = session.execute(select(Tag.name, Tag.value).where(Tag.job_id == job_id))
    named = {**from_history(session, job_id), **{name: value for name, value in rows}}
    return [TagInfo(job_id, name, value) for name, value in sorted(named.items())]


def from_history(session: Session, job_id: int) -> dict[str, str]:
    """`bt_exit_code` and `bt_runner` of the job's latest run in this submission (the one under
    way, or the last ended): the tags runs once wrote, now read from the history."""
    job = session.execute(
        select(Job.status, Job.attempts, Job.runner_id).where(Job.id == job_id)
    ).one_or_none()
    if job is None or (job.attempts == 0 and job.status is not Status.RUNNING):
        return {}
    if job.status is Status.RUNNING:
        host = session.scalar(select(Runner.host).where(Runner.id == job.runner_id))
        return {tagnames.RUNNER: _where(host, job.runner_id)}
    run = session.execute(
        select(JobAttempt.host, JobAttempt.runner_id, JobAttempt.exit_code)
        .where(JobAttempt.job_id == job_id)
        .order_by(JobAttempt.seq.desc())
        .limit(1)
    ).one_or_none()
    if run is None:
        return {}
    found = {tagnames.RUNNER: _where(run.host, run.runner_id)}
    if run.exit_code is not None:
        found[tagnames.EXIT_CODE] = str(run.exit_code)
    return found


def _where(host: str | None, runner_id: int | None) -> str:
    return f"host: {host or '?'}\nrunner: {runner_id if runner_id is not None else '?'}\n"
