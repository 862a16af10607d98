"""Capturing a job's output: whole streams to files in the log dir, bounded copies for tags.

A tag keeps the head and the tail of a stream (very long output loses its middle, with a note of
how much); the log dir keeps every byte. Files are named `<job id>.<attempt>.<stream>` and never
overwrite an earlier run's files: a repeated stem gets a `-2`, `-3`, ... suffix.
"""

from __future__ import annotations

import codecs
import os
from pathlib import Path
from typing import BinaryIO

HEAD_CHARS = 64 << 10  #: characters kept from the start of a stream
TAIL_CHARS = 192 << 10  #: characters kept from the end of a stream
FILE_MODE = 0o644  #: a run's files are read, never executed (the umask still applies)
RESERVE_FLAGS = os.O_CREAT | os.O_EXCL | os.O_WRONLY


class HeadTail:
    """The first `head` and last `tail` characters of a text stream."""

    def __init__(self, head: int = HEAD_CHARS, tail: int = TAIL_CHARS) -> None:
        self.head_limit, self.tail_limit = head, tail
        self.head = ""
        self.tail = ""
        self.omitted = 0

    def add(self, text: str) -> None:
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += text[:room]
            text = text[room:]
        if not text:
            return
        self.tail += text
        excess = len(self.tail) - self.tail_limit
        if excess > 0:
            self.omitted += excess
            self.tail = self.tail[excess:]

    def __bool__(self) -> bool:
        return bool(self.head)

    def render(self) -> str:
        if not self.omitted:
            return self.head + self.tail
        note = (
            f"\n[... {self.omitted:,} characters omitted; the whole stream is in the log dir ...]\n"
        )
        return self.head + note + self.tail


class LogFiles:
    """The files of one run in the log dir; the name is reserved on the first write."""

    def __init__(self, log_dir: Path, job_id: int, attempt: int) -> None:
        self.log_dir = log_dir
        self.base = f"{job_id}.{attempt}"
        self._stem: str | None = None
        self._open: dict[str, BinaryIO] = {}

    @property
    def stem(self) -> Path:
        """`<log dir>/<job>.<attempt>[-n]`, reserved by creating its `.out` file."""
        if self._stem is None:
            self._stem = self._reserve()
        return self.log_dir / self._stem

    @property
    def reserved(self) -> bool:
        return self._stem is not None

    def _reserve(self) -> str:
        for n in range(1, 10_000):
            stem = self.base if n == 1 else f"{self.base}-{n}"
            try:
                fd = os.open(self.log_dir / f"{stem}.out", RESERVE_FLAGS, FILE_MODE)
            except FileExistsError:
                continue
            os.close(fd)
            return stem
        raise FileExistsError(f"too many runs of {self.base} in {self.log_dir}")

    def path(self, suffix: str) -> Path:
        return self.stem.with_name(f"{self.stem.name}.{suffix}")

    def write(self, suffix: str, data: bytes) -> None:
        handle = self._open.get(suffix)
        if handle is None:
            fd = os.open(self.path(suffix), os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
            handle = self._open[suffix] = os.fdopen(fd, "ab")
        handle.write(data)

    def close(self) -> None:
        for handle in self._open.values():
            handle.close()
        self._open.clear()


class StreamCapture:
    """One captured stream: raw bytes to its file, decoded text to a bounded copy for its tag."""

    def __init__(self, files: LogFiles, suffix: str) -> None:
        self.files = files
        self.suffix = suffix
        self.text = HeadTail()
        self.dirty = False
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, data: bytes) -> None:
        self.files.write(self.suffix, data)
        self.add_text(self._decoder.decode(data))

    def feed_text(self, text: str) -> None:
        self.files.write(self.suffix, text.encode("utf-8", "replace"))
        self.add_text(text)

    def add_text(self, text: str) -> None:
        if text:
            self.text.add(text.replace("\x00", "\N{REPLACEMENT CHARACTER}"))
            self.dirty = True

    def end(self) -> None:
        self.add_text(self._decoder.decode(b"", final=True))
