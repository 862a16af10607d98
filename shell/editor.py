"""Editing a job's config, input or description in the user's `$EDITOR`.

The file the user sees is a header of `#` comments (what is being edited, the task's help and its
samples), a marker line, and the stored text exactly as it is. Everything up to the marker is
dropped on save, so the user's own comments and key order below it are stored verbatim.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from bt import JobDetails, Task, TaskRegistry
from shell.core import CommandError

MARKER = "# ---- everything above this line is help and is removed when you save ----"
DEFAULT_EDITOR = "vi"


@dataclass(frozen=True)
class Draft:
    """One round in the editor: the help header, the text to start from, the stored value."""

    field: str
    head: str
    original: str | None  #: the value stored when editing began (sent as `expected`)
    text: str  #: what the editor starts with below the marker

    @classmethod
    def of(cls, job: JobDetails, field: str, registry: TaskRegistry) -> Draft:
        original = getattr(job, field)
        return cls(field, header(job, field, registry), original, shown(original, field))

    @property
    def unchanged(self) -> str:
        """The body that means "no change"."""
        return shown(self.original, self.field)

    @property
    def suffix(self) -> str:
        return ".txt" if self.field == "description" else ".yaml"

    def again(self, text: str) -> Draft:
        """The next round, starting from `text`."""
        return replace(self, text=text)

    def offering(self, lost: str, kept: Path) -> Draft:
        """This draft with `lost` (the user's refused text, also saved in `kept`) offered back
        as comments in the help header, which saving removes."""
        lines = [
            "",
            "Your previous text was NOT saved (another client changed the job meanwhile);",
            f"it is kept in {kept}:",
            *("    " + line for line in lost.splitlines()),
        ]
        head = self.head.removesuffix(MARKER + "\n") + "\n".join(comment(lines)) + "\n"
        return replace(self, head=head + MARKER + "\n")


def comment(lines: Iterable[str]) -> list[str]:
    return [f"# {line}".rstrip() for line in lines]


def header(job: JobDetails, field: str, registry: TaskRegistry) -> str:
    """The help block above the marker: what is edited, how to cancel, the task's docs."""
    lines = [
        f"brownthrower: the {field} of job {job.id} ({job.name}, {job.status.value}).",
        "Save and quit to apply it; quit without changes to cancel.",
        "",
    ]
    task = _task(registry, job.name)
    if field == "description":
        lines.append("Free text describing the job.")
    elif task is None:
        lines.append(f"NOTE: task '{job.name}' is not available in this environment.")
    else:
        lines += task.help().splitlines()
        sample = task.config_sample if field == "config" else task.input_sample
        if sample:
            lines += ["", f"Sample {field}:", *("    " + s for s in sample.rstrip().splitlines())]
    return "\n".join([*comment(lines), MARKER]) + "\n"


def _task(registry: TaskRegistry, name: str) -> type[Task] | None:
    if name not in registry:
        return None
    entry = registry.entry(name)
    return entry.task


def body_of(text: str, head: str) -> str:
    """What the user wrote: the text after the marker (or after the untouched header)."""
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.strip() == MARKER:
            return "".join(lines[index + 1 :])
    return text[len(head) :] if text.startswith(head) else text


def stored(body: str, field: str) -> str | None:
    """The value to store for a body: empty config/input is NULL, a description is text."""
    if field == "description":
        return body.rstrip("\n")
    return body if body.strip() else None


def only_comments(body: str) -> bool:
    """Whether YAML text holds nothing but comments and blank lines (an empty value)."""
    return all(not line.strip() or line.lstrip().startswith("#") for line in body.splitlines())


def shown(value: str | None, field: str) -> str:
    """The body the editor starts from for a stored value."""
    if not value:
        return ""
    return value + "\n" if field == "description" and not value.endswith("\n") else value


def keep(text: str, *, suffix: str) -> Path:
    """Save a refused edit in a private file that outlives the edit; its path."""
    handle, name = tempfile.mkstemp(prefix="bt-edit-kept-", suffix=suffix, text=True)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    return Path(name)


def run_editor(text: str, *, suffix: str, terminal: bool = True, program: str | None = None) -> str:
    """Let the user edit `text` in `program` (`set editor`), else `$EDITOR`, else vi; the saved
    text.

    The editor gets the environment of the shell unchanged, and a private temporary file.
    Without a `terminal` (a script), an editor must be chosen, as no one could use vi, and the
    editor's input is /dev/null, so it never reads the script's next lines.
    """
    editor = program or os.environ.get("EDITOR") or ("" if not terminal else DEFAULT_EDITOR)
    if not editor:
        raise CommandError(
            "$EDITOR is not set: a script can only edit with a program that needs "
            "no terminal (e.g. EDITOR='sed -i s/a/b/', or `set editor` before `job edit`)."
        )
    handle, name = tempfile.mkstemp(prefix="bt-edit-", suffix=suffix, text=True)
    path = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        _launch([*shlex.split(editor), str(path)], editor, terminal=terminal)
        return path.read_text(encoding="utf-8")
    finally:
        path.unlink(missing_ok=True)


def _launch(argv: list[str], editor: str, *, terminal: bool) -> None:
    stdin = None if terminal else subprocess.DEVNULL
    try:
        done = subprocess.run(argv, check=False, stdin=stdin)
    except OSError as exc:
        raise CommandError(
            f"Cannot start the editor {editor!r} ({exc.strerror}); set $EDITOR."
        ) from exc
    if done.returncode != 0:
        raise CommandError(
            f"The editor {editor!r} exited with status {done.returncode}; nothing was changed."
        )
