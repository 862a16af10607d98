"""`job edit {config|input|description} ID`: edit in `$EDITOR`, validate, never overwrite others.

After the editor closes the core checks the YAML and the task's validation hook; on an error the
user returns to the editor, undoes everything or discards. The edit is sent with the value it
started from, so a change made meanwhile by another client is offered for refresh, never lost.
"""

from __future__ import annotations

import argparse

import cmd2

from bt import errors
from bt.jobs import EditField
from bt.status import Action, next_status
from bt.views import JobDetails
from shell import editor
from shell.commands.args import add_job_id, new_parser
from shell.commands.base import ShellCommands

edit_parser = new_parser(
    "Edit a job's config or input (YAML, STASHED jobs only) or description in $EDITOR."
)
edit_parser.add_argument(
    "field",
    choices=("config", "input", "description"),
    help="what to edit",
)
add_job_id(edit_parser)

INVALID_CHOICES = {
    "r": "Return to the editor and continue editing",
    "u": "Undo all changes and edit again",
    "d": "Discard all changes and abort",
}
CONFLICT_CHOICES = {
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
        job = self._load(job_id, field)
        head = editor.header(job, field, self._cmd.registry)
        original = getattr(job, field)
        draft = editor.shown(original, field)
        while True:
            text = editor.run_editor(
                head + draft, suffix=".txt" if field == "description" else ".yaml"
            )
            body = editor.body_of(text, head)
            if body == editor.shown(original, field):
                self._cmd.warn("No changes were made.")
                return False
            try:
                self.bt.jobs.edit(job_id, field, editor.stored(body, field), expected=original)
            except errors.ChangedMeanwhile:
                if (
                    self._ask("This job has received a concurrent modification.", CONFLICT_CHOICES)
                    == "d"
                ):
                    return self._discarded()
                job = self._load(job_id, field)
                head, original = editor.header(job, field, self._cmd.registry), getattr(job, field)
                draft = editor.shown(original, field)
                continue
            except errors.InvalidValue as exc:
                answer = self._ask(f"The {field} is not valid: {exc}", INVALID_CHOICES)
                if answer == "d":
                    return self._discarded()
                draft = body if answer == "r" else editor.shown(original, field)
                continue
            self._cmd.ok(f"The {field} of job {job_id} has been successfully modified.")
            return True

    def _load(self, job_id: int, field: EditField) -> JobDetails:
        job = self.bt.jobs.get(job_id)
        if field != "description":
            next_status(job_id, job.status, Action.EDIT)
        return job

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
