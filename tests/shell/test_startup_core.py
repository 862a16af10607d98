"""The core's shortcuts for a fast start give the answers of the libraries they avoid.

`bt.config` checks plain URLs without SQLAlchemy and `bt.schema` reads the schema revisions
without Alembic; these tests hold them to what SQLAlchemy and Alembic say.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bt import errors
from bt.config import _normalize_with_sqlalchemy, mask_url, normalize_url
from bt.db import Database
from bt.schema import _alembic_head, current_revision, head_revision

PLAIN_URLS = [
    "sqlite://",
    "sqlite:///",
    "sqlite:///bt.db",
    "sqlite:////home/ana/.local/share/brownthrower/brownthrower.db",
    "sqlite:////data/run 7/jobs+old.db",
    "postgresql://db/bt",
    "postgres://ana@db.example.org:5432/bt_prod",
    "postgresql+psycopg://ana@db/bt",
    "postgresql://ana@/bt",
]


@pytest.mark.parametrize("url", PLAIN_URLS)
def test_a_plain_url_is_normalized_as_sqlalchemy_does(url: str) -> None:
    assert normalize_url(url) == _normalize_with_sqlalchemy(url)


@pytest.mark.parametrize("url", PLAIN_URLS)
def test_a_plain_url_is_masked_as_sqlalchemy_does(url: str) -> None:
    assert mask_url(url) == make_url(url).render_as_string(hide_password=True)


def test_a_url_with_a_password_is_still_masked() -> None:
    assert mask_url("postgresql://ana:s3cret@db/bt") == "postgresql://ana:***@db/bt"


def test_the_head_revision_from_the_migration_files_is_alembics() -> None:
    assert head_revision() == _alembic_head()


def test_a_database_without_a_version_table_has_no_revision(database: Database) -> None:
    with database.engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    assert current_revision(database) is None


def test_a_database_recording_two_revisions_is_refused(database: Database) -> None:
    with database.engine.begin() as conn:
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0000')"))
    with pytest.raises(errors.SchemaError, match="several schema revisions"):
        current_revision(database)
