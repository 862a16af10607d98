"""`bt-dispatcher`: keeps runner pilots on a batch farm, with a live screen of jobs and pilots.

The loop lives here (it runs in the main thread: there is no thread that could die silently);
each pass is `bt.dispatch.Dispatcher.step()`. SIGINT and SIGTERM stop it between passes;
`--cancel-on-exit` then cancels every pilot and waits until the batch system confirms.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections import deque
from collections.abc import Sequence
from types import FrameType

from rich.console import Console
from rich.live import Live

from bt.cli.common import (
    LOG_FORMAT,
    RET_ERROR,
    RET_OK,
    add_common_arguments,
    open_app,
    run_main,
    setup_logging,
)
from bt.dispatch import Dispatcher, DispatcherOptions, build_dispatcher, statedir
from shell.dispatcher.options import add_arguments, options_from
from shell.dispatcher.screen import print_screen, screen

PROGRAM = "bt-dispatcher"
log = logging.getLogger("bt.dispatch")


def build_parser() -> argparse.ArgumentParser:
    """The `bt-dispatcher` command line (shared options plus `shell.dispatcher.options`)."""
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description="Keep brownthrower runner pilots on a batch farm: a fixed number (static) "
        "or as many as the runnable jobs need (on-demand), with a live screen.",
    )
    add_common_arguments(parser)
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `bt-dispatcher`."""
    return run_main(PROGRAM, lambda: _main(argv))


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    options = options_from(args)
    with open_app(args, PROGRAM) as app:
        dispatcher = build_dispatcher(options, app)
        _setup_logging(args, dispatcher)
        statedir.remember(dispatcher.dispatcher_id, options.state_dir)  # for `dispatcher status`
        stop = _stop_on_signals()
        try:
            return _run(dispatcher, args, stop)
        finally:
            if args.cancel_on_exit:
                _cancel_all(dispatcher, options, show=not (args.no_ui or args.once))


def _run(dispatcher: Dispatcher, args: argparse.Namespace, stop: threading.Event) -> int:
    title = f"Brownthrower dispatcher {dispatcher.policy.mode}"
    if args.once:
        snapshot = dispatcher.step()
        print_screen(screen(snapshot, title))
        blind = snapshot.report.pilots is None or snapshot.bt_counts is None
        return RET_ERROR if blind else RET_OK
    if args.no_ui:
        for label, value in dispatcher.settings():
            log.info("%s: %s", label, value)
        while not stop.is_set():
            log.info(dispatcher.step().summary())
            stop.wait(args.interval)
        return RET_OK
    return _live(dispatcher, title, args.interval, stop)


def _live(dispatcher: Dispatcher, title: str, interval: float, stop: threading.Event) -> int:
    warnings: deque[str] = deque(maxlen=5)
    with Live(console=Console(), auto_refresh=False) as live:
        while not stop.is_set():
            snapshot = dispatcher.step()
            warnings.extend(f"{snapshot.at.astimezone():%H:%M:%S} {w}" for w in snapshot.warnings)
            live.update(screen(snapshot, title, list(warnings)), refresh=True)
            stop.wait(interval)
    return RET_OK


def _cancel_all(dispatcher: Dispatcher, options: DispatcherOptions, *, show: bool) -> None:
    """Cancel every pilot and wait for the batch system; say so on screen when `show`."""
    log.info("cancelling every pilot of %s", dispatcher.dispatcher_id)
    snapshot = dispatcher.shutdown(timeout=max(60.0, 2 * options.kill_wait))
    states = " ".join(f"{k} {v}" for k, v in snapshot.batch_counts.items()) or "none"
    message = f"pilots cancelled: {snapshot.report.live} still live (batch status: {states})"
    log.info(message)
    if show:
        print(f"{PROGRAM}: {message}")


def _setup_logging(args: argparse.Namespace, dispatcher: Dispatcher) -> None:
    """Log lines on stderr with --no-ui/--once; under the live screen, to a file instead."""
    if args.no_ui or args.once:
        setup_logging(args.verbose)
        log.setLevel(logging.INFO)
        return
    path = dispatcher.state_dir / "dispatcher.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, filename=path)


def _stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM: the loop stops between passes, never mid-pass."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


if __name__ == "__main__":
    sys.exit(main())
