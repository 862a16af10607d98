"""The HTML pages and their live fragments: each reads `web.data` through the hub's cache.

Every page works without JavaScript. The parts of a page that change (`data-live` elements)
are also served alone under `/fragment/...`, which `static/live.js` fetches again when the
server-sent events of `/events` say the database changed; a page and its fragments render the
same templates from the same cached values, so ten viewers cost the queries of one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable, Hashable
from typing import Any, TypeVar

from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from bt import Brownthrower, errors
from bt.dashboard import MAX_HOPS, MAX_NODES
from bt.report import boxplot, timeline
from bt.report.stats import METRICS
from web import data, graph
from web.dispatchers import base_dir, dispatchers, when
from web.render import render
from web.security import COOKIE, same, session_value
from web.state import WebState

T = TypeVar("T")

EVENTS_LIFETIME = 300.0  #: seconds an event stream lasts (the browser reconnects at once)
KEEP_ALIVE = 15.0  #: seconds between comments on an idle event stream


def state(request: Request) -> WebState:
    found: WebState = request.app.state.web
    return found


def cached(request: Request, key: Hashable, compute: Callable[[Brownthrower], T]) -> T:
    """`compute(app)` through the hub's per-version cache (`JobNotFound` as a 404)."""
    web = state(request)
    try:
        return web.hub.cached(key, lambda: compute(web.app))
    except errors.JobNotFound as exc:
        raise HTTPException(404, str(exc)) from exc


def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(render(name, **context), status_code=status)


def number(request: Request, name: str, default: int | None, low: int, high: int) -> int | None:
    """A whole-number query parameter within [low, high]; a 400 otherwise."""
    text = request.query_params.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise HTTPException(400, f"{name} must be a whole number from {low} to {high}.")
    return int(text)


# -- login -----------------------------------------------------------------------------------


def login(request: Request) -> Response:
    """The one-time URL (its token checked by the guard): sets the session cookie and leads to
    the overview."""
    token = state(request).token
    if not same(request.query_params.get("token"), token):  # the guard lets none through
        raise HTTPException(401, "Login needed")
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(COOKIE, session_value(token), httponly=True, samesite="strict", path="/")
    return response


# -- pages -----------------------------------------------------------------------------------


def overview_page(request: Request) -> Response:
    return page("overview.html", title="Overview", nav="overview", overview=overview_of(request))


def overview_fragment(request: Request) -> Response:
    return page("fragments/overview.html", overview=overview_of(request))


def overview_of(request: Request) -> data.Overview:
    cpu = state(request).cpu_hours.get
    return cached(request, ("overview",), lambda app: data.overview(app, cpu))


def jobs_page(request: Request) -> Response:
    listed = job_list_of(request)
    return page("jobs.html", 400 if listed.error else 200, title="Jobs", nav="jobs", page=listed,
                sorts=data.SORTS, columns=data.JOB_COLUMNS,
                default_limit=data.PAGE_SIZE)  # fmt: skip


def job_list_of(request: Request) -> data.JobList:
    params = request.query_params
    sort = params.get("sort") or None
    newest = params.get("newest", "") not in ("", "0")
    after = number(request, "after", None, 0, 2**63)
    limit = number(request, "limit", data.PAGE_SIZE, 1, data.MAX_PAGE) or data.PAGE_SIZE
    text = params.get("filter", "")
    key = ("jobs", text, sort, newest, after, limit)
    return cached(request, key, lambda app: data.job_list(
        app, text, sort=sort, newest_first=newest, after=after, limit=limit))  # fmt: skip


def goto(request: Request) -> Response:
    job_id = number(request, "id", None, 1, 2**63)
    return RedirectResponse(f"/jobs/{job_id}" if job_id else "/jobs", status_code=303)


def job_page(request: Request) -> Response:
    job_id = request.path_params["job_id"]
    shown = cached(request, ("job", job_id), lambda app: data.job_page(app, job_id))
    return page("job.html", title=f"Job {job_id}", nav="jobs", p=shown, streams=shown.streams,
                live=shown.live, status_word=shown.job.shown_status)  # fmt: skip


def job_summary_fragment(request: Request) -> Response:
    job_id = request.path_params["job_id"]
    job = cached(request, ("job-details", job_id), lambda app: app.jobs.get(job_id))
    return page("fragments/job_summary.html", p={"job": job, "now": dt.datetime.now(dt.UTC)})


def job_attempts_fragment(request: Request) -> Response:
    job_id = request.path_params["job_id"]
    attempts = cached(request, ("job-attempts", job_id), lambda app: app.jobs.history(job_id))
    return page("fragments/job_attempts.html", p={"attempts": attempts})


def job_streams_fragment(request: Request) -> Response:
    job_id = request.path_params["job_id"]
    info, streams = cached(request, ("job-streams", job_id), lambda app: data.streams(app, job_id))
    return page("fragments/job_streams.html", streams=streams, live=info.active,
                status_word=info.shown_status)  # fmt: skip


