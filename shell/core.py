"""`Shell`: the cmd2 application behind the `(brownthrower):` prompt, without its commands.

It owns what every command shares: the connection to the core library (opened lazily, so a
database that is down costs one error line, not the session), the error guard (a failing command
prints one line and the shell carries on), failure accounting for scripts (non-zero exit status,
`stop_on_error`) and rich output at a sensible width. Commands live in `shell.commands`.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import cmd2
from cmd2.parsing import Statement, StatementParser
from cmd2.rich_utils import Cmd2BaseConsole
from rich.console import Console, RenderableType
from rich.measure import Measurement
from rich.text import Text

from bt import Brownthrower, TaskRegistry, errors
from bt.config import Settings
from shell.complete import Completers, bind_tab

PROMPT = "(brownthrower): "
MAX_PLAIN_WIDTH = 400  #: widest line written to a file or pipe
SIMILARITY = 0.6  #: how close a typo must be to a name for "did you mean" (difflib ratio)


class CommandError(Exception):
    """A shell-level failure with a message for the user (bad argument, missing program...)."""


class UsageError(CommandError):
    """A command line its parser refuses: the message, and the subcommand's one-line usage."""

    def __init__(self, message: str, usage: str = "") -> None:
        super().__init__(message)
        self.usage = usage


def did_you_mean(word: str, names: Iterable[str]) -> str:
    """` Did you mean 'X'?` for the closest of `names` to a misspelt `word`, else ``."""
    close = difflib.get_close_matches(word, list(names), n=1, cutoff=SIMILARITY)
    return f" Did you mean '{close[0]}'?" if close else ""


class ShellStatementParser(StatementParser):
    """cmd2's parser without terminators, multiline commands or redirection: one command per
    line, and `;`, `>`, `>>` and `|` are ordinary characters (`job list id>5` is a filter)."""

    def __init__(self, aliases: dict[str, str], shortcuts: dict[str, str]) -> None:
        super().__init__(
            terminators=(), multiline_commands=(), aliases=aliases, shortcuts=shortcuts
        )

    def split_on_punctuation(self, tokens: list[str]) -> list[str]:
        return list(tokens)

    def parse(self, line: str) -> Statement:
        command, args = self._command_and_args(self.tokenize(line))
        return Statement(args, raw=line, command=command)


MAX_LINE_CHARS = 256 << 10  #: longest command line; longer values go in a file (@FILE)


