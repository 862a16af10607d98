"""Every page renders the campaign's data, with links, filters, pages and sorting."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from bt import Brownthrower
from bt.dispatch import journal
from bt.dispatch.sizing import Demand
from bt.values import JobSpec, NodeSpec
from tests import factories
from tests.web.conftest import Campaign, Dashboard, campaign, new_client

PAGES = ("/", "/jobs", "/runners", "/limits", "/dispatchers", "/stats")


def job_ids(html: str) -> list[int]:
    """The ids of the job table's rows (its first column), in order."""
    body = html.split('<table class="jobs">', 1)[1].split("</tbody>", 1)[0]
    return [int(i) for i in re.findall(r'<tr>\s*<td class="n"><a href="/jobs/(\d+)">', body)]


@pytest.fixture
def jobs(app: Brownthrower) -> Campaign:
    return campaign(app)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_with_data(web: Dashboard, jobs: Campaign, path: str) -> None:
    response = web.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")


def test_the_job_pages_of_every_kind_render(web: Dashboard, jobs: Campaign) -> None:
    for job in (jobs.done, jobs.failed, jobs.running, jobs.superjob, *jobs.chain):
        assert web.get(f"/jobs/{job}").status_code == 200
        assert web.get(f"/jobs/{job}/graph").status_code == 200


def test_the_overview_counts_by_status_and_task(web: Dashboard, jobs: Campaign) -> None:
    html = web.get("/").text
    assert '<span class="count" data-count="DONE">1</span>' in html
    assert '<span class="count" data-count="FAILED">1</span>' in html
    assert '<span class="count" data-count="RUNNABLE">1</span>' in html  # the chain's head
    assert '<span class="count" data-count="STASHED">' in html
    assert re.search(r'href="/jobs\?filter=name%3Dnoop">noop</a>', html)


def test_the_overview_lists_the_last_failure_with_its_reason(
    web: Dashboard, jobs: Campaign
) -> None:
    html = web.get("/").text
    failures = html.split('<table class="failures">', 1)[1]
    assert f'<a href="/jobs/{jobs.failed}">{jobs.failed}</a>' in failures
    assert "boom: it broke" in failures


def test_the_overview_counts_jobs_ended_in_the_last_hour(web: Dashboard, jobs: Campaign) -> None:
    assert "<strong>2</strong> jobs ended in the last hour" in web.get("/").text


def test_the_job_list_has_the_shells_columns_and_links(web: Dashboard, jobs: Campaign) -> None:
    html = web.get("/jobs").text
    head = re.findall(r"<th><a [^>]*>([^<]+?)(?: [▲▼])?</a></th>", html)
    assert head == ["id", "super id", "name", "status", "created", "queued", "started", "ended"]
    assert f'<a href="/jobs/{jobs.superjob}">{jobs.superjob}</a>' in html


def test_a_filter_selects_jobs(web: Dashboard, jobs: Campaign) -> None:
    html = web.get("/jobs", params={"filter": f"super_id={jobs.superjob}"}).text
    assert len(job_ids(html)) == 3


def test_a_bad_filter_says_why(web: Dashboard, jobs: Campaign) -> None:
    response = web.get("/jobs", params={"filter": "colour=blue"})
    assert response.status_code == 400
    assert "unknown field" in response.text


def test_pages_continue_after_the_last_id(app: Brownthrower, web: Dashboard) -> None:
    ids = app.jobs.create_graph([NodeSpec(i, JobSpec("noop")) for i in range(7)])
    shown: list[int] = []
    path = "/jobs?limit=3"
    while path:
        html = web.get(path).text
        shown += job_ids(html)
        found = re.search(r'<a rel="next" href="([^"]+)"', html)
        path = found.group(1).replace("&amp;", "&") if found else ""
    assert shown == sorted(ids.values())


def test_a_sorted_page_continues_the_order(app: Brownthrower, web: Dashboard) -> None:
    for task in ("noop", "echo", "noop", "echo"):
        factories.job(app, task)
    first = job_ids(web.get("/jobs?sort=name&limit=2").text)
    second = job_ids(web.get(f"/jobs?sort=name&limit=2&after={first[-1]}").text)
    assert first + second == [2, 4, 1, 3]


def test_reversed_lists_newest_first(app: Brownthrower, web: Dashboard) -> None:
    for _ in range(3):
        factories.job(app)
    assert job_ids(web.get("/jobs?newest=1").text) == [3, 2, 1]


def test_an_unknown_sort_is_refused(web: Dashboard) -> None:
    response = web.get("/jobs?sort=colour")
    assert response.status_code == 400
    assert "Cannot sort by" in response.text


def test_a_bad_page_parameter_is_refused(web: Dashboard) -> None:
    assert web.get("/jobs?after=x").status_code == 400
    assert web.get("/jobs?limit=100000").status_code == 400


def test_the_job_page_shows_attempts_reason_and_traceback(web: Dashboard, jobs: Campaign) -> None:
    html = web.get(f"/jobs/{jobs.failed}").text
    attempts = html.split('<table class="attempts">', 1)[1].split("</table>", 1)[0]
    assert "boom: it broke" in attempts
    assert 'class="status st-FAILED">FAILED' in attempts
    assert "ValueError" in html.split("<h2>Traceback</h2>", 1)[1]
    assert "some error output" in html


def test_the_job_page_shows_output_and_links(web: Dashboard, jobs: Campaign) -> None:
    html = web.get(f"/jobs/{jobs.done}").text
    assert "answer: 42" in html
    assert f'href="/jobs/{jobs.done}/graph"' in html


