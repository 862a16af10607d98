"""Live, full-screen views (`job top`, `job watch`): refresh on a timer or on a database event,
leave on `q`, Escape or Ctrl-C. Arrow and function keys (escape sequences, which start with the
Escape character) are ignored.

On PostgreSQL the view also wakes on the `bt_work`/`bt_abort` notifications (through
`bt.notify.Listener`), so new runnable work and aborts show up at once.
"""

from __future__ import annotations

import contextlib
import os
import select
import termios
import tty
from collections.abc import Callable, Iterator
from typing import TextIO

from rich.console import Console, RenderableType
from rich.live import Live

LISTEN_TIMEOUT = 5.0  #: seconds to wait for LISTEN before showing the view anyway
QUIT_KEYS = {"q", "Q", "\x1b"}
ESCAPE = "\x1b"
ViewFunction = Callable[[], RenderableType]


@contextlib.contextmanager
def cbreak(stream: TextIO) -> Iterator[int]:
    """The terminal in cbreak mode (keys arrive at once, unechoed); its file descriptor."""
    fd = stream.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield fd
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


@contextlib.contextmanager
def wakeups(url: str | None) -> Iterator[int | None]:
    """A file descriptor readable when PostgreSQL notifies new work or an abort (else None)."""
    if url is None or not url.startswith("postgresql"):
        yield None
        return
    from bt.notify import Listener

    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    os.set_blocking(write_fd, False)
    listener = Listener(url, lambda _notification: _wake(write_fd))
    listener.start()
    listener.ready.wait(LISTEN_TIMEOUT)
    try:
        yield read_fd
    finally:
        listener.stopped.set()
        listener.join(timeout=2.0)
        if not listener.is_alive():
            os.close(read_fd)
            os.close(write_fd)


def _wake(fd: int) -> None:
    with contextlib.suppress(BlockingIOError, OSError):
        os.write(fd, b"\0")


def run_live(
    console: Console,
    stdin: TextIO,
    view: ViewFunction,
    *,
    interval: float,
    wake_fd: int | None = None,
) -> int:
    """Show `view()` full screen, redrawn every `interval` s or on a wake-up; the redraw count."""
    redraws = 0
    with (
        cbreak(stdin) as fd,
        Live(view(), console=console, screen=True, auto_refresh=False) as live,
    ):
        watched = [fd] + ([wake_fd] if wake_fd is not None else [])
        try:
            while True:
                ready, _, _ = select.select(watched, [], [], interval)
                if fd in ready and is_quit(os.read(fd, 16).decode(errors="replace")):
                    return redraws
                if wake_fd is not None and wake_fd in ready:
                    _drain(wake_fd)
                live.update(view(), refresh=True)
                redraws += 1
        except KeyboardInterrupt:
            return redraws


def is_quit(keys: str) -> bool:
    """Whether keys read at once ask to leave: `q`, or Escape alone (not the start of an arrow
    key's escape sequence, which arrives in one read)."""
    if keys.startswith(ESCAPE):
        return keys == ESCAPE
    return keys[:1] in QUIT_KEYS


def _drain(fd: int) -> None:
    with contextlib.suppress(BlockingIOError):
        os.read(fd, 4096)
