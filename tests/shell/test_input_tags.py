"""`job tag ID NAME=VALUE...` and `job untag ID NAME...`: a user's own tags."""

from __future__ import annotations

from bt import Brownthrower
from tests.factories import job
from tests.shell.conftest import Driver


def test_tag_sets_every_pair(run: Driver, app: Brownthrower) -> None:
    job(app)
    run("job tag 1 owner=ana 'note=two words'")
    assert {t.name: t.value for t in app.tags.list(1)} == {"owner": "ana", "note": "two words"}


def test_tag_replaces_a_previous_value(run: Driver, app: Brownthrower) -> None:
    job(app)
    run("job tag 1 owner=ana")
    run("job tag 1 owner=bo")
    assert app.tags.get(1, "owner") == "bo"


def test_a_reserved_name_is_refused_and_nothing_is_set(run: Driver, app: Brownthrower) -> None:
    job(app)
    result = run("job tag 1 owner=ana bt_reason=x")
    assert "reserved" in result.err and app.tags.list(1) == []


def test_tag_of_an_unknown_job_is_one_error(run: Driver) -> None:
    assert run("job tag 5 owner=ana").err == "ERROR: Job 5 does not exist.\n"


def test_untag_removes_the_named_tags(run: Driver, app: Brownthrower) -> None:
    job(app)
    run("job tag 1 a=1 b=2 c=3")
    run("job untag 1 a c")
    assert [t.name for t in app.tags.list(1)] == ["b"]


def test_untag_of_a_missing_tag_removes_nothing(run: Driver, app: Brownthrower) -> None:
    job(app)
    run("job tag 1 owner=ana")
    result = run("job untag 1 owner ownr")
    assert "has no tag named 'ownr'. Did you mean 'owner'?" in result.err
    assert app.tags.get(1, "owner") == "ana"


def test_untag_refuses_a_reserved_name(run: Driver, app: Brownthrower) -> None:
    job(app)
    assert "reserved" in run("job untag 1 bt_reason").err
