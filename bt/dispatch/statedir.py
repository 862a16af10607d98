"""Finding a dispatcher's state directory again (`dispatcher status` in the shell).

A dispatcher started with `--state-dir DIR` keeps its pilot records, logs and journal under DIR,
where a `dispatcher status` without the option would not look. So the dispatcher leaves a
pointer to DIR in the default place (`<user state dir>/dispatchers/<id>/state-dir`), and
removes it when started without the option; `recorded` reads it back.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from bt.dispatch.options import state_dir

POINTER = "state-dir"  #: the file, in the default state directory, naming the one in use
log = logging.getLogger(__name__)


def remember(ident: str, override: Path | None) -> None:
    """Record where dispatcher `ident` keeps its state (best effort: a failure is logged)."""
    pointer = state_dir(ident) / POINTER
    try:
        if override is None or state_dir(ident, override) == state_dir(ident):
            pointer.unlink(missing_ok=True)
            return
        pointer.parent.mkdir(parents=True, exist_ok=True)
        pointer.write_text(f"{override.resolve()}\n", encoding="utf-8")
    except OSError as exc:
        log.warning("cannot record the state directory in %s: %s", pointer, exc)


def recorded(ident: str) -> Path | None:
    """The `--state-dir` dispatcher `ident` was last started with, or None (the default)."""
    with contextlib.suppress(OSError, UnicodeDecodeError):
        text = (state_dir(ident) / POINTER).read_text(encoding="utf-8").strip()
        return Path(text) if text else None
    return None
