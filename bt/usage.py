"""What one run of a job cost: exact figures the kernel kept for the job's process.

The fork server measures them when it reaps a job process (`measure`): `/proc/PID/io` of the
exited, not yet reaped process, then `wait4`'s resource usage. Both include the descendants the
job waited for; what it did not wait for (daemonised grandchildren, processes still alive when it
exited and killed with its process group) escapes. `peak_rss` is `ru_maxrss`: the peak resident
set of the largest single process among the job's process and its waited-for descendants, not
the sum of those that ran at once.

Names follow Nextflow's trace fields where the meaning is the same.
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import asdict, dataclass
from typing import Any

#: the figures the fork server measures, as they travel to the runner (`measure`)
RUSAGE_FIELDS = {
    "cpu_user": "ru_utime",
    "cpu_sys": "ru_stime",
    "minflt": "ru_minflt",
    "majflt": "ru_majflt",
    "vol_ctxt": "ru_nvcsw",
    "inv_ctxt": "ru_nivcsw",
    "inblock": "ru_inblock",
    "oublock": "ru_oublock",
}
IO_FIELDS = ("rchar", "wchar", "read_bytes", "write_bytes")
COUNT_FIELDS = ("peak_rss", "minflt", "majflt", "vol_ctxt", "inv_ctxt", "inblock", "oublock")
MAXRSS_UNIT = 1 if sys.platform == "darwin" else 1024  #: bytes per unit of `ru_maxrss`


@dataclass(frozen=True)
class Pilot:
    """Where runs happen: the runner's host, its batch job (`SLURM_JOB_ID`) and its slots."""

    host: str
    batch_id: str | None
    slots: int

    @classmethod
    def here(cls, slots: int = 1) -> Pilot:
        return cls(socket.gethostname(), os.environ.get("SLURM_JOB_ID") or None, slots)


@dataclass(frozen=True)
class Usage:
    """The figures of one run (one attempt, or its epilog) of a job."""

    realtime: float  #: wall seconds from the job's start to its process's exit
    cpu_user: float  #: seconds
    cpu_sys: float  #: seconds
    peak_rss: int  #: bytes, of the largest single process (`ru_maxrss`)
    minflt: int
    majflt: int
    vol_ctxt: int
    inv_ctxt: int
    inblock: int  #: 512-byte blocks
    oublock: int  #: 512-byte blocks
    rchar: int | None  #: bytes; None when /proc/PID/io could not be read
    wchar: int | None
    read_bytes: int | None
    write_bytes: int | None
    exit_code: int | None  #: negative: killed by that signal
    host: str
    batch_id: str | None
    slots: int

    @property
    def cpu(self) -> float:
        """User plus system CPU seconds."""
        return self.cpu_user + self.cpu_sys

    @property
    def cpu_efficiency(self) -> float | None:
        """(user + system) / wall; None for a run of no measurable length."""
        return self.cpu / self.realtime if self.realtime > 0 else None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Usage:
        """The inverse of `as_dict` (unknown keys ignored)."""
        pilot = Pilot(str(data["host"]), _opt_str(data.get("batch_id")), int(data["slots"]))
        realtime, code = float(data["realtime"]), _opt_int(data.get("exit_code"))
        return cls.from_measured(data, realtime=realtime, exit_code=code, pilot=pilot)

    @classmethod
    def from_measured(
        cls, measured: dict[str, Any], *, realtime: float, exit_code: int | None, pilot: Pilot
    ) -> Usage:
        """A run's figures from what the fork server `measure`d and what the runner knows."""
        values: dict[str, Any] = {name: int(measured[name]) for name in COUNT_FIELDS}
        values.update({name: _opt_int(measured.get(name)) for name in IO_FIELDS})
        return cls(
            realtime=max(0.0, realtime),
            cpu_user=float(measured["cpu_user"]),
            cpu_sys=float(measured["cpu_sys"]),
            exit_code=exit_code,
            host=pilot.host,
            batch_id=pilot.batch_id,
            slots=pilot.slots,
            **values,
        )

    def log_text(self) -> str:
        """`realtime=1.002 cpu_user=0.998 ... slots=1`: every figure, `-` for unknown."""
        return " ".join(f"{name}={_text(value)}" for name, value in self.as_dict().items())


def _text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".") or "0"
    return str(value)


def _opt_int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def parse_log_text(text: str) -> dict[str, str]:
    """The `name=value` pairs of a `log_text` line (values as text, `-` for unknown)."""
    return dict(part.split("=", 1) for part in text.split() if "=" in part)


def measure(pid: int) -> tuple[int, dict[str, Any]]:
    """Reap the exited child `pid` and measure it: its wait status and figures. Call once
    `waitid(..., WNOWAIT)` reported it exited, before anything reaps it (its /proc entry
    goes away with the reaping)."""
    io = read_io(pid)
    _, status, rusage = os.wait4(pid, 0)
    measured: dict[str, Any] = {name: getattr(rusage, ru) for name, ru in RUSAGE_FIELDS.items()}
    measured["peak_rss"] = rusage.ru_maxrss * MAXRSS_UNIT
    measured.update(io or dict.fromkeys(IO_FIELDS))
    return status, measured


def read_io(pid: int) -> dict[str, int] | None:
    """The I/O counters of `/proc/PID/io` (its process and waited-for children); None if the
    file is missing or unreadable (another user, no /proc, a kernel without task I/O
    accounting)."""
    try:
        fd = os.open(f"/proc/{pid}/io", os.O_RDONLY)  # plain fds: half the cost of open()
        try:
            data = os.read(fd, 4096)
        finally:
            os.close(fd)
    except OSError:
        return None
    counters = dict(line.split(b":", 1) for line in data.splitlines() if b":" in line)
    try:
        return {name: int(counters[name.encode()]) for name in IO_FIELDS}
    except (KeyError, ValueError):
        return None


#: the figures kept per attempt, in `job_event` columns of these names (on the event that ended
#: it; the event's own `exit_code` and `host` hold those two)
STORED_FIELDS = (
    "realtime", "cpu_user", "cpu_sys", "peak_rss", "minflt", "majflt", "vol_ctxt", "inv_ctxt",
    "inblock", "oublock", "rchar", "wchar", "read_bytes", "write_bytes", "batch_id", "slots",
)  # fmt: skip
_NO_USAGE: dict[str, Any] = dict.fromkeys(STORED_FIELDS)


def stored(usage: Usage | None) -> dict[str, Any]:
    """`usage` as the values of its `job_event` columns (all None without)."""
    if usage is None:
        return dict(_NO_USAGE)
    return {name: getattr(usage, name) for name in STORED_FIELDS}


def from_stored(row: Any, *, exit_code: int | None, host: str | None) -> Usage | None:
    """The `Usage` kept in a row with the `STORED_FIELDS` as attributes; None if it has none."""
    if row.realtime is None or row.cpu_user is None or row.cpu_sys is None:
        return None
    values = {name: getattr(row, name) for name in STORED_FIELDS}
    values.update(exit_code=exit_code, host=host or "", slots=values["slots"] or 1)
    values.update({name: int(values[name] or 0) for name in COUNT_FIELDS})
    return Usage(**values)
