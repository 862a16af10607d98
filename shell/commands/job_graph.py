"""`job graph`: a job's parents, children, superjob and subjobs; its hierarchy; its DAG."""

from __future__ import annotations

import argparse
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import cmd2

from shell import render
from shell.commands.args import add_job_id, new_parser
from shell.commands.base import ShellCommands
from shell.core import CommandError
from shell.render_graph import dot, graph_dict, graph_tables, job_tree, subjob_ids

DOT_TIMEOUT = 60.0
CLUSTER_CHILDREN = 20  #: subjobs drawn per superjob in --dot/--svg; the rest are counted

graph_parser = new_parser(
    "Show a job's neighbourhood as the original's two tables (PARENT/CHILD JOBS, SUPER/SUB "
    "JOBS); --tree shows the whole subjob hierarchy, --dot/--svg write the dependency graph. "
    "A job behind a FAILED or blocked parent shows as QUEUED (blocked), dashed red in the graph."
)
add_job_id(graph_parser)
how = graph_parser.add_mutually_exclusive_group()
how.add_argument("--tree", "-t", action="store_true", help="the super/sub hierarchy as a tree")
how.add_argument(
    "--dot",
    metavar="FILE",
    help="write the dependency graph as DOT (- = stdout); a superjob's subjobs as a cluster",
)
how.add_argument("--svg", metavar="FILE", help="draw the dependency graph as SVG (needs dot)")
how.add_argument("--json", action="store_true", help="machine-readable output")
graph_parser.add_argument(
    "--max-children",
    type=int,
    default=20,
    metavar="N",
    help="with --tree: subjobs shown per level; the rest are counted (default 20)",
)


class JobGraphCommands(ShellCommands):
    """`job graph`."""

    @cmd2.as_subcommand_to("job", "graph", graph_parser, help="show a job's relatives")
    def job_graph(self, args: argparse.Namespace) -> None:
        if args.tree:
            root = self.bt.jobs.subtree(args.job_id, max_children=max(1, args.max_children))
            self.result(root)
            self.show(job_tree(root))
        elif args.dot or args.svg:
            self._draw(args.job_id, args.dot, args.svg)
        else:
            graph = self.bt.jobs.neighbourhood(args.job_id)
            self.result(graph)
            if args.json:
                self.text(render.as_json(graph_dict(graph)))
            else:
                self.show(graph_tables(graph))

    def _draw(self, job_id: int, dot_file: str | None, svg_file: str | None) -> None:
        dag = self.bt.jobs.dag(job_id)
        tree = self.bt.jobs.subtree(job_id, max_children=CLUSTER_CHILDREN)
        subjobs = subjob_ids(tree)
        source = dot(dag, job_id, tree, self._links_between(subjobs))
        self.result(dag)
        count = len({job.id for job in dag.jobs} | set(subjobs))
        drawn = f"{count} job" if count == 1 else f"{count} jobs"
        if dot_file == "-":
            self.text(source.rstrip("\n"))
        elif dot_file:
            _write(Path(dot_file), source)
            self._cmd.ok(f"Wrote the graph of {drawn} to {dot_file}.")
        elif svg_file:
            render_svg(source, Path(svg_file))
            self._cmd.ok(f"Drew the graph of {drawn} in {svg_file}.")

    def _links_between(self, ids: Sequence[int]) -> set[tuple[int, int]]:
        """The dependencies among these jobs (one query per connected group)."""
        wanted, seen, edges = set(ids), set[int](), set[tuple[int, int]]()
        for job_id in ids:
            if job_id in seen:
                continue
            dag = self.bt.jobs.dag(job_id)
            seen |= {job.id for job in dag.jobs}
            edges |= {(a, b) for a, b in dag.edges if a in wanted and b in wanted}
        return edges


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"Cannot write {path}: {exc.strerror}.") from exc


def render_svg(source: str, path: Path) -> None:
    """Run Graphviz's `dot` to draw `source` into `path`."""
    program = shutil.which("dot")
    if program is None:
        raise CommandError(
            "Graphviz's `dot` program is not installed (e.g. `apt-get install graphviz`); "
            "`job graph ID --dot FILE` writes the graph source instead."
        )
    try:
        done = subprocess.run(
            [program, "-Tsvg", "-o", str(path)],
            input=source,
            text=True,
            capture_output=True,
            timeout=DOT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CommandError(f"Cannot run dot: {exc}.") from exc
    if done.returncode != 0:
        raise CommandError(f"dot failed: {done.stderr.strip() or done.returncode}.")
