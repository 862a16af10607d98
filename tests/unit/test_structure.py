"""The structure carries the rules: one writer of status and counters, one home for hot-path SQL.

These read the source (`ast`), so they fail the moment a module starts writing a status or a
counter itself, or `bt.queries` starts depending on the code that runs its statements.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

BT = Path(__file__).resolve().parents[2] / "bt"
#: columns only `bt.transitions` may write
GUARDED = {"status", "pending_parents", "sub_total", "sub_done", "sub_failed", "in_use"}
#: the statements of `bt.queries` that write guarded columns: only `bt.transitions` runs them
WRITING_STATEMENTS = {
    "transition",
    "transition_with_event",
    "with_event",
    "claim_next",
    "claim_with_events",
    "ADJUST_SUPERJOB",
    "RELEASE_CHILDREN",
    "ADD_PENDING_PARENTS",
    "claim_ids",
    "ADD_IN_USE",
    "RELEASE_LIMITS",
}
OWNER = "transitions.py"


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(BT.rglob("*.py")):
        if "migrations" not in path.parts:
            yield str(path.relative_to(BT)), ast.parse(path.read_text(), str(path))


def guarded_writes(tree: ast.Module) -> list[str]:
    """`.values(status=...)`, `{"status": ...}` rows and `job.status = ...` in a module."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _sets_columns(node.func):
            found += [k.arg for k in node.keywords if k.arg in GUARDED]
        elif isinstance(node, ast.Dict):
            found += [
                k.value for k in node.keys if isinstance(k, ast.Constant) and k.value in GUARDED
            ]
        elif isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found += [t.attr for t in targets if _is_row_attribute(t)]
    return found


def _sets_columns(func: ast.expr) -> bool:
    """`.values(...)` of an INSERT/UPDATE, or an ORM row built as `Job(...)`."""
    return getattr(func, "attr", "") == "values" or getattr(func, "id", "") == "Job"


def _is_row_attribute(target: ast.expr) -> bool:
    """`job.status = ...` on a row, not `self.status = ...` in a class of its own."""
    if not isinstance(target, ast.Attribute) or target.attr not in GUARDED:
        return False
    return getattr(target.value, "id", "") != "self"


def imports(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize(
    ("name", "tree"), [m for m in modules() if m[0] not in (OWNER, "queries.py", "values.py")]
)
def test_only_transitions_writes_a_status_or_a_counter(name: str, tree: ast.Module) -> None:
    assert guarded_writes(tree) == [], f"bt/{name} writes {guarded_writes(tree)}"


def test_the_scan_sees_a_status_write() -> None:
    planted = "update(JOB).values(status=new)\njob.pending_parents += 1\nJob(sub_done=1)\n"
    assert sorted(guarded_writes(ast.parse(planted))) == ["pending_parents", "status", "sub_done"]


@pytest.mark.parametrize(
    ("name", "tree"),
    [m for m in modules() if m[0] != OWNER],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_only_transitions_runs_the_statements_that_write_status(
    name: str, tree: ast.Module
) -> None:
    used = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and getattr(node.value, "id", "") == "queries"
    }
    used |= {n.split(".")[-1] for n in imports(tree) if n.startswith("bt.queries.")}
    assert not used & WRITING_STATEMENTS, f"bt/{name} runs {sorted(used & WRITING_STATEMENTS)}"


def test_queries_imports_only_the_models_and_the_status_table() -> None:
    tree = dict(modules())["queries.py"]
    ours = {n.split(".")[1] for n in imports(tree) if n.startswith("bt.")}
    assert ours <= {"models", "status", "sqltypes"}, ours
