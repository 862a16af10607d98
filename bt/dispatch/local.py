"""The `local` backend: pilots are detached processes on this machine.

Each pilot runs in its own session (so it outlives the dispatcher and a cancel reaches its whole
process group) under a tiny `sh` that records the exit code. Every pilot leaves a record in the
dispatcher's state directory — pid and kernel start time, then exit code or cancel marker — so a
restarted dispatcher finds its pilots exactly as it would find them in `squeue`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bt.dispatch.backend import BatchError, Pilot
from bt.dispatch.script import child_environment, render_script

#: Runs the script, then writes its exit code; a TERM trap keeps it alive to record the code.
_WRAPPER = 'trap "true" TERM; bash "$1"; echo $? > "$2"'
#: Starts the wrapper in the background, appending to a log, and prints its pid: the pilot is
#: then nobody's child here (it outlives the dispatcher and leaves no zombie in it).
_LAUNCH = 'log=$1; shift; /bin/sh -c "$0" "$@" </dev/null >>"$log" 2>&1 & echo $!'
LOST = "lost"  #: what the exit-code file says when the pilot vanished without writing one


class LocalBackend:
    """Pilots as detached subprocesses, recorded under `state_dir/pilots`."""

    def __init__(
        self,
        state_dir: Path,
        pilot_name: str,
        *,
        log_dir: Path | None = None,
        keep: float = 300,
        kill_wait: float = 30,
    ) -> None:
        self.pilot_name = pilot_name
        self.records = state_dir / "pilots"
        self.log_dir = log_dir or state_dir / "logs"
        self.work_dir = state_dir
        self.keep = keep  #: seconds an ended pilot stays listed (like Slurm's MinJobAge)
        self.kill_wait = kill_wait  #: seconds from SIGTERM to SIGKILL (like Slurm's KillWait)
        self.description = f"local (detached processes on {os.uname().nodename})"

    def script(self, command: Sequence[str]) -> str:
        """The script a pilot runs (the same template as Slurm's, without directives)."""
        return render_script(command, dispatcher=self.pilot_name)

    def submit(self, command: Sequence[str], env: Mapping[str, str]) -> str:
        """Start `command` detached; its batch id is the key of its record."""
        key = uuid.uuid4().hex[:10]
        script = self.records / f"{key}.sh"
        try:
            self.records.mkdir(parents=True, exist_ok=True)
            self.log_dir.mkdir(parents=True, exist_ok=True)
            script.write_text(self.script(command))
        except OSError as exc:
            raise BatchError(f"Cannot write a local pilot's script: {exc}") from exc
        argv = ["/bin/sh", "-c", _LAUNCH, _WRAPPER, str(self.log(key)), self.pilot_name]
        at = time.time()
        pid = self._launch([*argv, str(script), str(self._rc(key))], env)
        record = {"name": self.pilot_name, "pid": pid, "start": _start_time(pid), "at": at}
        record["group"] = _group_of(pid)
        self._record(key).write_text(json.dumps(record))
        return key

    def log(self, batch_id: str) -> Path:
        """The pilot's output file (stdout and stderr)."""
        return self.log_dir / f"pilot-{batch_id}.out"

    def _launch(self, argv: list[str], env: Mapping[str, str]) -> int:
        """Run the launcher in a new session; the pid of the wrapper it left behind."""
        try:
            done = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                cwd=self.work_dir,
                env=child_environment(dict(env)),
                start_new_session=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BatchError(f"Cannot start a local pilot: {exc}") from exc
        if done.returncode != 0 or not done.stdout.strip().isdigit():
            raise BatchError(f"Cannot start a local pilot: {done.stderr.strip()}")
        return int(done.stdout)

    def status(self) -> list[Pilot]:
        """Every recorded pilot: RUNNING while its process lives, then its final state."""
        pilots = []
        for path in sorted(self.records.glob("*.json")):
            pilot = self._pilot(path.stem)
            if pilot is not None:
                pilots.append(pilot)
        return pilots

    def cancel(self, batch_id: str) -> None:
        """SIGTERM the pilot's process group (its runner requeues its jobs and exits)."""
        record = self._read(batch_id)
        if record is None or record.get("name") != self.pilot_name:
            raise BatchError(f"Unknown local pilot {batch_id!r}.")
        self._cancel_marker(batch_id).touch()
        if _alive(record):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(record.get("group") or record["pid"], signal.SIGTERM)

    def _pilot(self, key: str) -> Pilot | None:
        record = self._read(key)
        if record is None or record.get("name") != self.pilot_name:
            return None
        started = record.get("at")
        if _alive(record):
            self._enforce_cancel(key, record)
            return Pilot(key, "RUNNING", elapsed=_since(started, time.time()))
        rc = self._exit_code(key)
        if self._expired(key):
            self._forget(key)
            return None
        elapsed = _since(started, self._rc(key).stat().st_mtime)
        if self._cancel_marker(key).exists():
            return Pilot(key, "CANCELLED", f"exit code {rc}", elapsed)
        if rc == "0":
            return Pilot(key, "COMPLETED", elapsed=elapsed)
        reason = "vanished without an exit code" if rc == LOST else f"exit code {rc}"
        return Pilot(key, "FAILED", reason, elapsed)

    def _enforce_cancel(self, key: str, record: Mapping[str, Any]) -> None:
        """SIGKILL a cancelled pilot still alive after `kill_wait` (a SIGTERM can also be lost
        when it lands between a fork and an exec)."""
        marker = self._cancel_marker(key)
        if marker.exists() and time.time() - marker.stat().st_mtime > self.kill_wait:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(record.get("group") or record["pid"], signal.SIGKILL)

    def _exit_code(self, key: str) -> str:
        path = self._rc(key)
        if not path.exists():  # the wrapper itself was killed: note it, once
            path.write_text(LOST + "\n")
        return path.read_text().strip() or LOST

    def _expired(self, key: str) -> bool:
        return time.time() - self._rc(key).stat().st_mtime > self.keep

    def _forget(self, key: str) -> None:
        for suffix in (".json", ".sh", ".rc", ".cancelled"):
            (self.records / f"{key}{suffix}").unlink(missing_ok=True)

    def _read(self, key: str) -> dict[str, Any] | None:
        try:
            record: dict[str, Any] = json.loads(self._record(key).read_text())
        except (OSError, ValueError):
            return None
        return record

    def _record(self, key: str) -> Path:
        return self.records / f"{key}.json"

    def _rc(self, key: str) -> Path:
        return self.records / f"{key}.rc"

    def _cancel_marker(self, key: str) -> Path:
        return self.records / f"{key}.cancelled"


def _since(start: float | None, end: float) -> float | None:
    return None if start is None else max(0.0, end - start)


def _start_time(pid: int) -> int:
    """The kernel's start time of `pid` (0 if unknown): with the pid, it names one process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0
    return int(fields[19])


def _group_of(pid: int) -> int:
    """The process group to signal: the launcher's session, which the wrapper stays in."""
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return pid


def _alive(record: Mapping[str, Any]) -> bool:
    """Whether the recorded process still runs (a zombie or a reused pid does not count)."""
    pid = record["pid"]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    if fields[0] in ("Z", "X"):
        return False
    return not record.get("start") or int(fields[19]) == record["start"]
