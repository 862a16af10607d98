"""Named concurrency limits in the core: what a claim takes (all or nothing, never past the
capacity), every way out of RUNNING giving it back exactly once, refusals that keep a typo from
meaning "unlimited", and LIMITED in filters, counts and listings. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import text

from bt import Brownthrower, Status, errors
from bt.claims import requeue_lost
from bt.values import Claim, DeclaredJob, Finished, JobSpec, NodeSpec, RunnerInfo, RunResult
from tests.factories import job, runner, status


def limited(app: Brownthrower, limits: dict[str, int], *, task: str = "noop") -> int:
    """A new QUEUED job holding `limits`; its id."""
    return job(app, task, submit=True, limits=limits)


def in_use(app: Brownthrower) -> dict[str, int]:
    return {limit.name: limit.in_use for limit in app.limits.list()}


def claim_all(app: Brownthrower, who: RunnerInfo, count: int = 10) -> list[Claim]:
    return app.claims.claim_many(who.id, ["noop"], count)


def test_a_job_naming_an_unknown_limit_is_refused_at_create(app: Brownthrower) -> None:
    with pytest.raises(errors.LimitNotFound, match=r"Limit 'catlog_db' does not exist"):
        limited(app, {"catlog_db": 1})
    app.limits.set("catalog_db", 4)
    with pytest.raises(errors.LimitNotFound, match=r"\(limits: catalog_db\)"):
        limited(app, {"catalog_db": 1, "catlog_db": 1})
    assert app.jobs.counts()["QUEUED"] == 0  # nothing was written


def test_a_tasks_limits_are_its_jobs_default_and_a_jobs_own_replace_them(
    app: Brownthrower,
) -> None:
    with pytest.raises(errors.LimitNotFound, match="bt_test_turnstile"):
        job(app, "limited_turnstile")
    app.limits.set("bt_test_turnstile", 1)
    app.limits.set("other", 1)
    assert app.jobs.get(job(app, "limited_turnstile")).limits == {"bt_test_turnstile": 1}
    own = job(app, "limited_turnstile", limits={"other": 1})
    assert app.jobs.get(own).limits == {"other": 1}
    assert app.jobs.get(job(app, "limited_turnstile", limits={})).limits == {}


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"bad name": 1}, "A limit name"),
        ({"ok": 0}, "from 1 to"),
        ({"ok": True}, "from 1 to"),
        ({"a:b": 1}, "A limit name"),
    ],
)
def test_bad_names_and_units_are_refused(
    app: Brownthrower, limits: dict[str, int], message: str
) -> None:
    with pytest.raises(errors.InvalidValue, match=message):
        limited(app, limits)


def test_a_declared_subjob_naming_an_unknown_limit_fails_the_declaring_job(
    app: Brownthrower,
) -> None:
    from bt.claims import DECLARED_REASON

    parent = job(app, submit=True)
    who = runner(app)
    (claim,) = claim_all(app, who)
    declared = DeclaredJob(0, "limited_turnstile")  # its task's limit does not exist
    assert app.claims.finish(claim, RunResult(subjobs=[declared])) is Status.FAILED
    assert {t.name: t.value for t in app.tags.list(parent)}["bt_reason"] == DECLARED_REASON


def test_a_limit_is_not_removed_while_a_job_not_done_needs_it(app: Brownthrower) -> None:
    app.limits.set("db", 1)
    stashed = job(app, limits={"db": 1})
    needed = rf"needed by 1 job\(s\) not DONE \({stashed}\)"
    with pytest.raises(errors.InvalidOperation, match=needed):
        app.limits.remove("db")
    app.jobs.submit(stashed)
    who = runner(app)
    (claim,) = claim_all(app, who)
    with pytest.raises(errors.InvalidOperation, match="needed by 1 job"):
        app.limits.remove("db")  # RUNNING
    app.claims.finish(claim, RunResult(output="1"))
    app.limits.remove("db")  # only a DONE job names it now
    assert app.limits.list() == []
    with pytest.raises(errors.LimitNotFound):
        app.limits.remove("db")
    with pytest.raises(errors.LimitNotFound):
        app.jobs.clone(stashed)  # its copy would need it again


def test_a_claim_never_takes_more_than_the_capacity(app: Brownthrower) -> None:
    app.limits.set("db", 2)
    jobs = [limited(app, {"db": 1}) for _ in range(5)]
    free = job(app, submit=True)
    who = runner(app)
    claimed = claim_all(app, who)
    assert [c.job_id for c in claimed] == [*jobs[:2], free]  # limited first, then the others
    assert in_use(app) == {"db": 2}
    assert claim_all(app, who) == []
    counts = app.jobs.counts()
    assert (counts["LIMITED"], counts["RUNNABLE"], counts["QUEUED"]) == (3, 0, 3)
    app.claims.finish(claimed[0], RunResult(output="1"))
    assert in_use(app) == {"db": 1}
    assert [c.job_id for c in claim_all(app, who)] == [jobs[2]]
    assert in_use(app) == {"db": 2} and app.jobs.check() == []


def test_units_count_against_the_capacity(app: Brownthrower) -> None:
    app.limits.set("nfs", 5)
    big = [limited(app, {"nfs": 3}) for _ in range(2)]
    small = limited(app, {"nfs": 2})
    who = runner(app)
    claimed = claim_all(app, who)
    assert [c.job_id for c in claimed] == [big[0], small]  # 3 + 2: the second big one waits
    assert in_use(app) == {"nfs": 5}
    assert [j.id for j in app.jobs.list(["status=LIMITED"]).jobs] == [big[1]]


def test_a_job_needing_two_limits_takes_both_or_neither(app: Brownthrower) -> None:
    app.limits.set("a", 1)
    app.limits.set("b", 1)
    holder = limited(app, {"a": 1})
    both = limited(app, {"a": 1, "b": 1})
    who = runner(app)
    (claim,) = claim_all(app, who)
    assert claim.job_id == holder
    assert in_use(app) == {"a": 1, "b": 0}  # b was not taken for a job that could not run
    assert status(app, both) is Status.QUEUED and app.jobs.get(both).limited
    app.claims.finish(claim, RunResult(output="1"))
    assert [c.job_id for c in claim_all(app, who)] == [both]
    assert in_use(app) == {"a": 1, "b": 1}


def test_a_missing_limit_never_means_unlimited(app: Brownthrower) -> None:
    app.limits.set("db", 1)
    queued = limited(app, {"db": 1})
    app.db.write(lambda s: s.execute(text("DELETE FROM concurrency_limit")))  # behind our back
    assert claim_all(app, runner(app)) == []
    assert app.jobs.counts()["LIMITED"] == 1 and status(app, queued) is Status.QUEUED


def test_lowering_the_capacity_lets_running_jobs_finish_and_starts_none_until_it_fits(
    app: Brownthrower,
) -> None:
    app.limits.set("db", 3)
    for _ in range(5):
        limited(app, {"db": 1})
    who = runner(app)
    first = claim_all(app, who)
    assert len(first) == 3
    assert app.limits.set("db", 1).in_use == 3
    app.claims.finish(first[0], RunResult(output="1"))
    assert claim_all(app, who) == []  # 2 in use, capacity 1
    app.claims.finish(first[1], RunResult(output="1"))
    assert claim_all(app, who) == []  # 1 in use: full
    app.claims.finish(first[2], RunResult(output="1"))
    assert len(claim_all(app, who)) == 1 and in_use(app) == {"db": 1}
    app.limits.set("db", 0)
    assert app.jobs.counts()["LIMITED"] == 1


def test_raising_the_capacity_admits_waiting_jobs(app: Brownthrower) -> None:
    app.limits.set("db", 1)
    for _ in range(3):
        limited(app, {"db": 1})
    who = runner(app)
    assert len(claim_all(app, who)) == 1
    app.limits.set("db", 3)
    assert len(claim_all(app, who)) == 2 and in_use(app) == {"db": 3}


#: every way a claimed job leaves RUNNING, by name (`recovered`: its runner's lease expired)
EXITS: dict[str, Callable[[Brownthrower, Claim, RunnerInfo], object]] = {
    "finish": lambda app, c, who: app.claims.finish(c, RunResult(output="1")),
    "fail": lambda app, c, who: app.claims.fail(c, "boom", "trace"),
    "requeue": lambda app, c, who: app.claims.requeue(c),
    "abort": lambda app, c, who: app.jobs.abort(c.job_id),
    "fenced": lambda app, c, who: app.db.write(lambda s: requeue_lost(s, c)),
    "recovered": lambda app, c, who: app.runners.recover_lost(),
}


@pytest.mark.parametrize("exit", sorted(EXITS))
def test_every_way_out_of_running_gives_the_units_back_once(app: Brownthrower, exit: str) -> None:
    app.limits.set("db", 1)
    app.limits.set("nfs", 4)
    first = limited(app, {"db": 1, "nfs": 3})
    who = runner(app, lease=-1 if exit == "recovered" else 60)
    (claim,) = claim_all(app, who)
    assert claim.job_id == first and in_use(app) == {"db": 1, "nfs": 3}
    EXITS[exit](app, claim, who)
    assert in_use(app) == {"db": 0, "nfs": 0}
    assert app.jobs.check() == []
    with pytest.raises(errors.TokenMismatch):  # the old claim writes nothing: no second release
        app.claims.finish(claim, RunResult(output="late"))
    assert in_use(app) == {"db": 0, "nfs": 0}


def test_a_retry_gives_the_units_back_and_takes_them_again(app: Brownthrower) -> None:
    app.limits.set("db", 1)
    retried = limited(app, {"db": 1})
    policy = f"UPDATE job SET retries = 1, retry_delay = 0 WHERE id = {retried}"
    app.db.write(lambda s: s.execute(text(policy)))
    who = runner(app)
    (claim,) = claim_all(app, who)
    assert app.claims.fail(claim, "boom", "trace") is Status.QUEUED
    assert in_use(app) == {"db": 0}
    (again,) = claim_all(app, who)
    assert again.job_id == retried and in_use(app) == {"db": 1}


def test_a_superjob_holds_its_limits_in_its_prolog_and_epilog_not_while_subjobs_run(
    app: Brownthrower,
) -> None:
    app.limits.set("db", 1)
    parent = limited(app, {"db": 1})
    who = runner(app)
    (prolog,) = claim_all(app, who)
    app.claims.finish(prolog, RunResult(subjobs=[DeclaredJob(0, "noop")]))
    assert status(app, parent) is Status.STAND_BY and in_use(app) == {"db": 0}
    (sub,) = claim_all(app, who)
    app.claims.finish(sub, RunResult(output="1"))
    (epilog,) = claim_all(app, who)
    assert epilog.job_id == parent and epilog.epilog and in_use(app) == {"db": 1}
    app.claims.finish(epilog, RunResult(output="2"))
    assert in_use(app) == {"db": 0} and app.jobs.check() == []


def test_a_recovered_claim_is_never_released_twice(app: Brownthrower) -> None:
    """The solid_queue trap: a runner declared lost comes back and records its job's end after
    another runner took the job again. Its write is fenced by the claim token."""
    app.limits.set("db", 1)
    held = limited(app, {"db": 1})
    waiting = limited(app, {"db": 1})
    lost, other = runner(app, lease=-1), runner(app)
    (stale,) = claim_all(app, lost)
    assert app.runners.recover_lost() == [(held, Status.QUEUED)]
    (fresh,) = claim_all(app, other)
    assert fresh.job_id == held and in_use(app) == {"db": 1}
    with pytest.raises(errors.TokenMismatch):
        app.claims.finish(stale, RunResult(output="late"))
    with pytest.raises(errors.TokenMismatch):
        app.claims.fail(stale, "late", "trace")
    settled = app.claims.settle([Finished(stale, RunResult(output="x"))])
    assert settled.statuses == [None]
    assert in_use(app) == {"db": 1} and claim_all(app, other) == []  # waiting still waits
    assert status(app, waiting) is Status.QUEUED
    app.claims.finish(fresh, RunResult(output="1"))
    assert in_use(app) == {"db": 0} and app.jobs.check() == []


def test_a_job_claimed_by_id_takes_its_limits_or_is_refused(app: Brownthrower) -> None:
    app.limits.set("db", 1)
    first, second = limited(app, {"db": 1}), limited(app, {"db": 1})
    who = runner(app)
    claim = app.claims.claim_job(first, who.id)
    assert in_use(app) == {"db": 1}
    with pytest.raises(errors.InvalidOperation, match=r"limit 'db' \(1 of 1 units in use\)"):
        app.claims.claim_job(second, who.id)
    assert status(app, second) is Status.QUEUED
    app.claims.finish(claim, RunResult(output="1"))
    app.claims.claim_job(second, who.id)
    assert in_use(app) == {"db": 1}


def test_limited_jobs_show_in_filters_listings_and_details(app: Brownthrower) -> None:
    app.limits.set("db", 1)
    running, waits = limited(app, {"db": 1}), limited(app, {"db": 1})
    free = job(app, submit=True)
    stashed = job(app, limits={"db": 1})
    claim_all(app, runner(app), count=1)
    assert [j.id for j in app.jobs.list(["status=LIMITED"]).jobs] == [waits]
    assert [j.id for j in app.jobs.list(["status=LIMITED", "name=noop"]).jobs] == [waits]
    assert [j.id for j in app.jobs.list(["status!=LIMITED", "status=QUEUED"]).jobs] == [free]
    assert [j.id for j in app.jobs.list(["status=RUNNABLE"]).jobs] == [free]
    shown = {j.id: j.shown_status for j in app.jobs.list().jobs}
    assert shown == {running: "RUNNING", waits: "QUEUED (limited)", free: "QUEUED",
                     stashed: "STASHED"}  # fmt: skip
    assert app.jobs.info(waits).limited and not app.jobs.info(free).limited
    details = app.jobs.get(waits)
    assert details.limited and details.as_dict()["limits"] == {"db": 1}
    assert app.limits.get("db").as_dict() == {
        "name": "db", "capacity": 1, "in_use": 1, "running": 1, "waiting": 1,
    }  # fmt: skip
    assert app.jobs.counts(["noop"])["LIMITED"] == 1


def test_claimable_counts_what_runners_could_take_under_their_limits(
    app: Brownthrower,
) -> None:
    app.limits.set("db", 2)
    app.limits.set("full", 0)
    for _ in range(5):
        limited(app, {"db": 1})
    limited(app, {"full": 1})
    for _ in range(3):
        job(app, submit=True)
    job(app, "echo", submit=True)
    assert app.limits.claimable(["noop"]) == 3 + 2
    assert app.limits.claimable() == 4 + 2
    claim_all(app, runner(app), count=1)  # one db unit taken
    assert app.limits.claimable(["noop"]) == 3 + 1


def test_a_deployment_without_limits_skips_the_limited_part_of_the_claim(
    app: Brownthrower,
) -> None:
    from bt.services import ClaimService

    service = ClaimService(app.db)
    with app.db.read() as session:
        assert service._limited(session) is False
    app.limits.set("db", 1)
    with app.db.read() as session:
        assert service._limited(session) is False  # trusted for LIMITS_RECHECK seconds
    service._recheck_at = 0.0
    with app.db.read() as session:
        assert service._limited(session) is True


def test_concurrent_claimers_never_exceed_a_capacity(app: Brownthrower) -> None:
    """Eight threads claim (and finish) against a capacity of 3 until 60 jobs are done; the
    units in use, read under the same locks, never pass it, and end at zero."""
    app.limits.set("db", 3)
    app.jobs.create_graph([NodeSpec(i, JobSpec("noop", limits={"db": 1}), True) for i in range(60)])
    peak, errors_seen, lock = [0], [], threading.Lock()
    runners = [runner(app) for _ in range(8)]

    def work(who: RunnerInfo) -> None:
        try:
            while app.jobs.counts()["QUEUED"]:
                for claim in app.claims.claim_many(who.id, ["noop"], 2):
                    with app.db.read() as session:
                        running = session.scalar(
                            text("SELECT count(*) FROM job WHERE status = 'RUNNING'")
                        )
                    with lock:
                        peak[0] = max(peak[0], running)
                    app.claims.finish(claim, RunResult(output="1"))
        except Exception as exc:  # noqa: BLE001
            errors_seen.append(exc)

    threads = [threading.Thread(target=work, args=(who,)) for who in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors_seen == []
    assert app.jobs.counts()["DONE"] == 60
    assert 1 <= peak[0] <= 3
    assert in_use(app) == {"db": 0} and app.jobs.check() == []


def test_the_limit_service_sets_gets_lists_and_removes(app: Brownthrower) -> None:
    assert app.limits.list() == []
    assert app.limits.set("nfs", 10).as_dict() == {
        "name": "nfs", "capacity": 10, "in_use": 0, "running": 0, "waiting": 0,
    }  # fmt: skip
    app.limits.set("db", 4)
    assert [limit.name for limit in app.limits.list()] == ["db", "nfs"]
    assert app.limits.set("db", 0).capacity == 0 == app.limits.get("db").capacity
    for bad in (-1, True, 10**10):
        with pytest.raises(errors.InvalidValue, match="capacity"):
            app.limits.set("db", bad)
    with pytest.raises(errors.InvalidValue, match="A limit name"):
        app.limits.set("", 1)
    with pytest.raises(errors.LimitNotFound, match=r"\(limits: db, nfs\)"):
        app.limits.get("dbb")
    app.limits.remove("db")
    assert [limit.name for limit in app.limits.list()] == ["nfs"]
