"""`job edit {config|input|description} ID`: edit in `$EDITOR`, validate, never overwrite others.

After the editor closes the core checks the YAML and the task's validation hook; on an error the
user returns to the editor, undoes everything or discards. The edit is sent with the value it
started from, so a change made meanwhile by another client is offered for refresh, never lost.
"""

from __future__ import annotations

import argparse

import cmd2

from bt import errors
from bt.values import EditField
from shell import editor
from shell.commands.args import add_job_id, new_parser
from shell.commands.base import ShellCommands
from shell.core import CommandError

edit_parser = new_parser(
    "Edit a job's config or input (YAML, STASHED jobs only) or description in $EDITOR."
)
edit_parser.add_argument(
    "field",
    choices=("config", "input", "description"),
    help="what to edit",
)
add_job_id(edit_parser)

INVALID = {
    "r": "Return to the editor and continue editing",
    "u": "Undo all changes and edit again",
    "d": "Discard all changes and abort",
}
CONFLICT = {
    "r": "Refresh the new values and edit again",
    "d": "Discard all changes and abort",
}


class JobEditCommands(ShellCommands):
    """`job edit`."""

    @cmd2.as_subcommand_to("job", "edit", edit_parser, help="edit config, input or description")
    def job_edit(self, args: argparse.Namespace) -> None:
        self.result(None)
        if self.edit(args.job_id, args.field):
            self.result([args.job_id])

    def edit(self, job_id: int, field: EditField) -> bool:
        """The edit loop; True when a change was stored."""
        draft = self._start(job_id, field)
        terminal = self._cmd.can_prompt
        while True:
            edited = editor.run_editor(
                draft.head + draft.text,
                suffix=draft.suffix,
                terminal=terminal,
                program=self._cmd.chosen_editor,
            )
            body = editor.body_of(edited, draft.head)
            if body == draft.unchanged:
                self._cmd.warn("No changes were made.")
                return False
            try:
                self.bt.jobs.edit(
                    job_id, field, editor.stored(body, field), expected=draft.original
                )
            except (errors.ChangedMeanwhile, errors.InvalidValue) as exc:
                if not terminal:  # a script never prompts: the job stays as it was
                    raise CommandError(
                        f"The {field} of job {job_id} was not changed: {exc}"
                    ) from exc
                next_draft = self._after_refusal(exc, draft, body, job_id, field)
                if next_draft is None:
                    return self._discarded()
                draft = next_draft
                continue
            self._modified(job_id, field, body)
            return True

    def _modified(self, job_id: int, field: EditField, body: str) -> None:
        if field != "description" and body.strip() and editor.only_comments(body):
            self._cmd.warn(
                f"The {field} of job {job_id} has been saved, but it is now empty: the text "
                "holds only comments (did the editor continue a comment line?)."
            )
            return
        self._cmd.ok(f"The {field} of job {job_id} has been successfully modified.")

    def _after_refusal(
        self,
        exc: errors.BrownthrowerError,
        draft: editor.Draft,
        body: str,
        job_id: int,
        field: EditField,
    ) -> editor.Draft | None:
        """Ask what to do after a refused edit: the next draft, or None to discard."""
        if isinstance(exc, errors.ChangedMeanwhile):
            kept = editor.keep(body, suffix=draft.suffix)
            if self._ask("This job has received a concurrent modification.", CONFLICT) == "d":
                self._cmd.warn(f"Your text is kept in {kept}.")
                return None
            self._cmd.warn(f"Your text is kept in {kept} and shown in the editor's help header.")
            return self._start(job_id, field).offering(body, kept)
        answer = self._ask(f"The {field} is not valid: {exc}", INVALID)
        if answer == "d":
            return None
        return draft.again(body if answer == "r" else draft.unchanged)

    def _start(self, job_id: int, field: EditField) -> editor.Draft:
        """A draft of the job's current value; the core refuses a field its status forbids."""
        return editor.Draft.of(self.bt.jobs.editable(job_id, field), field, self._cmd.registry)

    def _discarded(self) -> bool:
        self._cmd.warn("All changes have been discarded.")
        return False

    def _ask(self, problem: str, choices: dict[str, str]) -> str:
        """Ask until one of `choices` is answered; end of input means discard."""
        self._cmd.warn(problem)
        for key, meaning in choices.items():
            self._cmd.poutput(f"  {key}) {meaning}")
        keys = "/".join(choices)
        while True:
            try:
                answer = self._cmd.read_input(f"Your choice [{keys}]: ").strip().lower()
            except EOFError:
                return "d"
            if answer in choices:
                return answer