def test_a_running_job_shows_its_output_tail_live(web: Dashboard, jobs: Campaign) -> None:
    html = web.get(f"/jobs/{jobs.running}").text
    assert f'data-live="/fragment/jobs/{jobs.running}/streams"' in html
    fragment = web.get(f"/fragment/jobs/{jobs.running}/streams").text
    assert "step 1\nstep 2" in fragment
    assert "updates while it runs" in fragment


def test_a_superjobs_page_lists_its_subjobs(web: Dashboard, jobs: Campaign) -> None:
    html = web.get(f"/jobs/{jobs.superjob}").text
    assert "<h3>Subjobs (3)</h3>" in html


def test_a_job_that_does_not_exist_is_a_404(web: Dashboard) -> None:
    response = web.get("/jobs/999")
    assert response.status_code == 404
    assert "999" in response.text


def test_goto_leads_to_the_job(web: Dashboard) -> None:
    assert web.get("/jobs/goto?id=12").headers["location"] == "/jobs/12"


def test_the_graph_of_a_superjob_aggregates_its_subjobs(web: Dashboard, jobs: Campaign) -> None:
    html = web.get(f"/jobs/{jobs.superjob}/graph").text
    assert "Subjobs by task and status (3)" in html
    row = html.split('<table class="counts">', 1)[1].split("</tr>", 2)[1]
    assert "noop" in row and ">3</a>" in row


def test_the_graph_draws_k_hops_with_stubs_for_the_rest(web: Dashboard, jobs: Campaign) -> None:
    head, second, third, _last = jobs.chain
    html = web.get(f"/jobs/{head}/graph?hops=1").text
    svg = html.split('<div class="drawing">', 1)[1].split("</svg>", 1)[0]
    assert f'href="/jobs/{second}"' in svg and f'href="/jobs/{third}"' not in svg
    assert "+1 more children" in svg
    assert f'href="/jobs/{second}/graph"' in svg


def test_the_graph_follows_parents_too(web: Dashboard, jobs: Campaign) -> None:
    head, second, _third, last = jobs.chain
    html = web.get(f"/jobs/{last}/graph?hops=2").text
    assert f'href="/jobs/{second}"' in html and f'href="/jobs/{head}"' not in html.split("<svg")[1]


def test_the_graph_refuses_too_many_hops(web: Dashboard, jobs: Campaign) -> None:
    assert web.get(f"/jobs/{jobs.done}/graph?hops=99").status_code == 400


def test_the_runners_page_lists_runners_with_their_tallies(web: Dashboard, jobs: Campaign) -> None:
    html = web.get("/runners").text
    row = html.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert "<td>test</td>" in row
    assert f'<a href="/jobs/{jobs.running}">' in row
    assert re.findall(r'<td class="n">(\d+)</td>', row)[-2:] == ["2", "1"]  # done, failed


def test_a_runner_past_its_lease_is_marked_stale(app: Brownthrower, web: Dashboard) -> None:
    factories.runner(app, lease=0.001)
    assert "stale (lease expired)" in web.get("/runners").text


def test_the_limits_page_lists_limits(app: Brownthrower, web: Dashboard) -> None:
    app.limits.set("scratch", 4)
    html = web.get("/limits").text
    assert '<td class="name">scratch</td><td class="n">4</td>' in html


def test_the_dispatchers_page_says_when_there_is_none(web: Dashboard) -> None:
    assert "No dispatcher journal was found" in web.get("/dispatchers").text


def test_the_statistics_page_has_tables_plots_and_timeline(web: Dashboard, jobs: Campaign) -> None:
    html = web.get("/stats").text
    assert '<table class="stats">' in html
    assert html.count('<svg class="report"') == 7  # six box plots and the timeline


def test_statistics_take_a_filter(web: Dashboard, jobs: Campaign) -> None:
    html = web.get("/stats", params={"filter": f"id={jobs.done}", "by": "status"}).text
    rows = html.split('<table class="stats">', 1)[1].split("</table>", 1)[0]
    assert '<td class="name">DONE</td>' in rows and "FAILED</td>" not in rows


def test_statistics_refuse_a_bad_grouping(web: Dashboard) -> None:
    assert web.get("/stats?by=colour").status_code == 400


def test_the_event_stream_starts_with_the_current_version(web: Dashboard) -> None:
    with web.client.stream("GET", "/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert next(lines) == "retry: 3000"
        assert next(lines) == f"data: {web.hub.version}"
        web.hub.bump()
        assert next(lines) == ""
        assert next(lines) == f"data: {web.hub.version}"


def test_the_dispatchers_page_shows_their_journals(app: Brownthrower, tmp_path: Path) -> None:
    journal.save(tmp_path / "d1", journal.Journal(
        dispatcher_id="d1", updated=time.time(), mode="on-demand",
        demand=Demand(runnable=12, soon_runnable=3, pending=2, live=5),
        submit_error=journal.Entry(time.time(), "sbatch: error: <quota>"), pilots=["101", "102"],
    ))  # fmt: skip
    dashboard = new_client(app, login=True, dispatcher_dir=tmp_path)
    html = dashboard.get("/dispatchers").text
    assert "runnable 12, soon runnable 3" in html
    assert "sbatch: error: &lt;quota&gt;" in html
    assert "live pilots</dt><dd>2: 101 102" in html
    dashboard.client.close()
