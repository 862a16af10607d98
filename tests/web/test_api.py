"""The JSON API: the pages' data, the same filters and pages, and its OpenAPI description."""

from __future__ import annotations

import json

import pytest

from bt import Brownthrower
from bt.values import JobSpec, NodeSpec
from tests.web.conftest import Campaign, Dashboard, campaign
from web.api import ROUTES


@pytest.fixture
def jobs(app: Brownthrower) -> Campaign:
    return campaign(app)


def test_jobs_are_listed_with_the_next_page(app: Brownthrower, web: Dashboard) -> None:
    app.jobs.create_graph([NodeSpec(i, JobSpec("noop")) for i in range(3)])
    page = web.get("/api/jobs?limit=2").json()
    assert [j["id"] for j in page["jobs"]] == [1, 2]
    assert page["next_after"] == 2
    rest = web.get("/api/jobs?limit=2&after=2").json()
    assert [j["id"] for j in rest["jobs"]] == [3] and rest["next_after"] is None


def test_a_job_row_has_the_shells_fields(web: Dashboard, jobs: Campaign) -> None:
    row = web.get("/api/jobs", params={"filter": f"id={jobs.done}"}).json()["jobs"][0]
    assert row["status"] == "DONE" and row["name"] == "noop"
    assert {"id", "super_id", "created", "queued", "started", "ended"} <= row.keys()


def test_a_bad_filter_is_a_400_with_the_reason(web: Dashboard) -> None:
    response = web.get("/api/jobs", params={"filter": "colour=blue"})
    assert response.status_code == 400
    assert "unknown field" in response.json()["error"]


def test_a_job_has_its_details_and_tags(web: Dashboard, jobs: Campaign) -> None:
    job = web.get(f"/api/jobs/{jobs.failed}").json()
    assert job["status"] == "FAILED"
    assert job["tags"]["bt_reason"] == "boom: it broke"


def test_a_missing_job_is_a_json_404(web: Dashboard) -> None:
    response = web.get("/api/jobs/999")
    assert response.status_code == 404
    assert "999" in response.json()["error"]


def test_a_jobs_attempts_have_their_outcome(web: Dashboard, jobs: Campaign) -> None:
    attempts = web.get(f"/api/jobs/{jobs.failed}/attempts").json()
    assert [(a["attempt"], a["outcome"], a["reason"]) for a in attempts] == [
        (1, "FAILED", "boom: it broke")
    ]


def test_stats_are_grouped(web: Dashboard, jobs: Campaign) -> None:
    groups = web.get("/api/stats?by=status").json()
    assert {g["key"] for g in groups} >= {"DONE", "FAILED"}
    assert all("run" in g and "jobs" in g for g in groups)


def test_runners_have_their_jobs_and_tallies(web: Dashboard, jobs: Campaign) -> None:
    (runner,) = web.get("/api/runners").json()
    assert runner["jobs"] == [jobs.running]
    assert (runner["done"], runner["failed"], runner["stale"]) == (2, 1, False)


def test_the_overview_has_counts_per_status_and_task(web: Dashboard, jobs: Campaign) -> None:
    overview = web.get("/api/overview").json()
    assert overview["counts"]["DONE"] == 1
    assert overview["tasks"][0]["task"] == "noop"
    assert len(overview["ended_per_minute"]) == 60
    assert overview["last_failures"][0]["id"] == jobs.failed


def test_limits_are_listed(app: Brownthrower, web: Dashboard) -> None:
    app.limits.set("scratch", 2)
    assert web.get("/api/limits").json() == [
        {"name": "scratch", "capacity": 2, "in_use": 0, "running": 0, "waiting": 0}
    ]


def test_the_openapi_description_is_json_naming_every_route(web: Dashboard) -> None:
    response = web.get("/api/openapi.json")
    described = json.loads(response.text)
    assert described["openapi"].startswith("3.1")
    routes = {r.path.replace(":int}", "}") for r in ROUTES} - {"/api/openapi.json"}  # type: ignore[attr-defined]
    assert set(described["paths"]) == routes
