"""What every command set shares: typed access to the shell and per-job outcome reporting."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import cmd2
from rich.console import RenderableType

from bt import errors
from shell.core import Shell

if TYPE_CHECKING:
    from bt import Brownthrower


class ShellCommands(cmd2.CommandSet[Shell]):
    """Base of brownthrower's command sets."""

    @property
    def bt(self) -> Brownthrower:
        """The core library (opened on first use)."""
        return self._cmd.client

    def show(self, renderable: RenderableType) -> None:
        self._cmd.show(renderable)

    def text(self, value: str) -> None:
        """Raw text (JSON, YAML, captured output) exactly as it is."""
        self._cmd.poutput(value, soft_wrap=True)

    def result(self, value: Any) -> None:
        """What the command returns to scripts and tests (`last_result`)."""
        self._cmd.last_result = value

    def for_each(self, ids: Iterable[int], action: Callable[[int], str]) -> list[int]:
        """Run `action` on every id, printing one line per outcome; the ids that succeeded.

        A lost database stops the batch at once rather than printing one error per id.
        """
        succeeded: list[int] = []
        for job_id in ids:
            try:
                message = action(job_id)
            except errors.DatabaseUnavailable:
                raise
            except errors.BrownthrowerError as exc:
                self._cmd.fail(str(exc))
                continue
            self._cmd.ok(message)
            succeeded.append(job_id)
        self.result(succeeded)
        return succeeded
