from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bt import Brownthrower
from bt.values import DeclaredJob, RunResult
from tests.factories import claim, job, run_next, runner
from tests.shell.conftest import Driver

HEADER = ["kind", "id", "super_id", "name", "status", "created", "queued", "started", "ended"]


@pytest.fixture
def family(app: Brownthrower) -> dict[str, list[int]]:
    """Two DONE parents -> job (a superjob with three subjobs) -> one QUEUED child."""
    who = runner(app)
    parents = [job(app, "noop", submit=True), job(app, "noop", submit=True)]
    middle, child = job(app, "noop"), job(app, "noop")
    for parent in parents:
        app.jobs.link(parent, middle)
    app.jobs.link(middle, child)
    app.jobs.submit(middle)
    app.jobs.submit(child)
    run_next(app, who)
    run_next(app, who)
    held = claim(app, who)
    assert held.job_id == middle
    app.claims.finish(held, RunResult(subjobs=[DeclaredJob(i, "noop") for i in range(3)]))
    subs = [j.id for j in app.jobs.list([f"super_id={middle}"]).jobs]
    return {"parents": parents, "job": [middle], "child": [child], "subs": subs}


def rows(out: str) -> list[list[str]]:
    return [line.split()[:2] for line in out.splitlines()]


def test_graph_prints_the_two_tables_of_the_original(run: Driver, family) -> None:
    (middle,) = family["job"]
    lines = run(f"job graph {middle}").out.splitlines()
    first, second = lines.index("PARENT/CHILD JOBS:"), lines.index("SUPER/SUB JOBS:")
    assert lines[first + 1].split() == HEADER and lines[second + 1].split() == HEADER
    links = [line.split()[:2] for line in lines[first + 2 : second - 1]]
    family_rows = [line.split()[:3] for line in lines[second + 2 :]]
    p1, p2 = family["parents"]
    assert links == [
        ["PARENT", str(p1)],
        ["PARENT", str(p2)],
        ["#####", str(middle)],
        ["CHILD", str(family["child"][0])],
    ]
    assert family_rows == [["#####", str(middle), "noop"]] + [
        ["SUB", str(sub), str(middle)] for sub in family["subs"]
    ]
    assert lines[second - 1] == ""


def test_graph_of_a_subjob_shows_its_superjob_first(run: Driver, family) -> None:
    sub = family["subs"][0]
    lines = run(f"job graph {sub}").out.splitlines()
    second = lines.index("SUPER/SUB JOBS:")
    assert lines[second + 2].split()[:2] == ["SUPER", str(family["job"][0])]
    assert lines[second + 3].split()[:3] == ["#####", str(sub), str(family["job"][0])]


def test_graph_columns_are_two_spaces_apart(run: Driver, family) -> None:
    lines = run(f"job graph {family['job'][0]}").out.splitlines()
    assert lines[1].startswith("kind    id  super_id  name")


def test_graph_returns_the_neighbourhood(run: Driver, family) -> None:
    graph = run(f"job graph {family['job'][0]}").data
    assert [j.id for j in graph.subjobs] == family["subs"]


def test_graph_json(run: Driver, family) -> None:
    data = json.loads(run(f"job graph {family['job'][0]} --json").out)
    assert [p["id"] for p in data["parents"]] == family["parents"]


def test_tree_shows_the_hierarchy_with_counts(run: Driver, family) -> None:
    result = run(f"job graph {family['job'][0]} --tree")
    assert "[3 subjobs: QUEUED 3]" in result.out
    assert len(result.data.children) == 3


def test_tree_counts_what_it_does_not_show(run: Driver, family) -> None:
    result = run(f"job graph {family['job'][0]} --tree --max-children 1")
    assert "... 2 more subjobs" in result.out


def test_dot_has_the_dependency_edges(run: Driver, family) -> None:
    out = run(f"job graph {family['job'][0]} --dot -").out
    p1, _ = family["parents"]
    assert out.startswith("digraph") and f"j{p1} -> j{family['job'][0]};" in out


def test_dot_to_a_file(run: Driver, family, tmp_path: Path) -> None:
    run(f"job graph {family['job'][0]} --dot {tmp_path}/g.dot")
    assert "digraph" in (tmp_path / "g.dot").read_text()


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz not installed")
def test_svg_is_drawn_by_graphviz(run: Driver, family, tmp_path: Path) -> None:
    run(f"job graph {family['job'][0]} --svg {tmp_path}/g.svg")
    assert "<svg" in (tmp_path / "g.svg").read_text()


def test_svg_without_graphviz_says_so(run: Driver, family, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run(f"job graph {family['job'][0]} --svg {tmp_path}/g.svg")
    assert result.failed and "`dot` program is not installed" in result.err