def graph_page(request: Request) -> Response:
    job_id = request.path_params["job_id"]
    hops = number(request, "hops", 2, 0, MAX_HOPS) or 0
    near = cached(request, ("nearby", job_id, hops),
                  lambda app: app.dashboard.nearby(job_id, hops=hops))  # fmt: skip
    job = next(j for j in near.jobs if j.id == job_id)
    groups = cached(request, ("subjob-groups", job_id),
                    lambda app: app.dashboard.subjob_groups(job_id))  # fmt: skip
    return page(
        "graph.html", title=f"Graph of job {job_id}", nav="jobs", job=job, hops=hops,
        max_hops=MAX_HOPS, max_nodes=MAX_NODES, near=near, groups=groups,
        near_svg=graph.svg(graph.nearby_drawing(near), label=f"jobs around job {job_id}"),
        groups_svg=graph.svg(graph.groups_drawing(groups), label=f"subjobs of job {job_id}"),
    )  # fmt: skip


def runners_page(request: Request) -> Response:
    return page("runners.html", title="Runners", nav="runners", rows=runner_rows(request))


def runners_fragment(request: Request) -> Response:
    return page("fragments/runners.html", rows=runner_rows(request))


def runner_rows(request: Request) -> list[data.RunnerRow]:
    return cached(request, ("runners",), data.runners)


def limits_page(request: Request) -> Response:
    found = cached(request, ("limits",), data.limits)
    return page("limits.html", title="Limits", nav="limits", limits=found)


def dispatchers_page(request: Request) -> Response:
    base = state(request).dispatcher_dir or base_dir()
    views = state(request).hub.cached(("dispatchers", str(base)), lambda: dispatchers(base))
    return page("dispatchers.html", title="Dispatchers", nav="dispatchers", views=views,
                base=str(base), when=when)  # fmt: skip


def stats_page(request: Request) -> Response:
    text = request.query_params.get("filter", "")
    by = request.query_params.get("by") or "task"
    if by not in data.GROUP_BYS:
        raise HTTPException(400, f"by is one of {', '.join(data.GROUP_BYS)}.")
    found = cached(request, ("stats", text, by), lambda app: data.stats(app, text, by))  # type: ignore[arg-type]
    plots = cached(request, ("stats-plots", text), lambda _app: report_svgs(found.records))
    return page("stats.html", 400 if found.error else 200, title="Statistics", nav="stats",
                s=found, group_bys=data.GROUP_BYS, max_jobs=data.MAX_STATS_JOBS,
                box_plots=plots[:-1], timeline=plots[-1])  # fmt: skip


def report_svgs(records: list[Any]) -> list[Markup]:
    """bt.report's box plots (one per figure) and timeline, as inline SVG, the last the
    timeline, of class `report`. Their text is escaped by bt.report, and they carry no style
    attribute (which the page's CSP would refuse)."""
    groups: dict[str, list[Any]] = {}
    for record in records:
        groups.setdefault(record.name, []).append(record)
    drawn = [boxplot.box_plot(m, groups, id=f"box-{m.name}") for m in METRICS]
    drawn.append(timeline.render(timeline.plan(records, max_bars=timeline.MAX_BARS)))
    return [Markup(svg.replace("<svg ", '<svg class="report" ', 1)) for svg in drawn]


# -- live updates ----------------------------------------------------------------------------


async def events(request: Request) -> Response:
    """Server-sent events: the hub's version now, then each time it changes."""
    hub = state(request).hub

    async def stream() -> AsyncIterator[str]:
        version = hub.version
        yield f"retry: 3000\ndata: {version}\n\n"
        loop = asyncio.get_running_loop()
        ends = loop.time() + EVENTS_LIFETIME
        while loop.time() < ends and not await request.is_disconnected():
            seen = await hub.wait_change(version, KEEP_ALIVE)
            if seen > version:
                version = seen
                yield f"data: {version}\n\n"
            else:
                yield ": idle\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"x-accel-buffering": "no"})  # fmt: skip


ROUTES = [
    Route("/login", login),
    Route("/", overview_page),
    Route("/jobs", jobs_page),
    Route("/jobs/goto", goto),
    Route("/jobs/{job_id:int}", job_page),
    Route("/jobs/{job_id:int}/graph", graph_page),
    Route("/runners", runners_page),
    Route("/limits", limits_page),
    Route("/dispatchers", dispatchers_page),
    Route("/stats", stats_page),
    Route("/events", events),
    Route("/fragment/overview", overview_fragment),
    Route("/fragment/runners", runners_fragment),
    Route("/fragment/jobs/{job_id:int}/summary", job_summary_fragment),
    Route("/fragment/jobs/{job_id:int}/attempts", job_attempts_fragment),
    Route("/fragment/jobs/{job_id:int}/streams", job_streams_fragment),
]
