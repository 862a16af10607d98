"""What a run cost (`bt.usage`): measured from an exited, not yet reaped child; carried as text."""

from __future__ import annotations

import os
import signal
import time

from bt.usage import IO_FIELDS, Pilot, Usage, measure, parse_log_text, read_io

MB = 1 << 20


def child(work: str) -> int:
    """Fork a child that does `work` (`write`, `burn`, `hang`), then exits 0."""
    pid = os.fork()
    if pid:
        return pid
    try:
        if work == "write":
            fd = os.open(os.devnull, os.O_WRONLY)
            for _ in range(10):
                os.write(fd, b"x" * MB)
        elif work == "burn":
            end = time.process_time() + 0.2
            while time.process_time() < end:
                sum(range(10_000))
        elif work == "hang":
            time.sleep(60)
    finally:
        os._exit(0)


def exited(pid: int) -> None:
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)


def test_the_io_of_an_exited_child_is_read_before_it_is_reaped() -> None:
    pid = child("write")
    exited(pid)
    status, measured = measure(pid)
    assert os.waitstatus_to_exitcode(status) == 0
    assert measured["wchar"] >= 10 * MB and measured["peak_rss"] > MB
    assert not os.path.exists(f"/proc/{pid}")  # reaped


def test_cpu_and_a_kill_are_measured() -> None:
    pid = child("burn")
    exited(pid)
    _, measured = measure(pid)
    assert measured["cpu_user"] + measured["cpu_sys"] >= 0.2
    pid = child("hang")
    os.kill(pid, signal.SIGKILL)
    exited(pid)
    status, measured = measure(pid)
    assert os.waitstatus_to_exitcode(status) == -signal.SIGKILL and measured["rchar"] is not None


def test_missing_io_counters_are_none_not_zero() -> None:
    assert read_io(2**22 + 1) is None
    assert set(read_io(os.getpid()) or {}) == set(IO_FIELDS)


def sample(**changes: object) -> Usage:
    measured = dict.fromkeys(("minflt", "majflt", "vol_ctxt", "inv_ctxt", "inblock", "oublock"), 1)
    measured.update(cpu_user=1.5, cpu_sys=0.5, peak_rss=200 * MB, rchar=None, wchar=10 * MB)
    measured.update(changes)
    pilot = Pilot("node1", "4242", 4)
    return Usage.from_measured(measured, realtime=2.5, exit_code=-9, pilot=pilot)


def test_figures_round_trip_as_a_dict_and_as_a_log_line() -> None:
    usage = sample()
    assert Usage.from_dict(usage.as_dict()) == usage
    text = parse_log_text(usage.log_text())
    assert text["cpu_user"] == "1.5" and text["rchar"] == "-" and text["exit_code"] == "-9"
    assert text["peak_rss"] == str(200 * MB) and text["batch_id"] == "4242"
    assert usage.cpu_efficiency == 0.8


def test_a_run_of_no_length_has_no_cpu_efficiency() -> None:
    pilot = Pilot.here(2)
    assert (
        Usage.from_measured(sample().as_dict(), realtime=0, exit_code=0, pilot=pilot).cpu_efficiency
        is None
    )
