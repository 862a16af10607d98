"""What a dispatcher knows of each pilot, and what a pilot's end says of the target."""

from __future__ import annotations

import pytest

from bt.dispatch.backend import Pilot
from bt.dispatch.watch import TRIAL, Ending, PilotWatch, Tracked, banner, verdict

T0 = 1_000_000.0


@pytest.mark.parametrize(
    ("state", "facts", "expected"),
    [
        ("FAILED", "looping", "failure"),  # crashed before claiming anything
        ("FAILED", "registered", "failure"),  # registered, then crashed
        ("OUT_OF_MEMORY", "looping", "failure"),
        ("NODE_FAIL", "looping", "failure"),
        ("BOOT_FAIL", "looping", "failure"),
        ("FAILED", "registered claimed looping", "success"),  # it claimed: the command works
        ("COMPLETED", "registered claimed", "success"),
        ("COMPLETED", "registered", "neutral"),  # drained with nothing to do
        ("COMPLETED", "", "neutral"),  # drained before a pass saw it registered
        ("COMPLETED", "registered looping", "neutral"),  # left after --idle-exit
        ("COMPLETED", "looping", "failure"),  # a looping pilot that left at once
        ("FAILED", "cancelled looping", "neutral"),  # cancelled by this dispatcher
        ("CANCELLED", "looping", "neutral"),  # by someone else
        ("TIMEOUT", "registered looping", "neutral"),  # an idle pilot reached its walltime
        ("PREEMPTED", "registered looping", "neutral"),
    ],
)
def test_the_verdict_on_a_pilots_end(state: str, facts: str, expected: str) -> None:
    tracked = Tracked(
        "7",
        submitted=T0,
        runners={1} if "registered" in facts else set(),
        claimed="claimed" in facts,
        cancelled="cancelled" in facts,
    )
    ending = Ending(tracked, Pilot("7", state))
    assert verdict(ending, looping="looping" in facts) == expected


def test_a_vanished_pilot_says_nothing() -> None:
    assert verdict(Ending(Tracked("7", submitted=T0), None), looping=True) == "neutral"


def test_the_banner_names_the_runners_pid_and_host() -> None:
    line = "brownthrower pilot 1234 pid 5678 on node-3.example.org at 2024-01-01T10:00:00+00:00\n"
    assert banner(line) == ("node-3.example.org", 5678)
    assert banner("brownthrower pilot local pid 42 on box at now") == ("box", 42)
    assert banner("") is None
    assert banner("brownthrower pilot: neither BT_DATABASE_URL nor BT_CONFIG reached") is None


def test_a_pilot_ending_between_two_passes_is_still_judged() -> None:
    watch = PilotWatch()
    watch.submitted("7", T0)
    (ending,) = watch.observe([Pilot("7", "FAILED", "exit code 1", 0.2)], T0 + 5)
    assert ending.pilot is not None and verdict(ending, looping=True) == "failure"


def test_pilots_of_a_previous_run_are_adopted_but_never_on_trial() -> None:
    watch = PilotWatch()
    assert watch.observe([Pilot("7", "RUNNING"), Pilot("8", "COMPLETED")], T0) == []
    assert list(watch.pilots) == ["7"]
    assert not watch.pilots["7"].on_trial(T0)


def test_a_pilot_is_on_trial_until_it_claims_or_has_run_a_while() -> None:
    watch = PilotWatch()
    watch.submitted("7", T0)
    watch.observe([Pilot("7", "PENDING")], T0 + 100)
    assert watch.pilots["7"].on_trial(T0 + 100)  # queued, however long
    watch.observe([Pilot("7", "RUNNING")], T0 + 200)
    assert watch.pilots["7"].on_trial(T0 + 200 + TRIAL - 1)
    assert not watch.pilots["7"].on_trial(T0 + 200 + TRIAL)
    watch.pilots["7"].claimed = True
    assert not watch.pilots["7"].on_trial(T0 + 201)


def test_pilots_are_counted_by_what_they_do() -> None:
    watch = PilotWatch()
    for batch_id in "abcdef":
        watch.submitted(batch_id, T0)
    listed = [Pilot("a", "PENDING")] + [Pilot(b, "RUNNING") for b in "bcdef"]
    watch.observe(listed, T0)
    pilots = watch.pilots
    pilots["c"].runners, pilots["c"].registered = {1}, True
    pilots["d"].runners, pilots["d"].registered = {2}, True
    pilots["d"].busy = pilots["d"].claimed = True
    pilots["e"].runners = {3}  # its runner went away; the batch system still lists it
    pilots["f"].cancelled = True
    counts = watch.count(T0 + 1)
    assert counts == {"pending": 1, "starting": 1, "idle": 1, "busy": 1, "on_trial": 4}
