"""On-demand sizing, a pure function: the table of cases."""

from __future__ import annotations

import pytest

from bt.dispatch.sizing import Caps, Demand, Sizing, describe, size

CAPS = Caps(max_pilots=10, max_pending=None, max_submit=20, jobs_per_pilot=1)

CASES = [
    # (id, demand, caps, expected)
    ("no work, no pilots: none", Demand(0, 0), CAPS, Sizing(0)),
    ("runnable only", Demand(3, 0), CAPS, Sizing(3, submit=3)),
    ("soon runnable counts like runnable", Demand(0, 4), CAPS, Sizing(4, submit=4)),
    ("both add up", Demand(2, 3), CAPS, Sizing(5, submit=5)),
    ("idle runners take work first", Demand(5, 0, idle=2, live=2), CAPS, Sizing(3, submit=3)),
    ("pending pilots are on their way", Demand(5, 0, pending=4, live=4), CAPS, Sizing(1, submit=1)),
    ("starting pilots too", Demand(5, 0, starting=2, live=2), CAPS, Sizing(3, submit=3)),
    (
        "busy runners do not take the waiting work",
        Demand(3, 0, live=6),
        CAPS,
        Sizing(3, submit=3),
    ),
    ("jobs per pilot, rounded up", Demand(5, 0), Caps(jobs_per_pilot=2), Sizing(3, submit=3)),
    ("jobs per pilot over both", Demand(3, 4), Caps(jobs_per_pilot=4), Sizing(2, submit=2)),
    (
        "max pilots counts live ones",
        Demand(20, 0, live=8),
        CAPS,
        Sizing(20, submit=2, capped_by="--max-pilots"),
    ),
    ("at max pilots: none", Demand(20, 0, live=10), CAPS, Sizing(20, capped_by="--max-pilots")),
    (
        "max submit per pass",
        Demand(50, 0),
        Caps(max_pilots=100, max_submit=20),
        Sizing(50, submit=20, capped_by="--max-submit"),
    ),
    (
        "max pending counts queued ones",
        Demand(10, 0, pending=3, live=3),
        Caps(max_pending=5),
        Sizing(7, submit=2, capped_by="--max-pending"),
    ),
    (
        "at max pending: none",
        Demand(10, 0, pending=5, live=5),
        Caps(max_pending=5),
        Sizing(5, capped_by="--max-pending"),
    ),
    (
        "the tightest bound wins",
        Demand(50, 0, pending=1, live=6),
        Caps(max_pilots=10, max_pending=4, max_submit=2),
        Sizing(49, submit=2, capped_by="--max-submit"),
    ),
    ("surplus cancels queued pilots", Demand(1, 0, pending=3, live=3), CAPS, Sizing(-2, cancel=2)),
    (
        "surplus never cancels more than the queued ones",
        Demand(0, 0, idle=2, pending=1, live=3),
        CAPS,
        Sizing(-3, cancel=1),
    ),
    (
        "no work: every queued pilot goes, running ones stay",
        Demand(0, 0, pending=2, live=5),
        CAPS,
        Sizing(-2, cancel=2),
    ),
    (
        "over max pilots (lowered): queued ones go",
        Demand(30, 0, pending=4, live=12),
        CAPS,
        Sizing(26, cancel=2),
    ),
    (
        "soon runnable not counted for draining pilots",
        Demand(1, 6),
        Caps(lookahead=False),
        Sizing(1, submit=1),
    ),
    ("draining, only soon-runnable work: none", Demand(0, 6), Caps(lookahead=False), Sizing(0)),
]


@pytest.mark.parametrize(
    ("demand", "caps", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_sizing(demand: Demand, caps: Caps, expected: Sizing) -> None:
    assert size(demand, caps) == expected


def test_blocked_work_never_asks_for_pilots() -> None:
    """BLOCKED jobs are neither runnable nor soon runnable: the database query leaves them out
    (`test_demand`), so the demand holds none of them and nothing is wanted."""
    assert size(Demand(0, 0), CAPS).submit == 0


def test_the_demand_in_words() -> None:
    demand = Demand(3, 50, idle=0, pending=2, starting=1, live=3)
    line = describe(demand, size(demand, Caps(max_pilots=100, max_submit=10)))
    assert line == (
        "runnable 3, soon runnable 50, idle 0, pending 2 (+1 starting) → wanted 50, "
        "submit 10 (--max-submit)"
    )


def test_the_demand_in_words_says_when_soon_runnable_work_is_not_counted() -> None:
    demand = Demand(0, 4)
    line = describe(demand, size(demand, Caps(lookahead=False)), lookahead=False)
    assert "soon runnable 4 (not counted: draining pilots)" in line
    assert line.endswith("→ wanted 0")
