"""The report's drawings and page (`bt.report`): valid SVG and HTML, nothing fetched, every stored
text escaped, and the per-attempt parts cut down above 10,000 attempts."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from bt.report import MAX_ATTEMPTS, AttemptRecord, report_html, timeline_svg
from bt.report.boxplot import Box, box_plot
from bt.report.stats import METRIC
from bt.report.svg import SVG_NS
from bt.report.text import seconds, short_seconds, size
from bt.report.timeline import plan
from tests.unit.reportdata import CONTROL, HOSTILE, IMG, SCRIPT, campaign, record

NS = {"svg": SVG_NS}
VOID = {"meta", "br", "hr", "img", "input", "link"}
FETCHING = {"src", "href", "xlink:href", "srcset", "action", "poster", "data", "background"}
URL = re.compile(r"https?://[^\s\"'<>)]*")


class WellFormed(HTMLParser):
    """Checks that every element is closed, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.errors: list[str] = []
        self.tags: list[str] = []
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_startendtag(tag, attrs)
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes |= {name for name, _ in attrs}

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.errors.append(f"</{tag}> closes nothing open")


def well_formed(page: str) -> WellFormed:
    checker = WellFormed()
    checker.feed(page)
    checker.close()
    assert checker.errors == [] and checker.open == []
    return checker


def svgs(page: str) -> list[ET.Element]:
    """Every inline SVG of a page, parsed as XML."""
    return [ET.fromstring(s) for s in re.findall(r"<svg\b.*?</svg>", page, re.DOTALL)]


def bars(svg: ET.Element) -> list[ET.Element]:
    """The timeline's attempt bars (the rects with a tooltip)."""
    return [r for r in svg.iter(f"{{{SVG_NS}}}rect") if r.find("svg:title", NS) is not None]


@pytest.fixture(scope="module")
def small() -> list[AttemptRecord]:
    return campaign(300)


@pytest.fixture(scope="module")
def page(small: list[AttemptRecord]) -> str:
    return report_html(small, title=f"campaign {SCRIPT}", selection=f"name={IMG}")


def test_the_page_is_well_formed_html(page: str) -> None:
    checker = well_formed(page)
    assert page.startswith("<!DOCTYPE html>") and "svg" in checker.tags


def test_the_page_fetches_nothing(page: str) -> None:
    assert set(URL.findall(page)) == {SVG_NS}
    checker = well_formed(page)
    assert not {"script", "link", "img", "iframe", "object", "image", "use"} & set(checker.tags)
    assert not FETCHING & checker.attributes
    style = page.split("<style>")[1].split("</style>", maxsplit=1)[0]
    assert "url(" not in style and "@import" not in style


def test_every_stored_text_is_escaped(page: str) -> None:
    for hostile in HOSTILE:
        assert hostile not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "\x1b" not in page and "\x07" not in page
    assert "\\x1b[2J\\x1b]0;pwned\\x07" in page


def test_every_drawing_is_valid_svg(page: str) -> None:
    drawings = {svg.get("id"): svg for svg in svgs(page)}
    assert set(drawings) == {
        "timeline", "box-wait", "box-run", "box-cpu_efficiency", "box-peak_rss", "box-rchar",
        "box-wchar",
    }  # fmt: skip
    assert all(svg.tag == f"{{{SVG_NS}}}svg" for svg in drawings.values())


def test_the_timeline_draws_every_started_attempt(small: list[AttemptRecord], page: str) -> None:
    (timeline,) = (svg for svg in svgs(page) if svg.get("id") == "timeline")
    assert len(bars(timeline)) == sum(r.started_at is not None for r in small)


def test_the_failures_table_has_a_row_per_failed_attempt(
    small: list[AttemptRecord], page: str
) -> None:
    failed = [r for r in small if r.failed]
    table = page.split('id="failures"')[1].split("</table>", maxsplit=1)[0]
    assert len(failed) > 5 and table.count("<tr>") == len(failed) + 1  # and the head
    assert f"Failed attempts ({len(failed)})" in page


