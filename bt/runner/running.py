"""A job this runner holds: its claim, its process, its pipes and what came through them."""

from __future__ import annotations

import contextlib
import enum
import os
import signal
import time
from pathlib import Path
from typing import Any

from bt import tagnames
from bt.runner import osutil
from bt.runner.capture import LogFiles, StreamCapture
from bt.runner.options import KILL_TIMEOUT
from bt.runner.protocol import LOG, RESULT, TAG, LineReader, Message
from bt.usage import Pilot, Usage
from bt.values import Claim

OUT, ERR, CTL = "out", "err", "ctl"
STDERR_LINES = 40  #: lines of stderr quoted in the traceback of a crashed job process


class KillReason(enum.StrEnum):
    """Why the runner killed a job; its result is then not the job's own."""

    ABORTED = "aborted"  #: this run no longer holds the job (aborted, or recovered meanwhile)
    PREEMPTED = "pre-empted"  #: the runner is stopping: the job goes back to the queue
    ABANDONED = "abandoned"  #: the runner lost its lease: another runner recovers the job
    FENCED = "fenced"  #: the fork server killed it, the lease not renewed in time: requeue it
    TIMED_OUT = "timed out"  #: it ran past its phase's time limit: it fails


class RunningJob:
    """One job process as the runner follows it."""

    def __init__(
        self,
        key: int,
        claim: Claim,
        files: LogFiles,
        *,
        own_group: bool,
        pilot: Pilot | None = None,
    ) -> None:
        self.key = key
        self.claim = claim
        self.files = files
        self.own_group = own_group
        self.pid: int | None = None
        self.exit_code: int | None = None
        self.result: Message | None = None
        self.streams = {name: StreamCapture(files, name) for name in (OUT, ERR, "log")}
        self.user_tags: dict[str, str] = {}
        self.fds: dict[int, str] = {}  #: open read ends -> stream
        self.order: memoryview | None = None  #: what is left to write of the job's order
        self.order_fd: int | None = None
        self.kill_reason: KillReason | None = None
        self.kill_at: float | None = None  #: when SIGTERM turns into SIGKILL
        self.exited_at: float | None = None
        self.held_until: float | None = None  #: recording waits to tell pre-emption apart
        self.started = time.monotonic()
        self.started_clock = osutil.clock()  #: the same moment on the fork server's clock
        self.pilot = pilot or Pilot.here()
        self.usage: Usage | None = None  #: what the run cost, once its process has exited
        limit = claim.time_limit
        self.limit_at = None if limit is None else self.started + limit  #: when it times out
        self.runner_info: dict[str, Any] = {}
        self._control = LineReader()
        self._pending_signal: int | None = None

    @property
    def job_id(self) -> int:
        return self.claim.job_id

    @property
    def terminated_from_outside(self) -> bool:
        """SIGTERM reached the job process from outside the runner (a batch system, a user)."""
        if self.kill_reason is not None:
            return False
        caught = bool((self.result or {}).get("terminated"))
        return caught or self.exit_code in (-signal.SIGTERM, 128 + signal.SIGTERM)

    @property
    def done(self) -> bool:
        """The process has exited and every pipe reached end of file."""
        return self.exit_code is not None and not self.fds

    def on_started(self, pid: int) -> None:
        self.pid = pid
        self.runner_info["job_pid"] = pid
        if self._pending_signal is not None:
            self.signal(self._pending_signal)

    def on_exited(self, code: int, report: Message | None = None) -> None:
        """The process exited with `code`; `report` is the fork server's message saying so (its
        figures, if it measured them)."""
        self.exit_code = code
        self.exited_at = time.monotonic()
        report = report or {}
        measured = report.get("usage")
        if isinstance(measured, dict):
            realtime = float(report.get("at") or osutil.clock()) - self.started_clock
            self.usage = Usage.from_measured(
                measured, realtime=realtime, exit_code=code, pilot=self.pilot
            )

    def on_data(self, fd: int, data: bytes) -> None:
        stream = self.fds[fd]
        if stream != CTL:
            self.streams[stream].feed(data)
            return
        for message in self._control.feed(data):
            self._on_message(message)

    def _on_message(self, message: Message) -> None:
        kind = message.get("k")
        if kind == LOG:
            self.streams["log"].feed_text(str(message["text"]))
        elif kind == TAG:
            self.user_tags[str(message["name"])] = str(message["value"])
        elif kind == RESULT:
            self.result = message

    def on_eof(self, fd: int) -> None:
        stream = self.fds.pop(fd)
        if stream != CTL:
            self.streams[stream].end()
        os.close(fd)

    def close(self) -> None:
        for fd in list(self.fds):
            self.on_eof(fd)
        if self.order_fd is not None:
            os.close(self.order_fd)
            self.order_fd = None
        self.files.close()

    def signal(self, sig: int) -> None:
        if self.exit_code is not None:
            return
        if self.pid is None:
            self._pending_signal = sig
            return
        osutil.signal_job(self.pid, sig, group=self.own_group)

    @property
    def timeout_at(self) -> float | None:
        """When it times out, while it runs without a result and is not being killed."""
        return None if self.result is not None or self.kill_reason else self.limit_at

    def over_time(self, clock: float) -> bool:
        """Whether it is still running, without a result, past its time limit."""
        at = self.timeout_at
        return at is not None and clock >= at

    def kill(self, reason: KillReason, *, now: bool = False) -> None:
        """Terminate the job's process group: SIGTERM, then SIGKILL after `KILL_TIMEOUT`."""
        if self.kill_reason is None or reason is KillReason.ABANDONED:
            self.kill_reason = reason
        if now:
            self.signal(signal.SIGKILL)
        elif self.kill_at is None:
            self.signal(signal.SIGTERM)
            self.kill_at = time.monotonic() + KILL_TIMEOUT

    def escalate(self, clock: float) -> None:
        if self.kill_at is not None and clock >= self.kill_at:
            self.signal(signal.SIGKILL)
            self.kill_at = None

    def live_tags(self) -> dict[str, str]:
        """Tags changed since the last write (for the periodic flush while the job runs)."""
        tags = dict(self.user_tags)
        self.user_tags.clear()
        for name, stream in zip(_TAG_NAMES, self.streams.values(), strict=True):
            if stream.dirty:
                tags[name] = stream.text.render()
                stream.dirty = False
        return tags

    def final_tags(self) -> dict[str, str]:
        """Every tag of the run, for the transaction that records its end."""
        tags = dict(self.user_tags)
        for name, stream in zip(_TAG_NAMES, self.streams.values(), strict=True):
            if stream.text:
                tags[name] = stream.text.render()
        if self.runner_info.get("flushed"):  # else the history says where it ran
            tags[tagnames.RUNNER] = self.runner_tag()
        if self.exit_code is not None:  # into the run's history row; not a tag
            tags[tagnames.EXIT_CODE] = str(self.exit_code)
        if self.result is not None and self.result.get("profile"):
            tags[tagnames.PROFILE] = str(self.result["profile"])
        return tags

    def runner_tag(self) -> str:
        info = dict(self.runner_info)
        if self.files.reserved:
            info["log_files"] = f"{self.files.stem}.*"
        return "".join(f"{key}: {value}\n" for key, value in info.items())

    def crash_report(self) -> tuple[str, str]:
        """Reason and traceback of a job process that ended without reporting a result."""
        code = self.exit_code if self.exit_code is not None else -signal.SIGKILL
        reason = f"The job process {osutil.describe_exit(code)} without reporting a result"
        if code == -signal.SIGKILL:
            reason += " (out of memory, or killed from outside)"
        return reason + ".", f"{reason}.\n\n{self._stderr_tail()}"

    def time_limit_report(self) -> tuple[str, str]:
        """Reason and traceback of a job killed at its time limit."""
        limit = self.claim.time_limit or 0.0
        code = self.exit_code if self.exit_code is not None else -signal.SIGKILL
        if code == -signal.SIGKILL:
            sent = f"SIGTERM, then SIGKILL as it was still running {KILL_TIMEOUT:g} s later"
        else:
            sent = f"SIGTERM (SIGKILL would have followed {KILL_TIMEOUT:g} s later)"
        detail = (
            f"The job ran past its time limit of {limit:g} s: the runner sent its process group "
            f"{sent}; the job process {osutil.describe_exit(code)}."
        )
        return f"time limit of {limit:g} s exceeded", f"{detail}\n\n{self._stderr_tail()}"

    def _stderr_tail(self) -> str:
        tail = self.streams[ERR].text.render().splitlines()[-STDERR_LINES:]
        quoted = "\n".join(tail) if tail else "(nothing)"
        return f"Last lines of its standard error:\n{quoted}\n"


_TAG_NAMES = (tagnames.STDOUT, tagnames.STDERR, tagnames.LOG)


def work_dir_of(root: Path, job_id: int) -> Path:
    """The job's own working directory under the runner's `--work-dir`."""
    return (root / str(job_id)).absolute()


def make_work_dir(root: Path, job_id: int) -> None:
    """Create the job's working directory ahead of its start (off the job's critical path;
    the job process creates it itself when it is missing)."""
    with contextlib.suppress(OSError):
        work_dir_of(root, job_id).mkdir(parents=True, exist_ok=True)


def remove_work_dir(root: Path, job_id: int) -> None:
    """Remove the job's working directory once its run is over, if it was left empty."""
    with contextlib.suppress(OSError):
        work_dir_of(root, job_id).rmdir()
