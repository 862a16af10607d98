"""`limit set|list|remove`, `job create|clone --limit`, and limited jobs as the shell shows them:
`QUEUED (limited)` in `job list`, `status=LIMITED`, a LIMITED count in `status`, the limits in
`job show`, and the dispatcher's BT box."""

from __future__ import annotations

import json

from bt import Brownthrower
from shell.dispatcher.screen import bt_counts
from tests.factories import job, runner
from tests.shell.conftest import Driver


def full_limit(app: Brownthrower) -> tuple[int, int]:
    """Limit `db` of capacity 1 held by a RUNNING job, and a second job waiting for it: their
    ids."""
    app.limits.set("db", 1)
    running = job(app, submit=True, limits={"db": 1})
    waiting = job(app, submit=True, limits={"db": 1})
    app.claims.claim_many(runner(app).id, ["noop"], 2)
    return running, waiting


def test_limit_set_list_and_remove(run: Driver) -> None:
    assert "capacity of 4" in run("limit set catalog_db 4").out
    run("limit set nfs 10")
    assert "capacity of 2" in run("limit set catalog_db 2").out
    listed = run("limit list")
    rows = [line.split() for line in listed.out.splitlines()]
    assert rows[0] == ["name", "capacity", "in", "use", "running", "waiting"]
    assert rows[1:] == [["catalog_db", "2", "0", "0", "0"], ["nfs", "10", "0", "0", "0"]]
    assert "has been removed" in run("limit remove nfs").out
    assert [limit.name for limit in run("limit list").data] == ["catalog_db"]


def test_limit_list_json(run: Driver, app: Brownthrower) -> None:
    full_limit(app)
    assert json.loads(run("limit list --json").out) == [
        {"name": "db", "capacity": 1, "in_use": 1, "running": 1, "waiting": 1}
    ]


def test_limit_list_without_limits_says_how_to_make_one(run: Driver) -> None:
    assert "limit set NAME N" in run("limit list").err


def test_bad_limits_are_one_error_line_each(run: Driver) -> None:
    assert "A limit name" in run("limit set 'a b' 1").err
    assert "-1 is not from 0" in run("limit set db -1").err
    run("limit set catalog_db 1")
    typo = run("limit remove catalgo_db")
    assert typo.failed and "Did you mean 'catalog_db'?" in typo.err


def test_job_create_refuses_an_unknown_limit_with_a_suggestion(run: Driver) -> None:
    run("limit set catalog_db 1")
    refused = run("job create noop --limit catlog_db --submit")
    assert refused.failed
    assert "Limit 'catlog_db' does not exist" in refused.err
    assert "Did you mean 'catalog_db'?" in refused.err
    assert run("job list").data == []


def test_job_create_and_clone_take_limits(run: Driver) -> None:
    run("limit set db 2")
    run("limit set nfs 8")
    (created,) = run("job create noop --limit db --limit nfs:3").data
    shown = run(f"job show {created}")
    assert "limits         : db:1 nfs:3" in shown.out
    assert json.loads(run(f"job show {created} --json").out)["limits"] == {"db": 1, "nfs": 3}
    (copy,) = run(f"job clone {created}").data
    assert json.loads(run(f"job show {copy} --json").out)["limits"] == {"db": 1, "nfs": 3}
    (other,) = run(f"job clone {created} --limit nfs:2 --json").data
    assert json.loads(run(f"job show {other} --json").out)["limits"] == {"nfs": 2}
    assert "units of limit 'db'" in run("job create noop --limit db:0").err


def test_a_limit_needed_by_a_job_is_not_removed(run: Driver) -> None:
    run("limit set db 1")
    (created,) = run("job create noop --limit db").data
    refused = run("limit remove db")
    assert refused.failed and f"still needed by 1 job(s) not DONE ({created})" in refused.err


def test_job_list_and_filters_show_limited_jobs(run: Driver, app: Brownthrower) -> None:
    running, waiting = full_limit(app)
    rows = dict(
        line.split(maxsplit=1) for line in run("job list --columns id,status").out.splitlines()[1:]
    )
    assert rows == {str(running): "RUNNING", str(waiting): "QUEUED (limited)"}
    assert [j.id for j in run("job list status=LIMITED").data] == [waiting]
    assert json.loads(run("job list --json").out)[1]["limited"] is True


def test_status_and_the_dispatchers_box_count_limited_jobs(run: Driver, app: Brownthrower) -> None:
    full_limit(app)
    result = run("status")
    lines = [line.split() for line in result.out.splitlines()]
    assert result.data["LIMITED"] == 1 and ["LIMITED", "1"] in lines
    assert result.data["RUNNABLE"] == 0
    assert bt_counts(app.jobs.counts())["LIMITED"] == 1


def test_task_show_gives_the_limits_its_jobs_hold(offline: Driver) -> None:
    shown = offline("task show limited_turnstile").out
    assert "### LIMITS (units its jobs hold while they run):\nbt_test_turnstile:1" in shown
    assert "### LIMITS" not in offline("task show noop").out
