"""The database itself refuses a dependency between jobs that are not siblings: on SQLite by
foreign keys to `job (scope, id)`, on PostgreSQL by the trigger that replaced them."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bt import Brownthrower
from tests.factories import job, runner, subjob_ids, superjob


def insert_dependency(app: Brownthrower, parent: int, child: int, scope: int) -> None:
    with app.db.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO dependency (parent_id, child_id, scope) VALUES (:p, :c, :s)"),
            {"p": parent, "c": child, "s": scope},
        )


def test_a_dependency_from_a_top_level_job_to_a_subjob_is_refused(app: Brownthrower) -> None:
    sub = subjob_ids(app, superjob(app, runner(app)))[0]
    with pytest.raises(IntegrityError):
        insert_dependency(app, job(app), sub, 0)


def test_a_dependency_claiming_the_wrong_scope_is_refused(app: Brownthrower) -> None:
    with pytest.raises(IntegrityError):
        insert_dependency(app, job(app), job(app), 7)


def test_a_dependency_between_siblings_is_stored(app: Brownthrower) -> None:
    first, second = subjob_ids(app, superjob(app, runner(app)))[:2]
    super_id = app.jobs.get(first).super_id
    insert_dependency(app, first, second, super_id or 0)
    assert [p.id for p in app.jobs.neighbourhood(second).parents] == [first]
