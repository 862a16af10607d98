"""The graph page's drawing: a small layered layout, drawn as SVG on the server.

Parents above children: each node's layer is its longest path from a root of the drawn graph,
nodes in a layer ordered by the mean position of their parents, a layer wider than `PER_ROW`
wrapped into several rows. It draws at most a few hundred nodes (`bt.dashboard.MAX_NODES`), so
plain Python is quick; no graphviz at request time. Stored text is escaped and its control
characters shown (`web.render.one_line`); colours come from CSS classes, never style attributes.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import quote

from markupsafe import Markup, escape

from bt.dashboard import Nearby, SubjobGroups
from web.render import STATUS_ORDER, one_line, status_class

K = TypeVar("K", bound=Hashable)

NODE_W, NODE_H = 180.0, 40.0
GAP_X, GAP_Y = 24.0, 56.0
MARGIN = 24.0
PER_ROW = 8  #: nodes side by side before a layer wraps
NAME_CHARS = 24


@dataclass
class Node(Generic[K]):
    """A box to draw: its key, link, two lines of text and CSS class."""

    key: K
    href: str
    title: str
    subtitle: str
    css: str
    tip: str = ""
    above: str = ""  #: a "+N more" stub above the box
    below: str = ""  #: a "+N more" stub below it
    stub_href: str = ""
    x: float = 0.0
    y: float = 0.0


@dataclass
class Drawing(Generic[K]):
    nodes: list[Node[K]]
    edges: list[tuple[K, K, str]] = field(default_factory=list)  #: parent, child, label


def layers(keys: Sequence[K], edges: Iterable[tuple[K, K]]) -> dict[K, int]:
    """Each node's layer: its longest path from a node without parents (cycles broken)."""
    parents: dict[K, set[K]] = {k: set() for k in keys}
    for parent, child in edges:
        if parent != child and parent in parents and child in parents:
            parents[child].add(parent)
    layer: dict[K, int] = {}
    pending = list(keys)
    while pending:
        ready = [k for k in pending if parents[k] <= layer.keys()]
        if not ready:  # a cycle: take the first waiting node as if its parents were drawn
            ready = pending[:1]
        for key in ready:
            layer[key] = max((layer[p] + 1 for p in parents[key] if p in layer), default=0)
        pending = [k for k in pending if k not in layer]
    return layer


def place(drawing: Drawing[K]) -> tuple[float, float]:
    """Give every node its position; the drawing's width and height."""
    keys = [n.key for n in drawing.nodes]
    layer = layers(keys, ((p, c) for p, c, _ in drawing.edges))
    parents: dict[K, list[K]] = {k: [] for k in keys}
    for parent, child, _ in drawing.edges:
        if parent in parents and child in parents:
            parents[child].append(parent)
    position: dict[K, float] = {}
    by_key = {n.key: n for n in drawing.nodes}
    row, width = 0, 0.0
    for depth in sorted(set(layer.values())):
        members = [k for k in keys if layer[k] == depth]
        members.sort(key=lambda k: _barycentre(parents[k], position, keys.index(k)))
        for start in range(0, len(members), PER_ROW):
            for column, key in enumerate(members[start : start + PER_ROW]):
                node = by_key[key]
                node.x = MARGIN + column * (NODE_W + GAP_X)
                node.y = MARGIN + row * (NODE_H + GAP_Y)
                position[key] = column + start / PER_ROW * 0.01
                width = max(width, node.x + NODE_W + MARGIN)
            row += 1
    return width, MARGIN + row * (NODE_H + GAP_Y) - GAP_Y + MARGIN


def _barycentre(parents: list[K], position: dict[K, float], order: int) -> tuple[float, int]:
    placed = [position[p] for p in parents if p in position]
    return (sum(placed) / len(placed) if placed else float("inf"), order)


def svg(drawing: Drawing[K], *, label: str) -> Markup:
    """The drawing as an inline SVG element."""
    width, height = place(drawing)
    at = {n.key: n for n in drawing.nodes}
    parts = [
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'class="arrowhead"/></marker></defs>'
    ]
    parts += [_edge(at[p], at[c], text) for p, c, text in drawing.edges if p in at and c in at]
    parts += [_node(n) for n in drawing.nodes]
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="{escape(label)}"><title>{escape(label)}</title>{"".join(parts)}</svg>'
    )


