"""Lost-runner recovery as a cluster chore: one runner per interval does it, not every runner;
and the heartbeat's rhythm: every quarter lease while jobs run, every half lease while idle,
never while the main loop is stuck."""

from __future__ import annotations

import os
import time

from bt import Brownthrower
from bt.runner.health import Health
from bt.runner.heartbeat import Heartbeat, Lease
from bt.runner.mailbox import Mailbox
from bt.values import JobSpec


def _register(app: Brownthrower) -> int:
    return app.runners.register(host="h", pid=os.getpid(), slots=1, tasks=["noop"], lease=30).id


def test_one_runner_of_several_takes_the_recovery_chore_per_interval(app: Brownthrower) -> None:
    first, second = _register(app), _register(app)
    beats = [app.runners.beat(r, 30, chore_every=60) for r in (first, second, first)]
    assert [beat.recover for beat in beats] == [True, False, False]


def test_the_recovery_chore_is_due_again_after_its_interval(app: Brownthrower) -> None:
    first, second = _register(app), _register(app)
    app.runners.beat(first, 30, chore_every=0.2)
    time.sleep(0.3)
    assert app.runners.beat(second, 30, chore_every=0.2).recover


class _Server:
    """Where the lease goes: the fork server's end of it, recorded."""

    def __init__(self) -> None:
        self.renewals: list[float] = []

    def renew(self, until: float) -> None:
        self.renewals.append(until)


def _heartbeat(app: Brownthrower, *, busy: bool, progressing: bool = True) -> Heartbeat:
    lease = Lease(30, _Server())  # type: ignore[arg-type]
    return Heartbeat(
        app.runners, _register(app), lease, Mailbox(), health=Health(), rejoin=None,
        sweeper=lambda: 0, busy=lambda: busy, progressing=lambda: progressing,
    )  # fmt: skip


def test_an_idle_runner_renews_every_half_lease_and_a_busy_one_every_quarter(
    app: Brownthrower,
) -> None:
    idle, busy = _heartbeat(app, busy=False), _heartbeat(app, busy=True)
    for heartbeat in (idle, busy):
        assert heartbeat.beat()
    assert 14.5 < idle._until_due() <= 15
    assert 7 < busy._until_due() <= 7.5


def test_a_stuck_main_loop_gets_no_renewal(app: Brownthrower) -> None:
    heartbeat = _heartbeat(app, busy=True, progressing=False)
    assert not heartbeat.beat()
    assert heartbeat.lease.server.renewals == []  # type: ignore[attr-defined]


def test_a_look_for_work_can_renew_the_lease_in_the_same_transaction(app: Brownthrower) -> None:
    runner = _register(app)
    job_id = app.jobs.create(JobSpec("noop"), submit=True).id
    claims, beat = app.claims.claim_renewing(runner, ["noop"], 2, lease=30, chore_every=60)
    assert [c.job_id for c in claims] == [job_id] and beat.recover
    assert app.runners.list()[0].expires_at > app.runners.list()[0].heartbeat_at


def test_only_an_idle_runner_with_an_aging_lease_renews_with_its_looks(
    app: Brownthrower,
) -> None:
    idle, busy = _heartbeat(app, busy=False), _heartbeat(app, busy=True)
    assert idle.may_ride_a_look() and not busy.may_ride_a_look()
    idle.beat()
    assert not idle.may_ride_a_look()  # renewed just now
