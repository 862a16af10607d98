"""The guard in front of every request: Host allow-list, token, read-only, security headers.

Login nodes are shared, so a dashboard on 127.0.0.1 is open to every user of the machine: each
request needs the session cookie set by the one-time login URL (`/login?token=...`), or for the
JSON API `Authorization: Bearer TOKEN`. The Host header must name this machine (DNS rebinding
turns a page elsewhere into a client of 127.0.0.1 otherwise). Only GET and HEAD are served.
Every response, refusals included, carries the headers of `SECURITY_HEADERS`.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
from collections.abc import Iterable
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "bt_web"
LOGIN_PATH = "/login"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)
NO_STORE = (b"cache-control", b"no-store")
REFUSED = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
    "</head><body><h1>{title}</h1><p>{text}</p></body></html>"
)


def session_value(token: str) -> str:
    """The cookie value that proves a login with `token` (not the token itself)."""
    return hmac.new(token.encode(), b"brownthrower web session", hashlib.sha256).hexdigest()


def same(given: str | None, expected: str) -> bool:
    """Whether `given` is `expected`, compared in constant time."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def host_name(host_header: str) -> str:
    """The host of a Host header without its port, lower case (`[::1]:8080` is `::1`)."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def allowed_hosts(bound: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The host names requests may name: loopback, the bound address, and `extra`."""
    names = {*LOOPBACK, bound.strip("[]").lower(), *(h.strip("[]").lower() for h in extra)}
    return frozenset(n for n in names if n and n not in ("0.0.0.0", "::"))


class Guard:
    """ASGI middleware: refuses what is not allowed, adds the security headers to the rest."""

    def __init__(self, app: ASGIApp, *, token: str, hosts: frozenset[str]) -> None:
        self.app = app
        self.token = token
        self.session = session_value(token)
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            return
        refusal = self.refusal(scope)
        if refusal is not None:
            await _refuse(send, *refusal, api=scope["path"].startswith("/api/"))
            return
        await self.app(scope, receive, _with_headers(send))

    def refusal(self, scope: Scope) -> tuple[int, str, str] | None:
        """Why this request is refused (status, title, text), or None to serve it."""
        headers = Headers(scope=scope)
        if host_name(headers.get("host", "")) not in self.hosts:
            return 400, "Bad Host", "This dashboard answers only to the host names it was given."
        if scope["method"] not in ("GET", "HEAD"):
            return 405, "Read only", "This dashboard only shows; it changes nothing."
        if self.authorised(headers, scope) or self.logging_in(scope):
            return None
        return (
            401,
            "Login needed",
            "Open the login link that brownthrower web printed when it started.",
        )

    def logging_in(self, scope: Scope) -> bool:
        """Whether this is the login URL with the right token."""
        if scope["path"] != LOGIN_PATH:
            return False
        given = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [""])
        return same(given[-1], self.token)

    def authorised(self, headers: Headers, scope: Scope) -> bool:
        """Whether the request carries the session cookie (or, for the API, the token)."""
        path = scope["path"]
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # noqa: BLE001 - a malformed cookie header is no login
            return False
        if COOKIE in cookie and same(cookie[COOKIE].value, self.session):
            return True
        bearer = headers.get("authorization", "")
        return (
            path.startswith("/api/")
            and bearer.startswith("Bearer ")
            and same(bearer[len("Bearer ") :].strip(), self.token)
        )


def _with_headers(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [
                (k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"
            ]
            message = {**message, "headers": [*headers, *SECURITY_HEADERS, NO_STORE]}
        await send(message)

    return sending


async def _refuse(send: Send, status: int, title: str, text: str, *, api: bool) -> None:
    if api:
        body = json.dumps({"error": title, "detail": text}).encode()
        kind = b"application/json"
    else:
        body = REFUSED.format(title=html.escape(title), text=html.escape(text)).encode()
        kind = b"text/html; charset=utf-8"
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, *SECURITY_HEADERS, NO_STORE]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})
