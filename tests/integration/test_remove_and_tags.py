from __future__ import annotations

import pytest

from bt import Brownthrower, errors
from tests.factories import claim, job, runner, subjob_ids, superjob


def test_remove_deletes_a_stashed_job(app: Brownthrower) -> None:
    job_id = job(app)
    assert app.jobs.remove(job_id) == 1
    with pytest.raises(errors.JobNotFound):
        app.jobs.info(job_id)


def test_remove_deletes_a_failed_superjob_with_its_subtree(app: Brownthrower) -> None:
    who = runner(app)
    parent = superjob(app, who, 2)
    for _ in range(2):
        app.claims.fail(claim(app, who), "exception", "boom")
    assert app.jobs.remove(parent) == 3
    assert app.jobs.list().jobs == []


def test_remove_of_a_queued_job_is_refused(app: Brownthrower) -> None:
    with pytest.raises(errors.InvalidTransition, match="cannot be removed while QUEUED"):
        app.jobs.remove(job(app, submit=True))


def test_remove_of_a_subjob_is_refused(app: Brownthrower) -> None:
    parent = superjob(app, runner(app), submit=False)
    with pytest.raises(errors.InvalidOperation, match="only top-level jobs can be removed"):
        app.jobs.remove(subjob_ids(app, parent)[0])


def test_remove_of_a_linked_job_names_the_links(app: Brownthrower) -> None:
    a, b = job(app), job(app)
    app.jobs.link(a, b)
    with pytest.raises(
        errors.DependencyError, match=f"remove its links first \\(job unlink {a} {b}\\)"
    ):
        app.jobs.remove(a)


def test_tags_can_be_set_read_listed_and_deleted(app: Brownthrower) -> None:
    job_id = job(app)
    app.tags.set(job_id, "survey", "PAU")
    app.tags.set(job_id, "survey", "Euclid")
    assert app.tags.get(job_id, "survey") == "Euclid"
    app.tags.delete(job_id, "survey")
    assert app.tags.list(job_id) == []


def test_tag_names_long_enough_for_real_use_are_accepted(app: Brownthrower) -> None:
    name = ("calibration.photometric.zero_point_offset_v2" * 6)[:255]
    job_id = job(app)
    app.tags.set(job_id, name, "1")
    assert app.tags.get(job_id, name) == "1"


def test_reserved_tag_names_are_refused(app: Brownthrower) -> None:
    with pytest.raises(errors.InvalidValue, match="reserved"):
        app.tags.set(job(app), "bt_traceback", "fake")


def test_a_missing_tag_is_reported(app: Brownthrower) -> None:
    with pytest.raises(errors.NotFound, match="has no tag 'nope'"):
        app.tags.get(job(app), "nope")


def test_tags_of_an_unknown_job_are_refused(app: Brownthrower) -> None:
    with pytest.raises(errors.JobNotFound):
        app.tags.set(404, "x", "y")


def test_a_control_character_in_a_user_tag_value_is_refused(app: Brownthrower) -> None:
    job_id = job(app)
    with pytest.raises(errors.InvalidValue, match=r"tag 'note'.*U\+0000"):
        app.tags.set(job_id, "note", "a\x00b")
    assert app.tags.list(job_id) == []


def test_newlines_and_tabs_in_a_tag_value_are_kept(app: Brownthrower) -> None:
    job_id = job(app)
    app.tags.set(job_id, "note", "a\tb\nc")
    assert app.tags.get(job_id, "note") == "a\tb\nc"


def test_captured_output_keeps_escapes_but_not_nul(app: Brownthrower) -> None:
    job_id = job(app, submit=True)
    app.claims.put_tag(claim(app, runner(app)), "bt_stdout", "\x1b[1mbold\x1b[0m\x00")
    assert app.tags.get(job_id, "bt_stdout") == "\x1b[1mbold\x1b[0m\ufffd"