def _edge(parent: Node[K], child: Node[K], text: str) -> str:
    x1, y1 = parent.x + NODE_W / 2, parent.y + NODE_H
    x2, y2 = child.x + NODE_W / 2, child.y
    if child.y <= parent.y:  # same row (a wrapped layer or a cycle): go round the side
        x1, y1, x2, y2 = parent.x + NODE_W, parent.y + NODE_H / 2, child.x, child.y + NODE_H / 2
    middle = (y1 + y2) / 2
    path = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{middle:.1f} {x2:.1f},{middle:.1f} {x2:.1f},{y2:.1f}"
    drawn = f'<path class="edge" d="{path}" marker-end="url(#arrow)"/>'
    if text:
        drawn += (f'<text class="edge-label" x="{(x1 + x2) / 2:.1f}" y="{middle:.1f}">'
                  f"{one_line(text)}</text>")  # fmt: skip
    return drawn


def _node(node: Node[K]) -> str:
    x, y = node.x, node.y
    tip = f"<title>{one_line(node.tip or node.title)}</title>"
    box = (
        f'<a href="{escape(node.href)}">{tip}'
        f'<rect class="node {escape(node.css)}" x="{x:.1f}" y="{y:.1f}" width="{NODE_W:.0f}" '
        f'height="{NODE_H:.0f}" rx="5"/>'
        f'<text class="node-title" x="{x + 8:.1f}" y="{y + 16:.1f}">{one_line(node.title)}</text>'
        f'<text class="node-sub" x="{x + 8:.1f}" y="{y + 32:.1f}">{one_line(node.subtitle)}</text>'
        "</a>"
    )
    for text, at in ((node.above, y - 6), (node.below, y + NODE_H + 14)):
        if text:
            middle = x + NODE_W / 2
            box += (f'<a href="{escape(node.stub_href)}"><text class="stub" x="{middle:.1f}" '
                    f'y="{at:.1f}">{one_line(text)}</text></a>')  # fmt: skip
    return box


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def nearby_drawing(near: Nearby) -> Drawing[int]:
    """The jobs around one job, each with stubs for the parents and children not drawn."""
    nodes = []
    for job in near.jobs:
        hidden_up, hidden_down = (
            near.hidden_parents.get(job.id, 0),
            near.hidden_children.get(job.id, 0),
        )
        css = status_class(job.shown_status) + (" center" if job.id == near.center else "")
        nodes.append(Node(
            job.id, f"/jobs/{job.id}", f"#{job.id} {_short(job.name)}", job.shown_status, css,
            tip=f"job {job.id}: {job.name} ({job.shown_status})",
            above=f"+{hidden_up:,} more parents" if hidden_up else "",
            below=f"+{hidden_down:,} more children" if hidden_down else "",
            stub_href=f"/jobs/{job.id}/graph",
        ))  # fmt: skip
    return Drawing(nodes, [(p, c, "") for p, c in near.edges])


def groups_drawing(groups: SubjobGroups) -> Drawing[str]:
    """A superjob's subjobs as one box per task with its counts per status, and the links
    between tasks with how many job links each stands for."""
    nodes = []
    for task, counts in groups.counts.items():
        shown = " · ".join(f"{s} {counts[s]:,}" for s in STATUS_ORDER if counts.get(s))
        worst = next((s for s in ("FAILED", "RUNNING", "QUEUED", "STAND-BY", "STASHED")
                      if counts.get(s)), "DONE")  # fmt: skip
        nodes.append(Node(
            task, f"/jobs?filter={quote(f'super_id={groups.super_id} name={task}')}",
            f"{_short(task)} ({sum(counts.values()):,})", shown, status_class(worst),
            tip=f"{task}: {shown}",
        ))  # fmt: skip
    edges = [(p, c, f"{n:,}" if n > 1 else "") for p, c, n in groups.links if p != c]
    return Drawing(nodes, edges)
