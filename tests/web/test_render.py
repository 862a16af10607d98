"""Pure parts of the pages: visible control characters, status classes, the graph layout."""

from __future__ import annotations

import itertools
import time

from markupsafe import Markup

from web import graph
from web.data import Every
from web.render import ENV, one_line, status_class, visible


def test_visible_escapes_markup_and_marks_control_characters() -> None:
    shown = visible("<b>\x1b[1m</b>")
    assert shown == Markup('&lt;b&gt;<span class="ctl">\\x1b</span>[1m&lt;/b&gt;')


def test_visible_keeps_newlines_and_tabs() -> None:
    assert visible("a\n\tb") == "a\n\tb"


def test_one_line_shows_newlines_too() -> None:
    assert one_line("a\nb") == Markup('a<span class="ctl">\\x0a</span>b')


def test_every_template_escapes_what_it_prints() -> None:
    template = ENV.from_string("{{ value }}")
    assert template.render(value="<i>\x07") == '&lt;i&gt;<span class="ctl">\\x07</span>'


def test_status_classes_name_the_pseudo_statuses() -> None:
    assert status_class("QUEUED (blocked)") == "st-BLOCKED"
    assert status_class("QUEUED (limited)") == "st-LIMITED"
    assert status_class("QUEUED (retry at 10:26)") == "st-WAITING"
    assert status_class("STAND-BY") == "st-STAND-BY"


def test_layers_put_children_below_their_parents() -> None:
    layer = graph.layers(["a", "b", "c", "d"], [("a", "b"), ("b", "c"), ("a", "c")])
    assert layer == {"a": 0, "b": 1, "c": 2, "d": 0}


def test_layers_survive_a_cycle() -> None:
    assert set(graph.layers(["a", "b"], [("a", "b"), ("b", "a")])) == {"a", "b"}


def test_a_wide_layer_wraps_into_rows() -> None:
    nodes = [graph.Node(i, f"/jobs/{i}", str(i), "", "") for i in range(graph.PER_ROW + 1)]
    width, _height = graph.place(graph.Drawing(nodes))
    assert len({n.y for n in nodes}) == 2
    assert width < (graph.PER_ROW + 1) * (graph.NODE_W + graph.GAP_X)


def test_a_drawing_escapes_its_text() -> None:
    node = graph.Node(1, "/jobs/1", "<script>", "\x1b", "st-DONE")
    svg = graph.svg(graph.Drawing([node]), label="<x>")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "\x1b" not in svg


def test_a_slow_figure_is_read_once_while_fresh() -> None:
    reads = iter(range(1, 10))
    every = Every(3600, lambda: next(reads))
    assert (every.get(), every.get()) == (1, 1)


def test_a_stale_slow_figure_is_served_while_the_next_is_read() -> None:
    reads = itertools.count(1)
    every = Every(0, lambda: next(reads))
    assert every.get() == 1
    assert every.get() == 1  # the old value, while a thread reads the next
    deadline = time.monotonic() + 10
    while every.get() == 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert every.get() > 1
