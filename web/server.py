"""The dashboard as an ASGI application: routes, error pages, the guard in front of them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from bt import Brownthrower
from web import api, pages
from web.hub import Hub
from web.render import render
from web.security import Guard
from web.state import WebState

STATIC = Path(__file__).with_name("static")


def create_app(
    app: Brownthrower,
    *,
    token: str,
    hosts: frozenset[str],
    hub: Hub | None = None,
    dispatcher_dir: Path | None = None,
) -> Starlette:
    """The dashboard of `app`'s database behind `token` for requests naming `hosts`. The hub
    (one is made unless given) runs while the application does (its lifespan)."""
    web = WebState(app, hub or Hub(app), token, dispatcher_dir)

    @asynccontextmanager
    async def lifespan(_server: Starlette) -> AsyncIterator[None]:
        web.hub.start()
        try:
            yield
        finally:
            web.hub.stop()

    server = Starlette(
        routes=[*pages.ROUTES, *api.ROUTES, Mount("/static", StaticFiles(directory=STATIC))],
        middleware=[Middleware(Guard, token=token, hosts=hosts)],
        exception_handlers={HTTPException: _error},
        lifespan=lifespan,
    )
    server.state.web = web
    return server


async def _error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
    title = {404: "Not found", 400: "Bad request"}.get(exc.status_code, "Error")
    body = render("error.html", title=title, nav="", message=exc.detail)
    return Response(body, status_code=exc.status_code, media_type="text/html")
