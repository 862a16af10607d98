"""Graph changes in one scope are serialised, so concurrent links can never close a cycle."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from bt import Brownthrower, errors
from bt.db import Database
from tests.factories import job

ROUNDS = 40


def at_once(*calls: Callable[[], None]) -> list[BaseException | None]:
    """Run `calls` in threads released together by a barrier; each one's error, or None."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[BaseException | None] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            calls[index]()
        except errors.BrownthrowerError as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.slow
def test_two_links_at_once_never_close_a_cycle(app: Brownthrower, db_url: str) -> None:
    other = Brownthrower(Database(db_url), app.registry)
    try:
        for _ in range(ROUNDS):
            a, b, c, d = (job(app) for _ in range(4))
            app.jobs.link(a, b)
            app.jobs.link(c, d)
            outcomes = at_once(
                lambda b=b, c=c: app.jobs.link(b, c), lambda d=d, a=a: other.jobs.link(d, a)
            )
            assert any(isinstance(o, errors.DependencyError) for o in outcomes), "a cycle"
    finally:
        other.close()
