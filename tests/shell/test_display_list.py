"""`job list --sort` and `--columns`, the elapsed and host columns; `job top`'s order."""

from __future__ import annotations

import datetime as dt

from bt import Brownthrower
from bt.models import JOB
from shell import live
from tests.factories import job, run_next, runner
from tests.shell.conftest import Driver

T0 = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)


def timed(app: Brownthrower, started: int, ended: int | None) -> int:
    """A job that started and (unless None) ended so many minutes after T0."""
    job_id = job(app)
    times = {"started": T0 + dt.timedelta(minutes=started)}
    if ended is not None:
        times["ended"] = T0 + dt.timedelta(minutes=ended)
    store_times(app, job_id, **times)
    return job_id


def store_times(app: Brownthrower, job_id: int, **times: dt.datetime) -> None:
    """Set a job's `started`/`ended` directly."""
    values = {f"ts_{name}": at for name, at in times.items()}
    app.db.write(lambda s: s.execute(JOB.update().where(JOB.c.id == job_id).values(**values)))


def test_sort_orders_the_jobs_by_a_column(run: Driver, app: Brownthrower) -> None:
    ids = [timed(app, 0, 30), timed(app, 0, 10), timed(app, 0, 20)]
    assert [j.id for j in run("job list --sort ended").data] == [ids[1], ids[2], ids[0]]


def test_sort_with_r_reverses_and_keeps_empty_values_last(run: Driver, app: Brownthrower) -> None:
    ids = [timed(app, 0, 30), job(app), timed(app, 0, 10)]
    assert [j.id for j in run("job list --sort ended -r").data] == [ids[0], ids[2], ids[1]]


def test_sort_by_elapsed(run: Driver, app: Brownthrower) -> None:
    ids = [timed(app, 0, 30), timed(app, 25, 30)]
    assert [j.id for j in run("job list --sort elapsed").data] == ids[::-1]


def test_columns_chooses_and_orders_the_columns(run: Driver, app: Brownthrower) -> None:
    job_id = timed(app, 0, 90)
    header, row = run("job list --columns name,id,elapsed").out.splitlines()
    assert header.split() == ["name", "id", "elapsed"] and row.split() == [
        "noop",
        str(job_id),
        "1h",
        "30m",
    ]


def test_an_unknown_column_is_one_error_naming_the_columns(run: Driver, app: Brownthrower) -> None:
    result = run("job list --columns id,colour")
    assert result.failed and "colour" in result.err and "elapsed" in result.err


def test_the_host_column_shows_where_the_job_ran(run: Driver, app: Brownthrower) -> None:
    job(app, submit=True)
    job_id = run_next(app, runner(app))
    header, row = run("job list --columns id,host").out.splitlines()
    assert header.split() == ["id", "host"] and row.split() == [str(job_id), "test"]


def test_elapsed_of_a_job_still_running_counts_to_now(run: Driver, app: Brownthrower) -> None:
    timed(app, 0, None)
    row = run("job list --columns elapsed").out.splitlines()[1]
    assert row.split()[0].endswith("d")  # T0 is days ago


def test_job_top_lists_finished_jobs_latest_ended_first(run: Driver, app: Brownthrower) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ids = [job(app) for _ in range(3)]
    for job_id, ago in zip(ids, (1, 3, 2), strict=True):
        ended = now - dt.timedelta(minutes=ago)
        store_times(app, job_id, started=now - dt.timedelta(minutes=5), ended=ended)
    lines = run("job top --once").out.split("RECENTLY FINISHED:")[1].splitlines()[2:]
    assert [line.split()[0] for line in lines] == [str(ids[0]), str(ids[2]), str(ids[1])]


def test_job_top_shows_elapsed(run: Driver, app: Brownthrower) -> None:
    now = dt.datetime.now(dt.UTC)
    store_times(app, job(app), started=now - dt.timedelta(minutes=12), ended=now)
    out = run("job top --once").out
    assert "elapsed" in out.split("RECENTLY FINISHED:")[1] and "12m" in out


def test_arrow_keys_do_not_quit_a_live_view() -> None:
    assert not any(live.is_quit(keys) for keys in ("\x1b[A", "\x1b[B", "\x1bOD", "\x1b[5~"))


def test_q_and_escape_alone_quit_a_live_view() -> None:
    assert all(live.is_quit(keys) for keys in ("q", "Q", "\x1b"))
