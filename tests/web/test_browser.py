"""The dashboard in a real browser: Debian's Chromium through Playwright, against a real
`brownthrower web` process on a free loopback port, on SQLite and PostgreSQL. Jobs run through
a real `bt-runner`. A failed test leaves a screenshot of its page in its tmp directory; one test
takes the README's `docs/web.png`."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import text

from bt import Brownthrower, tagnames
from bt.usage import Usage
from bt.values import Claim, DeclaredJob, Failed, Finished, JobSpec, NodeSpec, RunResult
from tests import factories
from tests.web.browser import (
    ARGS,
    CHROMIUM,
    FailureReports,
    Server,
    browser_or_skip,
    screenshot_if_failed,
)

RUNNER = [str(Path(sys.executable).with_name("bt-runner"))]  #: the console script
LIVE = 30_000  #: ms a live update may take (PostgreSQL: a finish NOTIFYs nothing, the hub's
#: periodic refresh shows it within 5 s)
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "web.png"
MARKUP = '<script>alert(1)</script> "><img src=x onerror=alert(1)>'
HOSTILE = MARKUP + " \x1b[31mred\x1b[0m\x07"  #: descriptions refuse control characters
PAGES = ("/", "/jobs", "/runners", "/stats", "/dispatchers", "/limits")


@pytest.fixture(scope="module")
def chromium(failure_reports: None) -> Iterator[Any]:
    """One headless Chromium for the module."""
    sync_api = browser_or_skip()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def failure_reports(request: pytest.FixtureRequest) -> Iterator[None]:
    plugin = FailureReports()
    request.config.pluginmanager.register(plugin, f"bt-web-failures-{id(plugin)}")
    yield
    request.config.pluginmanager.unregister(plugin)


@dataclass
class View:
    """A browser tab logged in to a running dashboard; what it asked for and what it said."""

    server: Server
    page: Any
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def goto(self, path: str) -> Any:
        response = self.page.goto(self.server.base + path)
        self.page.wait_for_load_state("load")
        return response

    def text(self) -> str:
        return str(self.page.locator("body").inner_text())


@pytest.fixture
def dashboard(
    request: pytest.FixtureRequest, chromium: Any, db_url: str, tmp_path: Path
) -> Iterator[Callable[..., View]]:
    """Opens the dashboard (start the server once the test's data is in place): `login=False`
    for a tab that never logged in."""
    servers: list[Server] = []
    contexts: list[Any] = []
    views: list[View] = []

    def open_view(*, login: bool = True) -> View:
        if not servers:
            log = tmp_path / "web.log"
            servers.append(Server(db_url, "browser-test-token", log).start())
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        view = View(servers[0], context.new_page())
        view.page.on("request", lambda r: view.requests.append(r.url))
        view.page.on("dialog", view.on_dialog)
        views.append(view)
        if login:
            view.page.goto(view.server.login)
            view.page.wait_for_load_state("load")
        return view

    yield open_view
    for n, view in enumerate(views):
        screenshot_if_failed(request, view.page, tmp_path / f"failure-{n}.png")
    for context in contexts:
        context.close()
    for server in servers:
        server.stop()
    assert all(view.dialogs == [] for view in views), [v.dialogs for v in views]


def run_runner(db_url: str, tmp_path: Path) -> None:
    """A real `bt-runner` in drain mode: runs what is runnable, then exits."""
    done = subprocess.run(
        [*RUNNER, "-u", db_url, "--log-dir", str(tmp_path / "logs"),
         "--work-dir", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def expect() -> Any:
    return browser_or_skip().expect


def test_counts_change_when_a_runner_finishes_a_job_with_no_reload(
    app: Brownthrower, dashboard: Callable[..., View], db_url: str, tmp_path: Path
) -> None:
    for _ in range(2):
        factories.job(app, "noop", submit=True)
    view = dashboard()
    view.goto("/")
    done = view.page.locator('[data-count="DONE"]')
    expect()(done).to_have_text("0")
    expect()(view.page.locator('[data-count="QUEUED"]')).to_have_text("2")
    view.page.evaluate("window.notReloaded = true")
    run_runner(db_url, tmp_path)
    expect()(done).to_have_text("2", timeout=LIVE)
    expect()(view.page.locator('[data-count="QUEUED"]')).to_have_text("0")
    assert view.page.evaluate("window.notReloaded") is True


def job_ids_shown(view: View) -> list[int]:
    cells = view.page.locator("table.jobs tbody tr td:first-child").all_inner_texts()
    return [int(cell.strip()) for cell in cells]


def test_a_filter_and_its_pagination(app: Brownthrower, dashboard: Callable[..., View]) -> None:
    ids = app.jobs.create_graph(
        [NodeSpec(i, JobSpec("echo" if i % 4 else "noop")) for i in range(148)]
    )
    echo = sorted(ids[i] for i in range(148) if i % 4)
    view = dashboard()
    view.goto("/jobs")
    view.page.locator("#filter").fill("name=echo")
    view.page.locator("#filter").press("Enter")
    view.page.wait_for_url(re.compile(r"filter=name%3Decho"))
    shown: list[int] = []
    for expected in (50, 50, 11):
        on_page = job_ids_shown(view)
        assert len(on_page) == expected
        shown += on_page
        following = view.page.locator("a[rel=next]")
        if expected == 11:
            assert following.count() == 0
        else:
            following.click()
            view.page.wait_for_load_state("load")
    assert shown == echo
    assert "noop" not in view.page.locator("table.jobs").inner_text()


def test_a_job_page_shows_its_attempts(
    app: Brownthrower, dashboard: Callable[..., View], db_url: str, tmp_path: Path
) -> None:
    job = factories.job(app, "flaky", submit=True, config=f"path: {tmp_path / 'count'}")
    run_runner(db_url, tmp_path)  # fails twice, then succeeds (retries after 0.5 s and 1 s)
    view = dashboard()
    view.goto(f"/jobs/{job}")
    attempts = view.page.locator('[data-live$="/attempts"] tbody tr')
    expect()(attempts).to_have_count(3)
    outcomes = [attempts.nth(n).inner_text() for n in range(3)]
    assert ["retried" in o for o in outcomes] == [True, True, False] and "DONE" in outcomes[2]
    assert "run 1 fails on purpose" in outcomes[0] and "run 2 fails on purpose" in outcomes[1]
    assert re.search(r"\d+(\.\d+)? ?(B|KiB|MiB)", outcomes[2]), "no resource figures"
    first = view.page.get_by_text("Attempt 1: traceback")
    first.click()
    assert "RuntimeError: run 1 fails on purpose" in view.page.locator("details[open]").inner_text()


def test_the_graph_of_a_superjob(
    app: Brownthrower, dashboard: Callable[..., View], db_url: str, tmp_path: Path
) -> None:
    parent = factories.job(app, "fanout", submit=True)
    run_runner(db_url, tmp_path)
    assert factories.status(app, parent).value == "DONE"
    view = dashboard()
    view.goto(f"/jobs/{parent}/graph")
    page = view.page
    expect()(
        page.get_by_role("heading", name=re.compile(r"Subjobs by task and status \(2\)"))
    ).to_be_visible()
    row = page.locator("table.counts tbody tr", has_text="echo")
    assert "2" in row.inner_text()
    assert page.locator(".drawing svg").count() >= 1
    child = next(j.id for j in app.jobs.neighbourhood(parent).children)
    page.locator(".drawing svg").first.locator(f'a[href="/jobs/{child}"]').first.click()
    page.wait_for_url(re.compile(rf"/jobs/{child}$"))


def test_without_the_token_only_the_refusal_is_served(
    app: Brownthrower, dashboard: Callable[..., View]
) -> None:
    job = factories.job(app, "noop", description="campaign-secret")
    view = dashboard(login=False)
    paths = [*PAGES, f"/jobs/{job}", f"/jobs/{job}/graph", "/api/jobs", "/static/live.js"]
    for path in [*paths, "/events", "/login?token=wrong-token", "/login"]:
        response = view.goto(path)
        assert response.status == 401, path
        body = view.text()
        assert "Login needed" in body and "campaign-secret" not in body, path
    assert view.page.context.cookies() == []
    assert view.requests == [view.server.base + p for p in paths] + [
        view.server.base + p for p in ("/events", "/login?token=wrong-token", "/login")
    ]


def test_every_request_the_pages_make_stays_on_127_0_0_1(
    app: Brownthrower, dashboard: Callable[..., View], db_url: str, tmp_path: Path
) -> None:
    parent = factories.job(app, "fanout", submit=True)
    run_runner(db_url, tmp_path)
    view = dashboard()
    for path in (*PAGES, f"/jobs/{parent}", f"/jobs/{parent}/graph", f"/stats?filter=id={parent}"):
        assert view.goto(path).status == 200, path
    assert len(view.requests) > len(PAGES)
    assert all(url.startswith("http://127.0.0.1:") for url in view.requests), view.requests
    assert {url.split("/")[2] for url in view.requests} == {view.server.base.split("/")[2]}


def usage(host: str) -> Usage:
    return Usage(
        realtime=12.5, cpu_user=10.0, cpu_sys=0.5, peak_rss=300 << 20, minflt=10, majflt=0,
        vol_ctxt=5, inv_ctxt=6, inblock=0, oublock=8, rchar=1000, wchar=2000, read_bytes=0,
        write_bytes=4096, exit_code=0, host=host, batch_id=None, slots=1,
    )  # fmt: skip


def hostile_jobs(app: Brownthrower) -> tuple[dict[str, int], Claim]:
    """A failed job, a done one and a running one (and its claim), whose every text is
    hostile."""
    runner = app.runners.register(host=HOSTILE, pid=1, slots=3, tasks=["noop"], lease=3600)
    ids = {k: factories.job(app, "noop", submit=True, description=MARKUP) for k in ("f", "d", "r")}
    claims = {c.job_id: c for c in app.claims.claim_many(runner.id, ["noop"], 3)}
    assert set(claims) == set(ids.values())
    for claim in claims.values():
        app.claims.put_tags(
            claim, {tagnames.STDOUT: HOSTILE, tagnames.STDERR: HOSTILE, "note": HOSTILE}
        )
    app.claims.settle(
        [
            Failed(claims[ids["f"]], HOSTILE, HOSTILE, 1, usage=usage(HOSTILE)),
            Finished(claims[ids["d"]], RunResult(output=HOSTILE), usage=usage(HOSTILE)),
        ]
    )
    rename = text("UPDATE job SET name = :name WHERE id = :id")  # a task installed no more
    app.db.write(lambda s: s.execute(rename, {"name": HOSTILE, "id": ids["f"]}))
    return ids, claims[ids["r"]]


def test_hostile_texts_show_as_text_and_run_nothing(
    app: Brownthrower, dashboard: Callable[..., View]
) -> None:
    ids, running = hostile_jobs(app)
    view = dashboard()
    typed = "/jobs?filter=" + quote(f"name={MARKUP}") + "&sort=" + quote(MARKUP)
    pages = [*PAGES, *(f"/jobs/{i}" for i in ids.values()), f"/jobs/{ids['f']}/graph", typed]
    for path in [*pages, "/stats?filter=" + quote(f"id={ids['f']}")]:
        view.goto(path)
        assert_inert(view, path)
    for job in ids.values():
        view.goto(f"/jobs/{job}")
        body = view.text()
        assert "<script>alert(1)</script>" in body
        assert '"><img src=x onerror=alert(1)>' in body
        assert "\\x1b[31mred\\x1b[0m\\x07" in body
    view.goto("/")
    assert "<script>alert(1)</script>" in view.page.locator("table.failures").inner_text()
    view.goto(f"/jobs/{ids['r']}")  # a live update brings more: the fragment is inert too
    app.claims.put_tag(running, tagnames.STDOUT, HOSTILE.replace("alert(1)", "alert(2)"))
    streams = view.page.locator('[data-live$="/streams"]')
    expect()(streams).to_contain_text("<script>alert(2)</script>", timeout=LIVE)
    assert_inert(view, "the live fragment")
    assert view.dialogs == []


def assert_inert(view: View, where: str) -> None:
    """No element the hostile texts would make, no inline script, no raw control character."""
    assert view.page.locator('img[src="x"], [onerror]').count() == 0, where
    assert view.page.locator("script:not([src])").count() == 0, where
    assert "\x1b" not in view.page.content(), where


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_screenshot_of_the_overview_for_the_readme(
    app: Brownthrower, dashboard: Callable[..., View]
) -> None:
    campaign(app)
    view = dashboard()
    view.goto("/")
    view.page.locator('[data-count="DONE"]').wait_for()
    SCREENSHOT.parent.mkdir(exist_ok=True)
    view.page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 20_000


def campaign(app: Brownthrower) -> None:
    """A campaign in full swing: several tasks, DONE, FAILED, RUNNING, QUEUED and STASHED jobs,
    a superjob STAND-BY, three runners."""
    rng = random.Random(7)
    tasks = ["random", "add2", "sum4", "pipe", "sleep"]
    app.jobs.create_graph(
        [NodeSpec(i, JobSpec(tasks[i % 5]), submit=i < 420) for i in range(460)],
        [(i, i + 5) for i in range(100, 300, 7)],
    )
    runners = [
        app.runners.register(
            host=f"td{n:03d}.pic.es", pid=4000 + n, slots=4, tasks=tasks, lease=3600
        )
        for n in range(3)
    ]
    for n in range(7):
        claims = app.claims.claim_many(runners[n % 3].id, tasks, 40)
        host = f"td{n % 3:03d}.pic.es"
        ends: list[Failed | Finished] = []
        for claim in claims:
            if rng.random() < 0.08:
                reason = rng.choice(["ValueError: negative flux", "MemoryError", "exit code 3"])
                ends.append(
                    Failed(claim, reason, f"Traceback ...\n{reason}\n", 1, usage=usage(host))
                )
            else:
                ends.append(Finished(claim, RunResult(output="1\n"), usage=usage(host)))
        app.claims.settle(ends)
    factories.job(app, "scatter", submit=True)
    (claim,) = app.claims.claim_many(runners[0].id, ["scatter"], 1)
    app.claims.finish(claim, RunResult(subjobs=[DeclaredJob(i, "pipe") for i in range(30)]))
    for runner in runners:
        app.claims.claim_many(runner.id, tasks, 4)