def test_a_standalone_timeline_is_an_svg_document(small: list[AttemptRecord]) -> None:
    document = timeline_svg(small, lanes="host")
    root = ET.fromstring(document.split("\n", 1)[1])
    assert document.startswith("<?xml") and root.tag == f"{{{SVG_NS}}}svg"
    lanes = [t for t in root.iter(f"{{{SVG_NS}}}text") if t.find("svg:title", NS) is not None]
    assert len(lanes) == 3  # one per host


def test_drawings_carry_their_font_as_attributes_not_a_style_a_csp_would_refuse(
    small: list[AttemptRecord],
) -> None:
    root = ET.fromstring(timeline_svg(small))
    assert (root.get("style"), root.get("font-family")) == (None, "system-ui,sans-serif")


def test_attempts_without_a_slot_are_packed_into_their_runners_lanes() -> None:
    overlapping = [record(1, started=0, ended=10), record(2, started=5, ended=15)]
    after = [record(3, started=20, ended=30)]
    other_runner = [record(4, started=0, ended=10, runner_id=2)]
    lanes = plan([*overlapping, *after, *other_runner]).lanes
    assert [[b.record.job_id for b in lane] for lane in lanes.values()] == [[1, 3], [2], [4]]


def test_a_box_has_tukey_whiskers_and_its_outliers_job_ids() -> None:
    box = Box.of("t", [(float(v), v) for v in (*range(1, 11), 100, -50)])
    assert box is not None
    assert (box.q1, box.median, box.q3) == (2.75, 5.5, 8.25)  # ranks 2.75, 5.5, 8.25 of 12
    assert (box.low, box.high) == (1, 10)
    assert box.outliers == [(100.0, 100), (-50.0, -50)]


def test_a_box_plot_names_its_outliers(small: list[AttemptRecord]) -> None:
    slow = record(99_999, name="merge", started=0, ended=100_000)
    drawing = ET.fromstring(box_plot(METRIC["run"], {"merge": [*small, slow]}, id="run"))
    texts = {t.text for t in drawing.iter(f"{{{SVG_NS}}}text")}
    assert "#99999" in texts


def test_an_empty_report_still_renders() -> None:
    page = report_html([])
    well_formed(page)
    assert "no attempt has started" in page and len(svgs(page)) == 7


def test_above_10000_attempts_the_timeline_is_sampled_and_the_page_says_so() -> None:
    records = campaign(MAX_ATTEMPTS + 50)
    page = report_html(records)
    (timeline,) = (svg for svg in svgs(page) if svg.get("id") == "timeline")
    assert len(bars(timeline)) == MAX_ATTEMPTS
    assert "10,000 of 10,050 attempts drawn: a uniform sample" in page
    assert f"from {len(records):,} attempts" in page


def test_at_10000_attempts_nothing_is_sampled() -> None:
    assert "uniform sample" not in report_html(campaign(MAX_ATTEMPTS))


def test_control_characters_in_a_name_never_reach_the_svg() -> None:
    drawing = timeline_svg([record(1, name=f"x{CONTROL}\x00")])
    ET.fromstring(drawing.split("\n", 1)[1])  # raw, they are not even valid XML
    assert "\\x00" in drawing


@pytest.mark.parametrize(
    ("value", "long", "short"),
    [(0.5, "500 ms", "0.5s"), (12.345, "12.3 s", "12.3s"), (200, "3 min 20 s", "3m20s"),
     (7500, "2 h 05 min", "2h05m"), (300_000, "3 d 11 h", "3d11h")],
)  # fmt: skip
def test_durations_are_written_in_their_two_largest_units(
    value: float, long: str, short: str
) -> None:
    assert (seconds(value), short_seconds(value)) == (long, short)


def test_sizes_are_written_in_units_of_1024() -> None:
    assert [size(v) for v in (512, 1536, 200 * 2**20, 3.5 * 2**30)] == [
        "512 B", "1.5 KiB", "200 MiB", "3.5 GiB",
    ]  # fmt: skip
