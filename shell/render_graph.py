"""Pure rendering of job graphs: the original's two tables, a rich tree, Graphviz DOT."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from rich.tree import Tree

from bt.status import Status
from bt.values import Dag, JobInfo, Neighbourhood, TreeNode
from shell.render import JOB_COLUMNS, job_cells, plain_table, status_text, title

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
    label = Text.assemble(f"{job.id} ", (job.name, "bold"), " ", status_text(job.shown_status))
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


def dot(dag: Dag, focus: int) -> str:
    """The dependency graph around job `focus` in Graphviz DOT, statuses as fill colours;
    BLOCKED jobs, and the links that block them, dashed in red."""
    lines = [
        "digraph brownthrower {",
        "  rankdir=TB;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica"];',
    ]
    for job in dag.jobs:
        label = f"{job.id}\\n{_escape(job.name)}\\n{job.shown_status}"
        extra = ", penwidth=3" if job.id == focus else ""
        look = DOT_BLOCKED if job.blocked else f'fillcolor="{DOT_COLOURS.get(job.status, "white")}"'
        lines.append(f'  j{job.id} [label="{label}", {look}{extra}];')
    blocking = {job.id for job in dag.jobs if job.status is Status.FAILED or job.blocked}
    blocked = {job.id for job in dag.jobs if job.blocked}
    for parent, child in dag.edges:
        style = DOT_BLOCKING_EDGE if parent in blocking and child in blocked else ""
        lines.append(f"  j{parent} -> j{child}{style};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
