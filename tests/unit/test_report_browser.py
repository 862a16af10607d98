"""The report in a real browser: Debian's Chromium, headless, through Playwright (which cannot
download a browser of its own here). It draws the timeline and fetches nothing; the screenshot
it takes is the README's `docs/report.png`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bt.report import report_html
from tests.unit.reportdata import SCRIPT, campaign
from tests.web.browser import ARGS, CHROMIUM, browser_or_skip

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "report.png"


@pytest.fixture(scope="module")
def browser() -> Any:
    sync_api = browser_or_skip()
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def test_the_report_shows_its_timeline_in_chromium_and_fetches_nothing(
    browser: Any, tmp_path: Path
) -> None:
    report = tmp_path / "report.html"
    report.write_text(report_html(campaign(160), title="Campaign report"), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1100, "height": 1400})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    timeline = page.locator("svg#timeline")
    assert timeline.is_visible()
    box = timeline.bounding_box()
    assert box is not None and box["width"] > 500 and box["height"] > 100
    assert page.locator("svg#timeline rect").count() > 160
    assert page.locator("#failures + table tbody tr").count() > 5
    assert SCRIPT in page.locator("body").inner_text()  # shown as text, never run
    assert dialogs == [] and requests == [report.as_uri()]
    page.close()


def test_a_screenshot_of_a_report_for_the_readme(browser: Any, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    records = campaign(160, hostile=False)
    report.write_text(report_html(records, title="Campaign report"), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1100, "height": 1300})
    page.goto(report.as_uri())
    page.locator("#timeline-title").scroll_into_view_if_needed()
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000
    page.close()
