"""The claim pacer: back off while no work is found, claim again at once once some is."""

from __future__ import annotations

from bt.runner.pacing import FIRST_BACKOFF, ClaimPacer


def waits(pacer: ClaimPacer, looks: int, now: float = 100.0) -> list[float]:
    """The wait after each of `looks` looks at `now` that find nothing."""
    result = []
    for _ in range(looks):
        pacer.after_claim(found=False, now=now)
        result.append(round(pacer.next_claim - now, 6))
    return result


def test_a_new_pacer_is_due_at_once() -> None:
    assert ClaimPacer(poll=1.0).due(0.0)


def test_finding_nothing_doubles_the_wait_up_to_the_poll_interval() -> None:
    assert waits(ClaimPacer(poll=0.3), 5) == [FIRST_BACKOFF, 0.1, 0.2, 0.3, 0.3]


def test_finding_nothing_makes_the_pacer_idle_and_not_due_until_the_wait_is_over() -> None:
    pacer = ClaimPacer(poll=1.0)
    pacer.after_claim(found=False, now=10.0)
    assert pacer.idle
    assert not pacer.due(10.0)
    assert pacer.due(10.0 + FIRST_BACKOFF)


def test_finding_work_resets_the_backoff_and_ends_idleness() -> None:
    pacer = ClaimPacer(poll=1.0)
    waits(pacer, 4)
    pacer.after_claim(found=True, now=200.0)
    assert not pacer.idle
    assert waits(pacer, 1) == [FIRST_BACKOFF]


def test_waking_makes_the_next_look_due_at_once_but_keeps_the_backoff() -> None:
    pacer = ClaimPacer(poll=1.0)
    waits(pacer, 3)
    pacer.wake()
    assert pacer.due(0.0)
    assert waits(pacer, 1) == [0.4]


def test_jitter_shifts_each_wait_by_up_to_its_share() -> None:
    low = ClaimPacer(poll=16.0, jitter=0.25, uniform=lambda a, _b: a)
    high = ClaimPacer(poll=16.0, jitter=0.25, uniform=lambda _a, b: b)
    assert waits(low, 10)[-1] == 12.0
    assert waits(high, 10)[-1] == 20.0


def test_a_due_retry_brings_the_next_look_forward_but_never_back() -> None:
    pacer = ClaimPacer(poll=15.0)
    waits(pacer, 10)
    pacer.retry_due_in(2.0, now=100.0)
    assert pacer.next_claim == 102.0
    pacer.retry_due_in(60.0, now=100.0)
    assert pacer.next_claim == 102.0
