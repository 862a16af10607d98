"""Running one job's phases in the job process: prolog / run / epilog exactly as `bt.task` says.

The result is a plain message for the runner: the output and declarations already as YAML text,
or the failure's reason and traceback. Task code's own exceptions become failures; an output (or a
declared job's config/input) that YAML cannot represent fails the job with a message saying so.
"""

from __future__ import annotations

import io
import traceback
from typing import TYPE_CHECKING, Any

from bt import errors, yamlio
from bt.runner.protocol import RESULT, JobOrder, Message
from bt.task import Declarations, NewJob, Task, TaskContext

if TYPE_CHECKING:
    import cProfile

PROFILE_LINES = 40  #: functions listed in the `bt_profile` summary


class Terminated(BaseException):
    """The job process got SIGTERM (abort, pre-emption): unwind task code, report, exit."""


class PhaseError(errors.BrownthrowerError):
    """Task code broke a rule of the task API (e.g. declared subjobs outside its prolog)."""


def execute(task: Task, ctx: TaskContext, order: JobOrder) -> Message:
    """Run the phase the job is at; the result message (success or failure)."""
    profiler = _profiler() if order.profile else None
    try:
        if profiler is not None:
            profiler.enable()
        try:
            output = run_phases(task, ctx, epilog=order.epilog)
        finally:
            if profiler is not None:
                profiler.disable()
        message = success(output, ctx.declared)
    except Terminated:
        raise
    except BaseException as exc:  # noqa: BLE001 - anything task code raises fails the job
        if order.pdb:
            post_mortem(exc)
        message = failure(exc)
    if profiler is not None and order.profile:
        message["profile"] = profile_summary(profiler, order.profile)
    return message


def _profiler() -> cProfile.Profile:
    import cProfile

    return cProfile.Profile()


def run_phases(task: Task, ctx: TaskContext, *, epilog: bool) -> Any:
    """The job's output (None when the prolog declared subjobs: the job waits in STAND-BY)."""
    if epilog:
        output = task.epilog(ctx)
        if ctx.declared.subjobs:
            raise PhaseError("An epilog cannot declare subjobs; only the prolog can.")
        return output
    task.prolog(ctx)
    declared = len(ctx.declared.subjobs)
    if declared:
        return None
    output = task.run(ctx)
    if ctx.declared.subjobs:
        raise PhaseError("Subjobs can only be declared in the prolog, not in run().")
    return output


def success(output: Any, declared: Declarations) -> Message:
    """The result of a successful phase, with everything already in YAML text."""
    text = yamlio.dump(output)
    yamlio.check_size(text, yamlio.MAX_YAML_BYTES, "output")
    return {
        "k": RESULT,
        "ok": True,
        "output": text,
        "subjobs": [_declared(job) for job in declared.subjobs],
        "children": [_declared(job) for job in declared.children],
        "links": [list(link) for link in declared.links],
    }


def _declared(job: NewJob) -> Message:
    what = f"{job.task} job #{job.key}"
    return {
        "key": job.key,
        "task": job.task,
        "config": yamlio.dump(job.config, what=f"config of the declared {what}"),
        "input": yamlio.dump(job.input, what=f"input of the declared {what}"),
        "submit": job.submit,
        "description": job.description,
    }


def failure(exc: BaseException) -> Message:
    """The result of a failed phase: a one-line reason and the traceback."""
    if isinstance(exc, errors.BrownthrowerError):
        text = str(exc)
        trace = "".join(traceback.format_exception(exc))
    else:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        trace = "".join(traceback.format_exception(exc))
    reason = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return {"k": RESULT, "ok": False, "reason": reason[:500], "traceback": trace}


def post_mortem(exc: BaseException) -> None:
    """Post-mortem debugging on the terminal (--pdb)."""
    import pdb

    traceback.print_exception(exc)
    pdb.post_mortem(exc.__traceback__)


def profile_summary(profiler: cProfile.Profile, path: str) -> str:
    """Dump the stats to `path` and return the top functions by cumulative time."""
    import pstats

    profiler.dump_stats(path)
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.strip_dirs().sort_stats(pstats.SortKey.CUMULATIVE).print_stats(PROFILE_LINES)
    return f"stats: {path}\n{stream.getvalue().strip()}\n"
