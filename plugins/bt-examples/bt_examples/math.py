"""Arithmetic examples: the original brownthrower's random, add2 and sum4."""

from __future__ import annotations

import random
from typing import Any

from bt import Task, TaskContext


def _numbers(value: Any, count: int, what: str) -> list[float]:
    if not isinstance(value, list) or len(value) != count:
        raise ValueError(f"{what} must be a list of {count} numbers, got {value!r}")
    if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in value):
        raise ValueError(f"{what} must contain only numbers, got {value!r}")
    return value


class Random(Task):
    """Return a random number in [0, 1).

    Takes no input. Config (optional): `seed`, to make the number reproducible.
    """

    config_sample = "# seed: 42    # optional, for a reproducible number\n"

    def run(self, ctx: TaskContext) -> float:
        """A number from a generator seeded by config `seed` (random when absent)."""
        seed = (ctx.config or {}).get("seed")
        return random.Random(seed).random()


class Add2(Task):
    """Add two numbers.

    Input: a list of two numbers, e.g. [12, 30] -> 42. With an empty input, adds the outputs of
    its parents (which must be two numbers).
    """

    input_sample = "# two numbers to add; leave empty to add the outputs of two parents\n[12, 30]\n"

    def validate(self, config: Any, input: Any) -> None:
        """Refuse an input that is not two numbers (an empty input is checked at run time)."""
        if input is not None:
            _numbers(input, 2, "input")

    def run(self, ctx: TaskContext) -> float:
        """The sum of the input, or of the two parents' outputs."""
        values = ctx.input if ctx.input is not None else ctx.parent_outputs
        a, b = _numbers(values, 2, "input (or parents' outputs)")
        return a + b


class Sum4(Task):
    """Add four numbers by splitting the work into three add2 subjobs.

    Input: a list of four numbers, e.g. [5, 10, 12, 15] -> 42. The prolog creates two add2
    subjobs for the halves and a third that adds their results; the epilog returns its output.
    """

    input_sample = "# four numbers to add\n[5, 10, 12, 15]\n"

    def validate(self, config: Any, input: Any) -> None:
        """Refuse an input that is not four numbers."""
        if input is not None:
            _numbers(input, 4, "input")

    def prolog(self, ctx: TaskContext) -> None:
        """Declare add2 subjobs for each half and a third one, linked after both, for the total."""
        values = _numbers(ctx.input, 4, "input")
        first = ctx.subjob("add2", input=values[:2])
        second = ctx.subjob("add2", input=values[2:])
        total = ctx.subjob("add2")
        ctx.link(first, total)
        ctx.link(second, total)

    def epilog(self, ctx: TaskContext) -> float:
        """The output of the last subjob: the total."""
        last = max(ctx.subjobs, key=lambda sub: sub.id)
        return float(last.output)
