"""TAB completion from the database and the task registry: cheap (a LIMIT) and failing soft.

`Completers` is mixed into the shell, so argparse arguments name these methods as their
`choices_provider`/`completer`. A database error during completion becomes a `CompletionError`
(one line under the prompt), never a traceback. Job ids come with a table of their status and
task, and `bind_tab` keeps TAB from typing the shared start of several ids (an id nobody chose).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

import cmd2
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent, merge_key_bindings

from bt import errors
from bt.status import QUEUED_PARTS, Status
from bt.values import EDIT_FIELDS

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession

    from bt import Brownthrower, TaskRegistry

ID_CHOICES = 40  #: job ids offered at once, newest first
ID_COLUMNS = ("status", "task")  #: the table printed above the prompt beside offered ids
#: what `job list status=` takes: every status, and the parts of QUEUED
FILTER_STATUSES = (*(s.value for s in Status), *QUEUED_PARTS)
T = TypeVar("T")


def _soft(read: Callable[[], T]) -> T:
    try:
        return read()
    except errors.BrownthrowerError as exc:
        raise cmd2.CompletionError(f"cannot complete: {exc}") from exc


def _typed(arg_tokens: Mapping[str, Sequence[str]], dest: str) -> str:
    """The text being completed for `dest`.

    cmd2 4.3 appends it to the very list of values already consumed for `dest`, which then
    filters out a choice equal to the typed text (TAB after a complete id offers nothing); it is
    taken back out here.
    """
    values = arg_tokens.get(dest) or [""]
    typed = values[-1]
    if isinstance(values, list) and len(values) > 0:
        values.pop()
    return typed


class Completers:
    """Completion sources shared by every command set (mixed into `Shell`)."""

    if TYPE_CHECKING:

        @property
        def registry(self) -> TaskRegistry: ...

        @property
        def client(self) -> Brownthrower: ...

    def _job_id_items(self, prefix: str) -> cmd2.Choices:
        if prefix and not prefix.isdigit():
            return cmd2.Choices(items=[])
        jobs = _soft(lambda: self.client.jobs.suggest_ids(prefix, limit=ID_CHOICES))
        items = [
            cmd2.CompletionItem(
                job.id,
                display_meta=f"{job.shown_status} {job.name}",
                table_data=(job.shown_status, job.name),
            )
            for job in jobs
        ]
        return cmd2.Choices(items=items, is_sorted=True)

    def job_id_choices(self, arg_tokens: Mapping[str, Sequence[str]]) -> cmd2.Choices:
        """Job ids matching what is typed, newest first, with status and name beside them."""
        dest = next((d for d in ("child", "parent", "ids", "job_id") if d in arg_tokens), "")
        return self._job_id_items(_typed(arg_tokens, dest) if dest else "")

    def task_choices(self) -> cmd2.Choices:
        """Installed task names with their summaries (broken plugins marked)."""
        entries = _soft(self.registry.entries)
        items = [
            cmd2.CompletionItem(
                entry.name,
                display_meta=entry.task.summary() if entry.task else "(cannot be loaded)",
            )
            for entry in entries
        ]
        return cmd2.Choices(items=items)

    def status_choices(self) -> cmd2.Choices:
        """Every status."""
        return cmd2.Choices.from_values([s.value for s in Status])

    def edit_field_choices(self) -> cmd2.Choices:
        """What `job edit` can change."""
        return cmd2.Choices.from_values(EDIT_FIELDS)

    def filter_completer(self, text: str, line: str, begidx: int, endidx: int) -> cmd2.Completions:
        """`job list` terms: field names, then statuses (the parts of QUEUED too) after
        `status=`, tasks after `name=`."""
        from bt.filters import FIELDS  # SQLAlchemy and the models: on first use, not at start

        for op in ("!=", "="):
            field, sep, value = text.partition(op)
            if sep and field in ("status", "name"):
                values = FILTER_STATUSES if field == "status" else _soft(self.registry.names)
                matches = [f"{field}{op}{v}" for v in values if v.startswith(value)]
                return cmd2.Completions.from_values(matches)
        fields = [f"{name}=" for name in FIELDS if name.startswith(text)]
        return cmd2.Completions(
            items=[cmd2.CompletionItem(f) for f in fields], allow_finalization=False
        )


def several_ids(completions: Sequence[Completion]) -> bool:
    """Whether TAB offers more than one job id (or other number)."""
    return len(completions) > 1 and all(c.text.isdigit() for c in completions)


class PrimedCompleter(Completer):
    """cmd2's completer, whose answer to a TAB can be computed first (`prime`), so the key
    binding sees the candidates before prompt_toolkit asks for them."""

    def __init__(self, inner: Completer) -> None:
        self.inner = inner
        self._primed: tuple[str, int, list[Completion]] | None = None

    def prime(self, document: Document) -> list[Completion]:
        """The completions at `document`'s cursor; the next request for them gets these."""
        event = CompleteEvent(completion_requested=True)
        found = list(self.inner.get_completions(document, event))
        self._primed = (document.text, document.cursor_position, found)
        return found

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        primed, self._primed = self._primed, None
        if primed is not None and primed[:2] == (document.text, document.cursor_position):
            return primed[2]
        return self.inner.get_completions(document, complete_event)


def bind_tab(session: PromptSession[str]) -> None:
    """TAB as prompt_toolkit has it (type what the candidates share, then a menu), except that
    the shared start of several job ids is never typed: for ids 100-139 it is `1`, a complete
    id the user did not choose, which Enter would then act on. The ids are offered instead."""
    if session.completer is None:
        return
    completer = PrimedCompleter(session.completer)
    session.completer = completer
    bindings = KeyBindings()

    @bindings.add("tab")
    def _tab(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        if buffer.complete_state:
            buffer.complete_next()
            return
        found = completer.prime(buffer.document)
        buffer.start_completion(insert_common_part=not several_ids(found))

    session.key_bindings = merge_key_bindings([session.key_bindings or KeyBindings(), bindings])
