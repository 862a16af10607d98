"""Tags: named text attached to a job."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import cast

from sqlalchemy import Insert, Table, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bt import errors, tagnames, yamlio
from bt.db import affected
from bt.lifecycle import read_state
from bt.models import TAG_NAME_LENGTH, Tag
from bt.values import TagInfo

TAG = cast(Table, Tag.__table__)


def check_tag_name(name: str, *, system: bool = False) -> None:
    if not name or len(name) > TAG_NAME_LENGTH or not name.isprintable() or " " in name:
        raise errors.InvalidValue(
            f"Tag name {name!r} must be 1 to {TAG_NAME_LENGTH} printable characters, no spaces."
        )
    if name.startswith(tagnames.PREFIX) and not system:
        raise errors.InvalidValue(f"Tag names starting with {tagnames.PREFIX!r} are reserved.")


def put_tag(session: Session, job_id: int, name: str, value: str, *, system: bool = False) -> None:
    """Set tag `name` of a job to `value`, replacing any previous value (one statement)."""
    put_tags(session, job_id, {name: value}, system=system)


def put_tags(
    session: Session, job_id: int, tags: Mapping[str, str], *, system: bool = False
) -> None:
    """Set several tags of a job at once, replacing previous values (one statement)."""
    if not tags:
        return
    for name, value in tags.items():
        check_tag_name(name, system=system)
        yamlio.check_size(value, yamlio.MAX_TAG_BYTES, f"value of tag {name!r}")
    rows = [{"job_id": job_id, "name": name, "value": value} for name, value in tags.items()]
    session.execute(_upsert(session.get_bind().dialect.name), rows)


@cache
def _upsert(dialect: str) -> Insert:
    """INSERT ... ON CONFLICT DO UPDATE of one tag, built once and run for many rows."""
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(TAG)
    return stmt.on_conflict_do_update(
        index_elements=["job_id", "name"], set_={"value": stmt.excluded.value}
    )


def set_tag(session: Session, job_id: int, name: str, value: str) -> None:
    """A user's tag: the job must exist and the name must not be reserved."""
    read_state(session, job_id, lock=False)
    put_tag(session, job_id, name, value)


def get_tag(session: Session, job_id: int, name: str) -> str:
    value = session.scalar(select(Tag.value).where(Tag.job_id == job_id, Tag.name == name))
    if value is None:
        read_state(session, job_id, lock=False)
        raise errors.NotFound(f"Job {job_id} has no tag {name!r}.")
    return value


def delete_tag(session: Session, job_id: int, name: str) -> None:
    check_tag_name(name)
    if affected(session.execute(delete(Tag).where(Tag.job_id == job_id, Tag.name == name))) == 0:
        read_state(session, job_id, lock=False)
        raise errors.NotFound(f"Job {job_id} has no tag {name!r}.")


def list_tags(session: Session, job_id: int) -> list[TagInfo]:
    read_state(session, job_id, lock=False)
    rows = session.execute(select(Tag).where(Tag.job_id == job_id).order_by(Tag.name)).scalars()
    return [TagInfo(t.job_id, t.name, t.value) for t in rows]
