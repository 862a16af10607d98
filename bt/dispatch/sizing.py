"""How many pilots an on-demand dispatcher submits or cancels in one pass: a pure function.

Demand counts the work the pilots' task filter could claim now (RUNNABLE) and the work that opens
when jobs now RUNNING finish (SOON RUNNABLE: QUEUED jobs whose only unfinished parents are
RUNNING), in pilots (`jobs_per_pilot` jobs each). Supply already on its way is taken off: idle
live runners of this dispatcher's pilots, and pilots still queued in the batch system (or
started, their runner not registered yet). BLOCKED work is never counted. What is left is
bounded by `max_pilots` (live pilots in all), `max_pending` (queued pilots) and `max_submit`
(submissions per pass); a surplus cancels queued pilots only, never a running one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Demand:
    """What one pass sees: the work, and the pilots already there for it."""

    runnable: int  #: jobs the pilots could claim now
    soon_runnable: int  #: jobs whose only unfinished parents are RUNNING
    idle: int = 0  #: registered runners of this dispatcher's pilots that hold no job
    pending: int = 0  #: pilots queued in the batch system
    starting: int = 0  #: pilots started whose runner has not registered yet
    live: int = 0  #: every live pilot (queued, starting, idle or busy)


@dataclass(frozen=True)
class Caps:
    """The bounds of an on-demand dispatcher."""

    max_pilots: int = 10  #: live pilots at most
    max_pending: int | None = None  #: queued pilots at most; None: only `max_pilots` bounds them
    max_submit: int = 20  #: submissions per pass
    jobs_per_pilot: int = 1
    #: whether soon-runnable work counts: only pilots that wait for work (`--idle-exit`) can
    #: take it; a draining pilot started before it opens would exit at once
    lookahead: bool = True


@dataclass(frozen=True)
class Sizing:
    """The decision: `wanted` is signed (below zero: more pilots on their way than work)."""

    wanted: int  #: pilots the work asks for beyond the idle, queued and starting ones
    submit: int = 0  #: pilots to submit now (`wanted` within the caps)
    cancel: int = 0  #: queued pilots to cancel
    capped_by: str = ""  #: the option that cut `submit` below `wanted`, if any


def size(demand: Demand, caps: Caps) -> Sizing:
    """Pilots to submit or cancel now for `demand` within `caps`."""
    work = demand.runnable + (demand.soon_runnable if caps.lookahead else 0)
    need = math.ceil(work / max(1, caps.jobs_per_pilot))
    wanted = need - demand.idle - demand.pending - demand.starting
    over_max = demand.live - caps.max_pilots
    if wanted < 0 or over_max > 0:
        cancel = min(demand.pending, max(-wanted, over_max))
        return Sizing(wanted, cancel=max(0, cancel))
    bounds = [("--max-pilots", caps.max_pilots - demand.live), ("--max-submit", caps.max_submit)]
    if caps.max_pending is not None:
        bounds.append(("--max-pending", caps.max_pending - demand.pending))
    submit, capped_by = wanted, ""
    for option, bound in bounds:
        if bound < submit:
            submit, capped_by = max(0, bound), option
    return Sizing(wanted, submit=submit, capped_by=capped_by)


def describe(demand: Demand, sizing: Sizing, *, lookahead: bool = True) -> str:
    """One line: `runnable 3, soon runnable 50, idle 0, pending 2 → wanted 51, submit 10
    (--max-submit)`."""
    soon = f"soon runnable {demand.soon_runnable}"
    if not lookahead and demand.soon_runnable:
        soon += " (not counted: draining pilots)"
    pending = f"pending {demand.pending}"
    if demand.starting:
        pending += f" (+{demand.starting} starting)"
    line = (
        f"runnable {demand.runnable}, {soon}, idle {demand.idle}, {pending} "
        f"→ wanted {sizing.wanted}"
    )
    if sizing.submit:
        line += f", submit {sizing.submit}"
    if sizing.capped_by:
        line += f" ({sizing.capped_by})"
    if sizing.cancel:
        line += f", cancel {sizing.cancel}"
    return line


@dataclass(frozen=True)
class Work:
    """The jobs of the eligible tasks a pass counted in the database."""

    runnable: int
    soon_runnable: int = 0
