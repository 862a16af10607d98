"""The guard: nothing but a refusal without the login, a Host allow-list, GET only, and the
security headers (CSP, nosniff, no referrer, no store) on every response."""

from __future__ import annotations

import pytest

from bt import Brownthrower
from tests import factories
from tests.web.conftest import TOKEN, Dashboard
from web.security import COOKIE, CSP, allowed_hosts, host_name, session_value

PATHS = (
    "/", "/jobs", "/jobs/1", "/jobs/1/graph", "/runners", "/limits", "/dispatchers", "/stats",
    "/events", "/fragment/overview", "/fragment/runners", "/fragment/jobs/1/summary",
    "/api/overview", "/api/jobs", "/api/jobs/1", "/api/jobs/1/attempts", "/api/stats",
    "/api/runners", "/api/limits", "/api/openapi.json", "/static/live.js", "/static/app.css",
    "/nowhere", "/login", "/login?token=wrong",
)  # fmt: skip


@pytest.mark.parametrize("path", PATHS)
def test_without_the_login_every_path_is_refused(
    app: Brownthrower, stranger: Dashboard, path: str
) -> None:
    factories.job(app, description="campaign-secret")
    response = stranger.get(path)
    assert response.status_code == 401
    assert "campaign-secret" not in response.text
    assert "Login needed" in response.text
    assert "set-cookie" not in response.headers


def test_the_login_url_sets_a_strict_http_only_cookie_and_leads_home(stranger: Dashboard) -> None:
    response = stranger.get(f"/login?token={TOKEN}")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={session_value(TOKEN)};")
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= flags


def test_the_cookie_is_not_the_token(stranger: Dashboard) -> None:
    response = stranger.get(f"/login?token={TOKEN}")
    assert TOKEN not in response.headers["set-cookie"]


def test_a_forged_cookie_is_refused(stranger: Dashboard) -> None:
    stranger.client.cookies.set(COOKIE, session_value("another-token-0123456789"))
    assert stranger.get("/").status_code == 401


def test_the_api_takes_the_token_as_a_bearer(stranger: Dashboard) -> None:
    headers = {"authorization": f"Bearer {TOKEN}"}
    assert stranger.get("/api/jobs", headers=headers).status_code == 200


def test_pages_do_not_take_the_bearer_token(stranger: Dashboard) -> None:
    headers = {"authorization": f"Bearer {TOKEN}"}
    assert stranger.get("/", headers=headers).status_code == 401


def test_an_api_refusal_is_json(stranger: Dashboard) -> None:
    response = stranger.get("/api/jobs")
    assert response.json()["error"] == "Login needed"


@pytest.mark.parametrize("host", ["evil.example", "127.0.0.2", "localhost.evil.example:8080"])
def test_a_host_not_allowed_is_refused(web: Dashboard, host: str) -> None:
    response = web.get("/", headers={"host": host})
    assert response.status_code == 400
    assert "Bad Host" in response.text


@pytest.mark.parametrize("host", ["localhost:9000", "127.0.0.1", "[::1]:8080"])
def test_loopback_names_are_allowed_on_any_port(web: Dashboard, host: str) -> None:
    assert web.get("/", headers={"host": host}).status_code == 200


def test_an_extra_host_can_be_allowed() -> None:
    assert "login1.cluster" in allowed_hosts("127.0.0.1", ["login1.cluster"])
    assert host_name("LOGIN1.cluster:8080") == "login1.cluster"


def test_a_wildcard_bind_allows_no_wildcard_host() -> None:
    assert "0.0.0.0" not in allowed_hosts("0.0.0.0")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_only_get_is_served(web: Dashboard, method: str) -> None:
    assert web.client.request(method, "/jobs").status_code == 405


@pytest.mark.parametrize("path", ["/", "/static/live.js", "/api/jobs", "/nowhere", "/login"])
def test_every_response_has_the_security_headers(web: Dashboard, path: str) -> None:
    headers = web.get(path).headers
    assert headers["content-security-policy"] == CSP
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    assert headers["x-frame-options"] == "DENY"


def test_a_refusal_has_the_security_headers(stranger: Dashboard) -> None:
    assert stranger.get("/").headers["content-security-policy"] == CSP


def test_the_csp_allows_no_inline_script_or_style_and_nothing_external() -> None:
    assert "unsafe-inline" not in CSP and "http" not in CSP
    assert "script-src 'self'" in CSP and "style-src 'self'" in CSP
