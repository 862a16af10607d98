"""Small builders for test data, going through the public services like a user would."""

from __future__ import annotations

from bt import Brownthrower, Status
from bt.values import Claim, DeclaredJob, JobSpec, RunnerInfo, RunResult


def job(app: Brownthrower, task: str = "noop", *, submit: bool = False, **spec: object) -> int:
    """A new top-level job; its id."""
    return app.jobs.create(JobSpec(task, **spec), submit=submit).id  # type: ignore[arg-type]


def status(app: Brownthrower, job_id: int) -> Status:
    return app.jobs.info(job_id).status


def runner(app: Brownthrower, *, lease: float = 60.0) -> RunnerInfo:
    return app.runners.register(host="test", pid=1, slots=1, tasks=["*"], lease=lease)


def claim(app: Brownthrower, who: RunnerInfo, tasks: tuple[str, ...] = ("noop",)) -> Claim:
    """Claim the next runnable job; fails the test when there is none."""
    claimed = app.claims.claim(who.id, list(tasks))
    assert claimed is not None, "expected a runnable job"
    return claimed


def run_next(app: Brownthrower, who: RunnerInfo, output: str | None = "1\n") -> int:
    """Claim and finish the next runnable noop job; its id."""
    claimed = claim(app, who)
    app.claims.finish(claimed, RunResult(output=output))
    return claimed.job_id


def superjob(app: Brownthrower, who: RunnerInfo, subjobs: int = 2, *, submit: bool = True) -> int:
    """A job whose prolog declared `subjobs` noop subjobs (STAND-BY); its id."""
    parent = job(app, submit=True)
    claimed = claim(app, who)
    assert claimed.job_id == parent
    declared = [DeclaredJob(i, "noop", submit=submit) for i in range(subjobs)]
    app.claims.finish(claimed, RunResult(subjobs=declared))
    return parent


def subjob_ids(app: Brownthrower, super_id: int) -> list[int]:
    return [j.id for j in app.jobs.list([f"super_id={super_id}"]).jobs]
