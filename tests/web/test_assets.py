"""The dashboard works offline: every asset is served by the package, none is fetched."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import web
from tests.web.conftest import Dashboard

PACKAGE = Path(web.__file__).parent
ASSETS = sorted(p for d in ("templates", "static") for p in (PACKAGE / d).rglob("*") if p.is_file())
#: XML namespace names, which are never fetched
NAMESPACES = ("http://www.w3.org/2000/svg",)


@pytest.mark.parametrize("path", ASSETS, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_asset_refers_to_an_external_url(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for namespace in NAMESPACES:
        text = text.replace(namespace, "")
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", text, re.IGNORECASE)


def test_there_are_assets_to_check() -> None:
    assert {"live.js", "app.css", "base.html"} <= {p.name for p in ASSETS}


@pytest.mark.parametrize(
    ("path", "kind"),
    [("/static/live.js", "javascript"), ("/static/app.css", "text/css"),
     ("/static/favicon.svg", "image/svg+xml")],
)  # fmt: skip
def test_static_files_are_served_with_their_type(web: Dashboard, path: str, kind: str) -> None:
    response = web.get(path)
    assert response.status_code == 200
    assert kind in response.headers["content-type"]


def test_pages_load_only_their_own_assets(web: Dashboard) -> None:
    html = web.get("/").text
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources)
