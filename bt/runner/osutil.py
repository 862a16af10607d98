"""The few Linux process controls the runner needs, through libc and /proc (no-ops elsewhere)."""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
_STAT_ARGS, _STAT_ENV = 45, 47  #: /proc/self/stat fields 48 (arg_start) and 50 (env_start), 0-based
_CLOCK = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)


def clock() -> float:
    """Seconds on the host's boot clock: shared by every process, and it keeps counting through
    a suspend, a VM pause or a SIGSTOP (the lease deadlines the fork server enforces use it)."""
    return time.clock_gettime(_CLOCK)


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _prctl(option: int, value: int) -> bool:
    libc = _libc()
    try:
        return libc is not None and bool(libc.prctl(option, value, 0, 0, 0) == 0)
    except AttributeError:
        return False


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Have the kernel send `sig` to this process when its parent dies."""
    parent = os.getppid()
    _prctl(PR_SET_PDEATHSIG, sig)
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), sig)


def become_subreaper() -> None:
    """Adopt orphaned descendants, so this process reaps everything its children leave behind."""
    _prctl(PR_SET_CHILD_SUBREAPER, 1)


def signal_job(pid: int, sig: int, *, group: bool) -> bool:
    """Send `sig` to a job's process group (or only its process); False if it is gone."""
    try:
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def describe_exit(code: int) -> str:
    """`exited with status 3` or `was killed by signal 11 (SIGSEGV)` (exit code -N = signal N)."""
    if code >= 0:
        return f"exited with status {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = "unknown signal"
    return f"was killed by signal {-code} ({name})"


# -- what /proc/<pid>/cmdline and /proc/<pid>/environ show ------------------------------------


@functools.cache
def own_areas() -> list[tuple[int, int]]:
    """Where this process's command line and initial environment lie in its memory (the same
    for the process's whole life, and in its forks)."""
    try:
        with open("/proc/self/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return []
    return [(int(fields[i]), int(fields[i + 1])) for i in (_STAT_ARGS, _STAT_ENV)]


def scrub_own_memory(secret: str, *, entries_with: str) -> None:
    """Overwrite `secret` with `*` in the entries of this process's command line and initial
    environment that contain `entries_with`: what other processes of the same user (task code)
    can read in /proc. libc's `getenv` reads that memory too: re-set a scrubbed variable."""
    needle, marker = secret.encode(), entries_with.encode()
    for start, end in own_areas() if needle else ():
        offset = start
        for entry in ctypes.string_at(start, end - start).split(b"\0"):
            if marker in entry:
                scrubbed = entry.replace(needle, b"*" * len(needle))
                ctypes.memmove(offset, scrubbed, len(scrubbed))
            offset += len(entry) + 1


def set_initial_env(name: str, value: str) -> bool:
    """Write `value` into the room `name=` reserves in this process's initial environment (what
    /proc/<pid>/environ shows, which `os.environ` changes do not reach); False without room."""
    areas = own_areas()
    if not areas:
        return False
    start, end = areas[1]
    block = b"\0" + ctypes.string_at(start, end - start) + b"\0"
    prefix = b"\0" + name.encode() + b"="
    found = block.find(prefix)
    if found < 0:
        return False
    at = found + len(prefix)  # in `block`, one byte ahead of the memory
    room = block.index(b"\0", at) - at
    data = value.encode()
    if len(data) > room:
        return False
    ctypes.memmove(start + at - 1, data.ljust(room), room)
    return True


def initial_env(pid: int, name: str) -> str | None:
    """The value of `name` in the environment /proc shows for process `pid` (None if unreadable
    or unset); surrounding blanks stripped."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as environ:
            entries = environ.read().split(b"\0")
    except OSError:
        return None
    prefix = name.encode() + b"="
    for entry in entries:
        if entry.startswith(prefix):
            return entry[len(prefix) :].decode(errors="replace").strip()
    return None
