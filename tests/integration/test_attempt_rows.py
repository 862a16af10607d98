"""One history row per run: a claim writes no history, the end of a run writes one `job_attempt`
row (and no event, no tag), and the history shows both the run under way and the ended ones."""

from __future__ import annotations

from sqlalchemy import func, select

from bt import Brownthrower, tagnames
from bt.models import JobAttempt, JobEvent, Tag
from bt.status import Status
from bt.usage import Usage
from bt.values import Finished, RunResult
from tests.factories import claim, job, runner


def count(app: Brownthrower, model: type[object]) -> int:
    with app.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def usage(seconds: float) -> Usage:
    counts = dict.fromkeys(("minflt", "majflt", "vol_ctxt", "inv_ctxt", "inblock", "oublock"), 0)
    io = dict.fromkeys(("rchar", "wchar", "read_bytes", "write_bytes"), 0)
    return Usage(
        realtime=seconds, cpu_user=seconds, cpu_sys=0.0, peak_rss=1 << 20, **counts, **io,
        exit_code=0, host="test", batch_id=None, slots=1,
    )  # fmt: skip


def test_a_claim_writes_no_history(app: Brownthrower) -> None:
    job(app, submit=True)
    events = count(app, JobEvent)
    claim(app, runner(app))
    assert (count(app, JobEvent), count(app, JobAttempt)) == (events, 0)


def test_a_finished_run_writes_one_row_and_no_event_nor_tag(app: Brownthrower) -> None:
    job(app, submit=True)
    held = claim(app, runner(app))
    events = count(app, JobEvent)
    tags = {tagnames.EXIT_CODE: "0"}
    app.claims.settle([Finished(held, RunResult(output="1"), tags, usage=usage(0.5))])
    assert (count(app, JobEvent), count(app, JobAttempt), count(app, Tag)) == (events, 1, 0)


def test_the_run_under_way_is_in_the_history(app: Brownthrower) -> None:
    job_id = job(app, submit=True)
    who = runner(app)
    claim(app, who)
    (attempt,) = app.jobs.history(job_id)
    assert (attempt.number, attempt.runner_id, attempt.outcome, attempt.ended) == (
        1,
        who.id,
        "",
        None,
    )


def test_an_ended_run_keeps_its_figures_host_and_times(app: Brownthrower) -> None:
    job_id = job(app, submit=True)
    held = claim(app, runner(app))
    app.claims.settle([Finished(held, RunResult(output="1"), usage=usage(0.5))])
    (attempt,) = app.jobs.history(job_id)
    assert attempt.outcome == "DONE" and attempt.host == "test"
    assert attempt.usage is not None and attempt.usage.realtime == 0.5
    assert attempt.queued is not None and attempt.started is not None and attempt.ended is not None
    assert attempt.queued <= attempt.started <= attempt.ended


def test_the_events_of_a_run_follow_the_submission(app: Brownthrower) -> None:
    job_id = job(app, submit=True)
    held = claim(app, runner(app))
    app.claims.settle([Finished(held, RunResult(output="1"))])
    changes = [(e.old_status, e.new_status) for e in app.jobs.events(job_id)]
    assert changes == [
        (None, Status.QUEUED),
        (Status.QUEUED, Status.RUNNING),
        (Status.RUNNING, Status.DONE),
    ]


def test_removing_a_job_removes_its_history_rows(app: Brownthrower) -> None:
    job_id = job(app, submit=True)
    held = claim(app, runner(app))
    app.jobs.abort(job_id)
    app.claims.record_abort_exit(held, -15)
    app.jobs.remove(job_id)
    assert count(app, JobAttempt) == 0
