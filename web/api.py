"""The JSON API under `/api/`: the pages' data for scripts and notebooks, from `web.data`.

Every answer is computed through the hub's cache like the pages, so the API and the pages agree
and cost the same. `/api/openapi.json` describes it (OpenAPI 3.1). Requests carry the session
cookie or `Authorization: Bearer TOKEN` (`web.security`).
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bt import __version__
from web import data
from web.pages import cached, job_list_of, overview_of, runner_rows

MAX_API_TAG = 1_000_000  #: characters of a tag an API answer carries (its start)


def json(value: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(value, status_code=status)


def overview(request: Request) -> Response:
    o = overview_of(request)
    return json({
        "counts": o.counts,
        "tasks": [{"task": t.task, "counts": t.counts} for t in o.by_task],
        "more_tasks": o.more_tasks,
        "ended_per_minute": o.throughput.per_minute,
        "ended_since": o.throughput.since.isoformat(),
        "cpu_hours": o.cpu_hours,
        "last_failures": [
            {"id": f.job_id, "name": f.name,
             "ended": f.ended.isoformat() if f.ended else None, "reason": f.reason}
            for f in o.failures
        ],
        "runners": o.runners,
        "at": o.now.isoformat(),
    })  # fmt: skip


def jobs(request: Request) -> Response:
    listed = job_list_of(request)
    if listed.error:
        return json({"error": listed.error}, 400)
    return json({"jobs": [j.as_dict() for j in listed.jobs], "next_after": listed.next_after})


def job(request: Request) -> Response:
    job_id = request.path_params["job_id"]
    shown = cached(request, ("api-job", job_id), lambda app: (
        app.jobs.get(job_id), app.tags.list(job_id)))  # fmt: skip
    details, tags = shown
    return json({
        **details.as_dict(),
        "tags": {t.name: t.value[:MAX_API_TAG] for t in tags},
    })  # fmt: skip


def attempts(request: Request) -> Response:
    job_id = request.path_params["job_id"]
    found = cached(request, ("job-attempts", job_id), lambda app: app.jobs.history(job_id))
    return json([a.as_dict() for a in found])


def stats(request: Request) -> Response:
    text = request.query_params.get("filter", "")
    by = request.query_params.get("by") or "task"
    if by not in data.GROUP_BYS:
        raise HTTPException(400, f"by is one of {', '.join(data.GROUP_BYS)}.")
    found = cached(request, ("api-stats", text, by),
                   lambda app: data.stats(app, text, by, plots=False))  # type: ignore[arg-type]  # fmt: skip
    if found.error:
        return json({"error": found.error}, 400)
    return json([g.as_dict() for g in found.groups])


def runners(request: Request) -> Response:
    return json([
        {
            "id": r.runner.id, "host": r.runner.host, "pid": r.runner.pid,
            "slots": r.runner.slots, "tasks": r.runner.tasks, "jobs": list(r.runner.jobs),
            "started_at": r.runner.started_at.isoformat(),
            "heartbeat_at": r.runner.heartbeat_at.isoformat(),
            "heartbeat_age": r.heartbeat_age, "stale": r.stale,
            "stop_requested": r.runner.stop_requested,
            "done": r.done, "failed": r.failed, "batch_id": r.batch_id,
        }
        for r in runner_rows(request)
    ])  # fmt: skip


def limits(request: Request) -> Response:
    return json([limit.as_dict() for limit in cached(request, ("limits",), data.limits)])


def openapi(_request: Request) -> Response:
    return json(OPENAPI)


def _get(summary: str, schema: dict[str, Any], *params: dict[str, Any]) -> dict[str, Any]:
    return {"get": {
        "summary": summary,
        "parameters": list(params),
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": schema}}},
            "400": {"description": "a bad filter or parameter", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            "401": {"description": "no session cookie and no bearer token"},
        },
    }}  # fmt: skip


def _query(name: str, description: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": kind}}  # fmt: skip


_JOB_ID = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_OBJECT = {"type": "object"}
_LIST = {"type": "array", "items": {"type": "object"}}
OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "brownthrower web API",
        "version": __version__,
        "description": "Read-only: the data of the dashboard's pages. Authenticate with the "
        "session cookie of the login URL or `Authorization: Bearer TOKEN`.",
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "string"}}}},
    },
    "security": [{"bearer": []}],
    "paths": {
        "/api/overview": _get("Jobs per status and per task, jobs ended per minute, CPU-hours, "
                              "the latest failures", _OBJECT),
        "/api/jobs": _get(
            "One page of the jobs matching a filter (the shell's `job list` syntax)",
            {"type": "object", "properties": {"jobs": _LIST,
                                              "next_after": {"type": ["integer", "null"]}}},
            _query("filter", "terms such as `status=FAILED name=sim_*`"),
            _query("after", "next_after of the previous page", "integer"),
            _query("limit", f"jobs per page, 1 to {data.MAX_PAGE}", "integer"),
            _query("sort", f"one of {', '.join(data.SORTS)}"),
            _query("newest", "1: reversed order"),
        ),
        "/api/jobs/{job_id}": _get("A job: details, YAML, links and tags", _OBJECT, _JOB_ID),
        "/api/jobs/{job_id}/attempts": _get("A job's attempts with their resource figures",
                                            _LIST, _JOB_ID),
        "/api/stats": _get("Statistics of the selected jobs' attempts per task, status or host",
                           _LIST, _query("filter", "job filter terms"),
                           _query("by", "task, status or host")),
        "/api/runners": _get("Registered runners with their jobs, heartbeat age and tallies",
                             _LIST),
        "/api/limits": _get("Concurrency limits", _LIST),
    },
}  # fmt: skip

ROUTES = [
    Route("/api/overview", overview),
    Route("/api/jobs", jobs),
    Route("/api/jobs/{job_id:int}", job),
    Route("/api/jobs/{job_id:int}/attempts", attempts),
    Route("/api/stats", stats),
    Route("/api/runners", runners),
    Route("/api/limits", limits),
    Route("/api/openapi.json", openapi),
]
