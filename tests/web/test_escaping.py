"""Stored text is shown as text on every page it appears on: markup escaped, control
characters shown as marked codes, never raw; no inline script or style anywhere."""

from __future__ import annotations

import re

import pytest

from bt import Brownthrower, tagnames
from bt.values import Failed, Finished, RunResult
from tests import factories
from tests.web.conftest import HOSTILE, Dashboard, rename

#: what HOSTILE's control characters become (the codes, each in a marked span)
CODES = ['<span class="ctl">\\x1b</span>[31m', '<span class="ctl">\\x07</span>']


@pytest.fixture
def hostile(app: Brownthrower) -> dict[str, int]:
    """A failed, a done and a running job whose name, runner host, tags, reason, traceback,
    output and streams hold HOSTILE."""
    runner = app.runners.register(host=HOSTILE, pid=1, slots=3, tasks=["*"], lease=3600)
    ids = {key: factories.job(app, submit=True, description="<b>" + HOSTILE[:40])
           for key in ("failed", "done", "running")}  # fmt: skip
    claims = {c.job_id: c for c in app.claims.claim_many(runner.id, ["noop"], 3)}
    for claim in claims.values():
        tags = {tagnames.STDOUT: HOSTILE, tagnames.STDERR: HOSTILE, "note": HOSTILE}
        app.claims.put_tags(claim, tags)
    app.claims.settle([
        Failed(claims[ids["failed"]], HOSTILE, HOSTILE, 1),
        Finished(claims[ids["done"]], RunResult(output=f"'{HOSTILE}'\n")),
    ])  # fmt: skip
    for job in ids.values():
        rename(app, job, HOSTILE)
    return ids


def pages(ids: dict[str, int]) -> list[str]:
    jobs = [f"/jobs/{i}" for i in ids.values()]
    graphs = [f"/jobs/{i}/graph" for i in ids.values()]
    fragments = [f"/fragment/jobs/{i}/{part}" for i in ids.values()
                 for part in ("summary", "attempts", "streams")]  # fmt: skip
    return ["/", "/jobs", "/runners", "/stats", "/stats?by=host", "/fragment/overview",
            "/fragment/runners", *jobs, *graphs, *fragments]  # fmt: skip


def test_hostile_text_is_escaped_on_every_page(web: Dashboard, hostile: dict[str, int]) -> None:
    for path in pages(hostile):
        html = web.get(path).text
        assert "<script>alert" not in html, path
        assert "<img src=x" not in html, path
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f]", html), path


def test_hostile_text_is_shown_on_the_pages_it_belongs_to(
    web: Dashboard, hostile: dict[str, int]
) -> None:
    shown = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for path in ["/", "/jobs", "/runners", f"/jobs/{hostile['failed']}",
                 f"/jobs/{hostile['running']}/graph"]:  # fmt: skip
        assert shown in web.get(path).text, path


def test_control_characters_show_as_marked_codes(web: Dashboard, hostile: dict[str, int]) -> None:
    html = web.get(f"/jobs/{hostile['failed']}").text
    for code in CODES:
        assert code in html


def test_no_page_has_inline_script_or_style(web: Dashboard, hostile: dict[str, int]) -> None:
    for path in pages(hostile):
        html = web.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert "<style" not in html and " style=" not in html, path
        assert not re.search(r"<[^>]*\son[a-z]+=", html), path


def test_no_page_shows_the_database_url(
    web: Dashboard, hostile: dict[str, int], db_url: str
) -> None:
    secret_parts = [
        db_url,
        db_url.rsplit("///", maxsplit=1)[-1],
        db_url.rsplit("@", maxsplit=1)[-1],
    ]
    paths = [*pages(hostile), "/limits", "/dispatchers", "/api/overview", "/api/runners"]
    for path in paths:
        html = web.get(path).text
        assert not any(part in html for part in secret_parts), path
