"""Pure rendering of job graphs: the original's two tables, a rich tree, Graphviz DOT (a
superjob's subjobs as a cluster)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Group, RenderableType
from rich.text import Text
from rich.tree import Tree

from bt.status import Status
from bt.values import Dag, JobInfo, Neighbourhood, TreeNode
from shell.render import JOB_COLUMNS, job_cells, plain_table, status_text, title
from shell.render_values import one_line

SELF = "#####"  #: the `kind` of the job itself in `job graph`
DOT_COLOURS = {
    Status.STASHED: "#e0e0e0",
    Status.QUEUED: "#add8e6",
    Status.RUNNING: "#ffd966",
    Status.STAND_BY: "#d9c3e9",
    Status.DONE: "#b6e3a8",
    Status.FAILED: "#f4a6a6",
}
#: a BLOCKED job (QUEUED behind a FAILED or BLOCKED parent): its own fill and a dashed red border
DOT_BLOCKED = 'fillcolor="#fde0c5", color="#c0392b", style="rounded,filled,dashed"'
DOT_BLOCKING_EDGE = ' [color="#c0392b", style=dashed]'  #: a FAILED/BLOCKED parent -> BLOCKED child
#: a superjob's subjobs: a dashed box, reached from the superjob by a dotted line
DOT_CLUSTER = 'style="rounded,dashed"; color="#7f7f7f"; fontname="Helvetica"'
DOT_TO_CLUSTER = "style=dotted, arrowhead=odot"


def kind_table(rows: list[tuple[str, JobInfo]]) -> RenderableType:
    """A job table with a leading `kind` column."""
    table = plain_table("kind", *JOB_COLUMNS)
    for kind, job in rows:
        table.add_row(kind, *job_cells(job))
    return table


def graph_tables(graph: Neighbourhood) -> RenderableType:
    """`job graph`: PARENT rows, the job (#####), CHILD rows; then SUPER, the job, SUB rows."""
    links = [
        *(("PARENT", job) for job in graph.parents),
        (SELF, graph.job),
        *(("CHILD", job) for job in graph.children),
    ]
    family = [
        *([("SUPER", graph.superjob)] if graph.superjob else []),
        (SELF, graph.job),
        *(("SUB", job) for job in graph.subjobs),
    ]
    parts: list[RenderableType] = [
        title("PARENT/CHILD JOBS:"),
        kind_table(links),
        Text(""),
        title("SUPER/SUB JOBS:"),
        kind_table(family),
    ]
    if graph.more_subjobs:
        more = f"... and {graph.more_subjobs:,} more subjobs (job graph --tree {graph.job.id})"
        parts.append(Text(more, style="dim"))
    return Group(*parts)


def graph_dict(graph: Neighbourhood) -> dict[str, object]:
    """`job graph --json`."""
    return {
        "job": graph.job.as_dict(),
        "parents": [job.as_dict() for job in graph.parents],
        "children": [job.as_dict() for job in graph.children],
        "superjob": graph.superjob.as_dict() if graph.superjob else None,
        "subjobs": [job.as_dict() for job in graph.subjobs],
        "more_subjobs": graph.more_subjobs,
    }


def _label(node: TreeNode) -> Text:
    job = node.job
    name = one_line(job.name)
    label = Text.assemble(f"{job.id} ", (name, "bold"), " ", status_text(job.shown_status))
    total = sum(node.counts.values())
    if total:
        parts = ", ".join(f"{status} {n:,}" for status, n in sorted(node.counts.items()))
        label.append(f"  [{total:,} subjobs: {parts}]", style="dim")
    return label


def job_tree(root: TreeNode) -> Tree:
    """`job graph --tree`: the super/sub hierarchy with statuses and subjob counts."""
    tree = Tree(_label(root))
    _grow(tree, root)
    return tree


def _grow(branch: Tree, node: TreeNode) -> None:
    for child in node.children:
        _grow(branch.add(_label(child)), child)
    if node.hidden:
        branch.add(Text(f"... {node.hidden:,} more subjobs", style="dim"))


def dot(
    dag: Dag, focus: int, subjobs: TreeNode | None = None, sub_edges: Iterable[tuple[int, int]] = ()
) -> str:
    """The dependency graph around job `focus` in Graphviz DOT, statuses as fill colours;
    BLOCKED jobs, and the links that block them, dashed in red. `subjobs` (the focus's subtree)
    are drawn as a cluster, nested for their own subjobs, with the links among them."""
    lines = [
        "digraph brownthrower {",
        "  rankdir=TB;",
        "  compound=true;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica"];',
    ]
    drawn = {job.id for job in dag.jobs}
    lines += [_node(job, focus) for job in dag.jobs]
    jobs = list(dag.jobs)
    if subjobs is not None and subjobs.children:
        lines += _cluster(subjobs, focus, drawn, "  ")
        jobs += _descendants(subjobs)
    blocking = {job.id for job in jobs if job.status is Status.FAILED or job.blocked}
    blocked = {job.id for job in jobs if job.blocked}
    for parent, child in [*dag.edges, *sorted(set(sub_edges) - set(dag.edges))]:
        style = DOT_BLOCKING_EDGE if parent in blocking and child in blocked else ""
        lines.append(f"  j{parent} -> j{child}{style};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node(job: JobInfo, focus: int, indent: str = "  ") -> str:
    label = f"{job.id}\\n{_escape(job.name)}\\n{job.shown_status}"
    extra = ", penwidth=3" if job.id == focus else ""
    look = DOT_BLOCKED if job.blocked else f'fillcolor="{DOT_COLOURS.get(job.status, "white")}"'
    return f'{indent}j{job.id} [label="{label}", {look}{extra}];'


def _cluster(node: TreeNode, focus: int, drawn: set[int], indent: str) -> list[str]:
    """`node`'s subjobs in a cluster (theirs nested inside), then the superjob's line to it."""
    job = node.job
    inner = indent + "  "
    lines = [f"{indent}subgraph cluster_j{job.id} {{", f"{inner}{DOT_CLUSTER};"]
    lines.append(f'{inner}label="subjobs of {job.id} {_escape(job.name)}";')
    for child in node.children:
        if child.job.id not in drawn:
            drawn.add(child.job.id)
            lines.append(_node(child.job, focus, inner))
        if child.children:
            lines += _cluster(child, focus, drawn, inner)
    if node.hidden:
        more = f'label="... {node.hidden:,} more subjobs", shape=plaintext'
        lines.append(f"{inner}more_j{job.id} [{more}];")
    first = f"j{node.children[0].job.id}" if node.children else f"more_j{job.id}"
    lines.append(f"{indent}}}")
    lines.append(f"{indent}j{job.id} -> {first} [lhead=cluster_j{job.id}, {DOT_TO_CLUSTER}];")
    return lines


def _descendants(node: TreeNode) -> list[JobInfo]:
    found: list[JobInfo] = []
    for child in node.children:
        found += [child.job, *_descendants(child)]
    return found


def subjob_ids(node: TreeNode) -> Sequence[int]:
    """The ids of every subjob shown in `node`'s tree."""
    return [job.id for job in _descendants(node)]


def _escape(text: str) -> str:
    return one_line(text).replace("\\", "\\\\").replace('"', '\\"')
