"""`job graph --dot` of a superjob: its subjobs in a cluster, with the links among them."""

from __future__ import annotations

from bt import Brownthrower
from bt.values import DeclaredJob, RunResult
from tests.factories import claim, job, runner, subjob_ids
from tests.shell.conftest import Driver


def superjob_with_chain(app: Brownthrower) -> int:
    """A STAND-BY superjob whose two subjobs are linked: sub 0 -> sub 1."""
    parent = job(app, submit=True)
    held = claim(app, runner(app))
    subs = [DeclaredJob(0, "noop"), DeclaredJob(1, "noop")]
    app.claims.finish(held, RunResult(subjobs=subs, links=[(0, 1)]))
    return parent


def test_dot_of_a_superjob_draws_its_subjobs_in_a_cluster(run: Driver, app: Brownthrower) -> None:
    parent = superjob_with_chain(app)
    source = run(f"job graph {parent} --dot -").out
    cluster = source.split(f"subgraph cluster_j{parent} {{")[1].split("}")[0]
    assert all(f"j{sub} [label=" in cluster for sub in subjob_ids(app, parent))


def test_dot_of_a_superjob_draws_the_links_among_its_subjobs(
    run: Driver, app: Brownthrower
) -> None:
    parent = superjob_with_chain(app)
    first, second = subjob_ids(app, parent)
    assert f"j{first} -> j{second};" in run(f"job graph {parent} --dot -").out


def test_dot_joins_the_superjob_to_its_cluster(run: Driver, app: Brownthrower) -> None:
    parent = superjob_with_chain(app)
    first = subjob_ids(app, parent)[0]
    assert (
        f"j{parent} -> j{first} [lhead=cluster_j{parent}" in run(f"job graph {parent} --dot -").out
    )


def test_dot_of_a_job_without_subjobs_has_no_cluster(run: Driver, app: Brownthrower) -> None:
    assert "cluster" not in run(f"job graph {job(app)} --dot -").out.replace("compound", "")
