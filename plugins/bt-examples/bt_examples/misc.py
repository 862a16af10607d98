"""Plumbing examples: pipe, sleep and fail."""

from __future__ import annotations

import time
from typing import Any

from bt import Task, TaskContext


class Pipe(Task):
    """Return the input unchanged (or, with no input, the list of the parents' outputs)."""

    input_sample = "# anything; it becomes the output\nhello: world\n"

    def run(self, ctx: TaskContext) -> Any:
        """The input, or the list of the parents' outputs when there is none."""
        return ctx.input if ctx.input is not None else ctx.parent_outputs


class Sleep(Task):
    """Sleep for `input` seconds, printing a line every second; the output is the time slept.

    Input: a number of seconds, e.g. 5.
    """

    input_sample = "# seconds to sleep\n5\n"

    def validate(self, config: Any, input: Any) -> None:
        """Refuse an input that is not a non-negative number."""
        if input is not None and (not isinstance(input, int | float) or input < 0):
            raise ValueError(f"input must be a non-negative number of seconds, got {input!r}")

    def run(self, ctx: TaskContext) -> float:
        """Sleep, printing the time left every second; the seconds slept."""
        seconds = float(ctx.input or 0)
        start = time.monotonic()
        while (left := seconds - (time.monotonic() - start)) > 0:
            print(f"sleeping, {left:.0f} s left", flush=True)
            time.sleep(min(1.0, left))
        return round(time.monotonic() - start, 3)


class Fail(Task):
    """Fail on purpose, raising RuntimeError with the input as its message.

    Useful to see how brownthrower keeps a failed job's traceback (`job tags ID`).
    """

    input_sample = "# the error message\nthis job fails on purpose\n"

    def run(self, ctx: TaskContext) -> None:
        """Log an error, then raise RuntimeError with the input as its message."""
        ctx.logger.error("about to fail")
        raise RuntimeError(str(ctx.input or "this job fails on purpose"))
