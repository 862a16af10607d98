"""The compiled SQL of every hot-path statement, for both dialects, against a reviewed snapshot.

A change to a statement in `bt.queries` shows up here as a diff to review (style.md practice 1).
After an intended change: `UPDATE_SNAPSHOTS=1 scripts/test tests/unit/test_query_snapshots.py`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import Delete, Insert, Select, Update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ClauseElement

from bt import queries
from bt.status import Action

SNAPSHOTS = Path(__file__).parent / "snapshots"
DIALECTS = {"postgresql": postgresql.dialect(), "sqlite": sqlite.dialect()}


def statements(is_postgresql: bool) -> dict[str, ClauseElement]:
    """Every statement `bt.queries` builds, by name."""
    named: dict[str, ClauseElement] = {
        name: value
        for name, value in vars(queries).items()
        if name.isupper() and isinstance(value, Select | Update | Delete | Insert)
    }
    named["claim_next"] = queries.claim_next(is_postgresql)
    named["limited_candidates"] = queries.limited_candidates(is_postgresql)
    named["claim_ids"] = queries.claim_ids()
    if is_postgresql:
        named["transition_ending_run(FINISH, output)"] = queries.transition_ending_run(
            Action.FINISH, True, ("output",)
        )
        named["transition_with_event(FINISH, output)"] = queries.transition_with_event(
            Action.FINISH, True, ("output",)
        )
    named["heartbeat(30)"] = queries.heartbeat(30.0)
    named["tag_upsert"] = queries.tag_upsert("postgresql" if is_postgresql else "sqlite")
    for action in Action:
        named[f"transition({action.name}, fenced)"] = queries.transition(action, True, ())
    named["transition(FINISH, output)"] = queries.transition(Action.FINISH, True, ("output",))
    return named


def compiled(dialect: str) -> str:
    sql = statements(dialect == "postgresql")
    parts = [
        f"-- {name}\n{sql[name].compile(dialect=DIALECTS[dialect])};\n" for name in sorted(sql)
    ]
    return "\n".join(parts)


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_hot_path_sql_matches_its_snapshot(dialect: str) -> None:
    snapshot = SNAPSHOTS / f"queries.{dialect}.sql"
    current = compiled(dialect)
    if os.environ.get("UPDATE_SNAPSHOTS") or not snapshot.exists():
        snapshot.write_text(current)
    assert current == snapshot.read_text(), f"bt.queries changed; review and update {snapshot}"