class Shell(Completers, cmd2.Cmd):
    """The brownthrower shell; `client` is opened on first use from `settings`."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        client: Brownthrower | None = None,
        registry: TaskRegistry | None = None,
        open_client: Callable[[Settings, TaskRegistry], Brownthrower] | None = None,
        history_file: str = "",
        scripted: bool | None = None,
        width: int | None = None,
        **cmd2_options: Any,
    ) -> None:
        self._registry = client.registry if client else registry
        cmd2_options.setdefault("allow_cli_args", False)
        cmd2_options.setdefault("include_py", False)
        cmd2_options.update(allow_redirection=False, terminators=(), multiline_commands=())
        super().__init__(persistent_history_file=history_file, **cmd2_options)
        self.statement_parser = _plain_parser(self.statement_parser)
        bind_tab(self.main_session)
        self.prompt = PROMPT
        self.settings = settings
        self._client = client
        self._open_client = open_client or _open
        self.scripted = (not self.stdin.isatty()) if scripted is None else scripted
        #: set to answer prompts from a stdin that is not a terminal (tests); None: decide
        self.prompting: bool | None = None
        self.width = width
        self.stop_on_error = False
        self.page_size = 50
        self.failures = 0
        self._command_failed = self._interrupted = False
        self.default_error = "{} is not a command; type `help` for the list.{}"
        self.chosen_editor: str | None = None  #: `set editor`: wins over $EDITOR in `job edit`
        self._add_settables()

    def _add_settables(self) -> None:
        """Settings a user changes with `set NAME VALUE`."""
        for name, kind, description in (
            ("stop_on_error", bool, "In scripts, stop at the first failing command"),
            ("page_size", _positive, "Rows per `job list` page"),
        ):
            self.add_settable(cmd2.Settable(name, kind, description, self))
        self.remove_settable("editor")
        about = "Program for `job edit` and `edit` (default: $EDITOR, else vi)"
        self.add_settable(cmd2.Settable("editor", self._choose_editor, about, self))

    def _choose_editor(self, program: str) -> str:
        """`set editor PROGRAM`: the editor from now on, `job edit`'s too."""
        self.chosen_editor = program or None
        return program

    # -- the core library ------------------------------------------------------------------

    @property
    def client(self) -> Brownthrower:
        """The core library on the configured database, opened on first use."""
        if self._client is None:
            if self.settings is None:
                raise CommandError("No database is configured.")
            self._client = self._open_client(self.settings, self.registry)
        return self._client

    @property
    def registry(self) -> TaskRegistry:
        """The task plugins installed here, found on first use (entry points are read then)."""
        if self._registry is None:
            self._registry = TaskRegistry()
        return self._registry

    @property
    def has_client(self) -> bool:
        """Whether the core library is open already."""
        return self._client is not None

    def close(self) -> None:
        """Release the database connections."""
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- output ----------------------------------------------------------------------------

    def show(self, renderable: RenderableType) -> None:
        """Print a rich renderable; to a file or pipe at its natural width, never wrapped."""
        width = self.width or self._plain_width(renderable)
        if width is None:
            self.poutput(renderable, soft_wrap=False)
            return
        console = Cmd2BaseConsole(
            file=self.stdout, width=width, emoji=False, markup=False, highlight=False
        )
        with console.capture() as captured:
            console.print(renderable, soft_wrap=False)
        lines = (line.rstrip() for line in captured.get().splitlines())
        with contextlib.suppress(BrokenPipeError):
            self.stdout.write("\n".join(lines) + "\n")

    def console(self) -> Console:
        """The rich console that prints to the shell's stdout."""
        return self._get_core_print_console(
            file=self.stdout, emoji=False, markup=False, highlight=False
        )

    def _plain_width(self, renderable: RenderableType) -> int | None:
        console = self.console()
        if console.is_terminal:
            return None
        options = console.options.update_width(MAX_PLAIN_WIDTH)
        return max(Measurement.get(console, options, renderable).maximum, 1)

    @property
    def can_prompt(self) -> bool:
        """Whether a command may ask the user something: not in a script without a terminal."""
        if self.prompting is not None:
            return self.prompting
        return not self.scripted or self.stdin.isatty()

    @contextlib.contextmanager
    def silenced(self) -> Iterator[None]:
        """Standard output is dropped meanwhile (progress lines under `--json`); errors are not."""
        stdout, self.stdout = self.stdout, io.StringIO()
        try:
            yield
        finally:
            self.stdout = stdout

    def ok(self, message: str) -> None:
        """A success line (green on a terminal)."""
        self.poutput(Text(message, style="green"))

    def fail(self, message: str, *, above: Console | None = None) -> None:
        """An error line (red on a terminal); marks the current command as failed. `above`: a
        progress bar's console, which prints the line above the bar."""
        line = f"ERROR: {' '.join(message.split())}"
        if above is None:
            self.perror(line)
            return
        self._command_failed = True
        above.print(Text(line, style=cmd2.Cmd2Style.ERROR), soft_wrap=True)

    def warn(self, message: str) -> None:
        """A warning line; does not fail the command."""
        self.print_to(sys.stderr, f"WARNING: {message}", style=cmd2.Cmd2Style.WARNING)

    def perror(self, *objects: Any, **kwargs: Any) -> None:
        """Every error printed fails the command that printed it (for exit status and scripts);
        cmd2's own errors (`Invalid syntax: ...`) get the `ERROR:` prefix too."""
        self._command_failed = True
        if objects and isinstance(objects[0], str) and not objects[0].startswith(_OWN_LINES):
            objects = (f"ERROR: {' '.join(objects[0].split())}", *objects[1:])
        super().perror(*objects, **kwargs)

    def pwarning(self, *objects: Any, **kwargs: Any) -> None:
        kwargs.setdefault("style", cmd2.Cmd2Style.WARNING)
        self.print_to(sys.stderr, *objects, **kwargs)

    # -- the error guard and failure accounting -----------------------------------------------

    def onecmd(self, statement: cmd2.Statement | str, *, add_to_history: bool = True) -> bool:
        """Run one command; whatever it raises becomes one error line and the shell goes on."""
        try:
            return bool(super().onecmd(statement, add_to_history=add_to_history))
        except cmd2.Cmd2ArgparseError:  # only `-h` now: parsers raise `UsageError`
            raise
        except UsageError as exc:
            self.fail(str(exc))
            if exc.usage:
                self.perror(exc.usage, style=None)
        except (errors.BrownthrowerError, CommandError) as exc:
            self.fail(str(exc))
        except OverflowError:
            self.fail("A number in this command is too large.")
        except KeyboardInterrupt:
            self._interrupted = True
            self.fail("Interrupted.")
        except Exception as exc:  # noqa: BLE001 - the shell must survive any command
            self.fail(f"{type(exc).__name__}: {exc}")
            if self.debug:
                self.pexcept(exc)
        return False

    def onecmd_plus_hooks(self, line: str, **kwargs: Any) -> bool:
        """Run a line; in a script, a failure sets the exit status and may stop the script."""
        self._command_failed = self._interrupted = False
        if line.strip() and line != "_eof":
            self.last_result = None
        if len(line) > MAX_LINE_CHARS:  # before parsing, which costs the square of the length
            self.fail(
                f"The command line has {len(line):,} characters; the limit is "
                f"{MAX_LINE_CHARS:,}: put long values in a file and pass it as @FILE."
            )
            stop = False
        else:
            stop = super().onecmd_plus_hooks(line, **kwargs)
        if not self.scripted and self.has_client:
            self.client.db.release()  # hold no connection while waiting at the prompt
        if self._command_failed:
            self.failures += 1
            if self.scripted:
                self.exit_code = 1
                stop = stop or self.stop_on_error or self._interrupted
        return stop

    def default(self, statement: cmd2.Statement) -> bool | None:
        hint = did_you_mean(statement.command, self.get_visible_commands())
        self.fail(self.default_error.format(statement.command, hint))
        return None


_OWN_LINES = ("ERROR:", "usage:")  #: error lines that already have their prefix


def _plain_parser(parser: StatementParser) -> ShellStatementParser:
    return ShellStatementParser(aliases=parser.aliases, shortcuts=dict(parser.shortcuts))


def _open(settings: Settings, registry: TaskRegistry) -> Brownthrower:
    return Brownthrower.open(settings=settings, registry=registry)


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError("must be at least 1")
    return number
