"""The task plugin API: what a task author writes, and what the runner hands to task code.

A task is a subclass of `Task` registered under the entry-point group `brownthrower.task`. Its
docstring is its help (first line: the summary). The runner creates one instance per job run and
calls, in a child process:

- ``prolog(ctx)`` first. If it declares subjobs (`ctx.subjob`), the job goes to STAND-BY and
  ``run`` is skipped; once every subjob is DONE the job is queued again and ``epilog(ctx)`` runs,
  with the subjobs' outputs in `ctx.subjobs`. Its return value is the job's output.
- ``run(ctx)`` otherwise. Its return value is the job's output (it must be representable in YAML).

Raising any exception fails the job, keeping the traceback. Task code never sees the database:
everything it needs is in the context, and everything it declares is written by the runner.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, TypedDict, Unpack

from bt import tagnames
from bt.values import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RETRIES,
    DEFAULT_RETRY_BACKOFF,
    DEFAULT_RETRY_DELAY,
)


class Task:
    """A piece of Python code that turns YAML config and input into YAML output."""

    #: the entry-point name; set by the registry when the plugin is loaded
    name: ClassVar[str] = ""
    #: commented YAML offered when a user edits a new job's config / input
    config_sample: ClassVar[str | None] = None
    input_sample: ClassVar[str | None] = None
    #: runs of one submission before a job whose runner was lost is given up (FAILED)
    max_attempts: ClassVar[int] = DEFAULT_MAX_ATTEMPTS
    #: automatic re-runs after the code raised, the job process crashed or the time limit hit
    retries: ClassVar[int] = DEFAULT_RETRIES
    #: seconds before the first retry; each next one waits `retry_backoff` times longer (≤ 1 h)
    retry_delay: ClassVar[float] = DEFAULT_RETRY_DELAY
    retry_backoff: ClassVar[float] = DEFAULT_RETRY_BACKOFF
    #: seconds a run (and separately a prolog or an epilog) may take; None: no limit
    time_limit: ClassVar[float | None] = None
    #: units of named concurrency limits each job holds while it runs, e.g. {"catalog_db": 1}:
    #: at most a limit's capacity of units are held at once across all runners (`limit set`)
    limits: ClassVar[Mapping[str, int]] = MappingProxyType({})

    def validate(self, config: Any, input: Any) -> None:
        """Raise ValueError (with a message for the user) if config or input is unacceptable."""

    def prolog(self, ctx: TaskContext) -> None:
        """Optionally decompose the job: declare subjobs with `ctx.subjob` and link them."""

    def run(self, ctx: TaskContext) -> Any:
        """Do the work; the return value is the job's output."""
        raise NotImplementedError(f"task {self.name!r} does not implement run()")

    def epilog(self, ctx: TaskContext) -> Any:
        """Combine the subjobs' outputs (`ctx.subjobs`) into the job's output."""
        return None

    @classmethod
    def summary(cls) -> str:
        """The first line of the docstring."""
        doc = (cls.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""

    @classmethod
    def help(cls) -> str:
        """The whole docstring, dedented."""
        import inspect

        return inspect.cleandoc(cls.__doc__ or "")


@dataclass(frozen=True)
class JobOutput:
    """Another job's identity and output, as task code sees it."""

    id: int
    name: str
    output: Any


@dataclass(frozen=True)
class NewJob:
    """A job declared by task code; becomes real when the runner records the run's result."""

    key: int
    task: str
    config: Any = None
    input: Any = None
    submit: bool = True
    description: str = ""


@dataclass
class Declarations:
    """Subjobs, children and links task code declared during one phase."""

    subjobs: list[NewJob] = field(default_factory=list)
    children: list[NewJob] = field(default_factory=list)
    links: list[tuple[int, int]] = field(default_factory=list)

    def next_key(self) -> int:
        """The key the next declared job gets (keys are local to one phase)."""
        return len(self.subjobs) + len(self.children)


TagSink = Callable[[str, str], None]


class JobOptions(TypedDict, total=False):
    """What task code may set on a job it declares."""

    config: Any
    input: Any
    submit: bool
    description: str


@dataclass
class TaskContext:
    """Everything task code gets: its data, a logger, and ways to tag and declare jobs."""

    job_id: int
    task: str
    config: Any
    input: Any
    parents: Sequence[JobOutput] = ()
    subjobs: Sequence[JobOutput] = ()
    work_dir: Path = field(default_factory=Path.cwd)
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("bt.task"))
    tag_sink: TagSink | None = None
    declared: Declarations = field(default_factory=Declarations)

    @property
    def parent_outputs(self) -> list[Any]:
        """The parents' outputs, ordered by parent id."""
        return [parent.output for parent in self.parents]

    def tag(self, name: str, value: str) -> None:
        """Attach (or replace) a tag on this job, visible in `job tags` while the job runs."""
        if name.startswith(tagnames.PREFIX):
            raise ValueError(f"tag names starting with {tagnames.PREFIX!r} are reserved: {name!r}")
        if self.tag_sink is None:
            raise RuntimeError("this context cannot store tags")
        self.tag_sink(name, str(value))

    def subjob(self, task: str, **options: Unpack[JobOptions]) -> NewJob:
        """Declare a subjob (prolog only); the job then waits in STAND-BY for its subjobs.

        Options: `config` and `input` (plain data), `submit` (default True), `description`.
        """
        return self._declare(self.declared.subjobs, task, options)

    def child(self, task: str, **options: Unpack[JobOptions]) -> NewJob:
        """Declare a follow-up job that runs after this one is DONE (a sibling it is linked to).

        Options as for `subjob`.
        """
        return self._declare(self.declared.children, task, options)

    def _declare(self, into: list[NewJob], task: str, options: JobOptions) -> NewJob:
        job = NewJob(self.declared.next_key(), task, **options)
        into.append(job)
        return job

    def link(self, parent: NewJob, child: NewJob) -> None:
        """Make declared job `child` wait for declared job `parent` (both subjobs or children)."""
        if (parent in self.declared.subjobs) != (child in self.declared.subjobs):
            raise ValueError("only two subjobs, or two children, can be linked")
        self.declared.links.append((parent.key, child.key))
