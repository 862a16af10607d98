"""The job process: what runs between the fork server's fork() and os._exit().

It isolates itself (own session and process group, own working directory, the documented
environment, stdout/stderr on the runner's pipes, Python logging on its control pipe), reads its
`JobOrder`, runs the task's phase and reports the result on the control pipe. It never touches
the database: the runner writes everything.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, NoReturn

from bt import tagnames, yamlio
from bt.runner import osutil
from bt.runner.phases import Terminated, execute, failure
from bt.runner.protocol import LOG, MARK, RESULT, TAG, JobOrder, Message, encode
from bt.runner.tasktable import TaskTable
from bt.task import JobOutput, TaskContext

EXIT_FAILED = 1  #: the exit status of a job process whose phase failed
EXIT_TERMINATED = -signal.SIGTERM  #: a terminated job process dies by SIGTERM once it reported
LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class ControlPipe:
    """The job's end of its control pipe: log records, tags and the result, one line each."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._lock = threading.Lock()

    def send(self, message: Message) -> None:
        data = memoryview(encode(message))
        with self._lock:
            while data:
                data = data[os.write(self.fd, data) :]

    def tag(self, name: str, value: str) -> None:
        """The `TaskContext.tag` sink: checked here, so task code gets the error."""
        tagnames.check_name(name)
        yamlio.check_size(value, yamlio.MAX_TAG_BYTES, f"value of tag {name!r}")
        self.send({"k": TAG, "name": name, "value": value})


class ControlHandler(logging.Handler):
    """Sends the job's Python logging to the runner (the `bt_log` tag and the .log file)."""

    def __init__(self, control: ControlPipe) -> None:
        super().__init__()
        self.control = control
        self.setFormatter(logging.Formatter(LOG_FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.control.send({"k": LOG, "text": self.format(record) + "\n"})
        except Terminated:
            raise
        except Exception:  # noqa: BLE001 - logging must never break the job
            self.handleError(record)


#: built when the fork server imports this module, so each job only sets the pipe's fd
_CONTROL = ControlPipe(-1)
_HANDLER = ControlHandler(_CONTROL)


def prepare(tasks: list[str]) -> None:
    """Warm the fork server for its jobs: what every job would otherwise build again after its
    fork (each object a job touches costs it copied memory pages)."""
    import faulthandler

    faulthandler.enable(file=sys.stderr)  # fd 2, which each job points at its own stderr
    for name in tasks:
        logging.getLogger(f"bt.task.{name}")
    osutil.own_areas()


def job_main(registry: TaskTable, fds: list[int], request: Message) -> NoReturn:
    """Entry point of a job process (called by the fork server in the forked child)."""
    order_fd, ctl_fd, *streams = fds
    isolate(streams, own_group=bool(request["own_group"]))
    control = _CONTROL
    control.fd = ctl_fd
    code = 0
    try:
        data = read_all(order_fd)
        if not data:  # a spare process the runner no longer needs
            os._exit(0)
        order = JobOrder.from_json(data)
        enter(order)
        result = run(registry, order, control)
    except Terminated:
        result, code = {"k": RESULT, "terminated": True}, EXIT_TERMINATED
    except BaseException as exc:  # noqa: BLE001 - report whatever went wrong
        result = failure(exc)
    finish(control, result, code or (0 if result.get("ok") else EXIT_FAILED))


def isolate(streams: list[int], *, own_group: bool) -> None:
    """Own session and process group, killed with the fork server, stdio on the runner's pipes."""
    if own_group:
        os.setsid()
    osutil.die_with_parent()
    signal.signal(signal.SIGTERM, _on_sigterm)
    if streams:
        out, err = streams
        devnull = os.open(os.devnull, os.O_RDONLY)
        for source, target in ((devnull, 0), (out, 1), (err, 2)):
            os.dup2(source, target)
            os.close(source)
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True)  # type: ignore[union-attr]


def _on_sigterm(_signum: int, _frame: Any) -> None:
    raise Terminated


def read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks)


def enter(order: JobOrder) -> None:
    """The documented environment (the run's mark also where /proc shows it), the working
    directory, and logging to the control pipe."""
    osutil.set_initial_env(MARK, order.environ.get(MARK, ""))
    os.environ.update(order.environ)
    try:
        os.chdir(order.work_dir)  # the runner creates it when it claims ahead
    except FileNotFoundError:
        Path(order.work_dir).mkdir(parents=True, exist_ok=True)
        os.chdir(order.work_dir)
    root = logging.getLogger()
    root.handlers = [_HANDLER]
    root.setLevel(logging.INFO)
    if order.debugpy:
        wait_for_debugger(order.debugpy)


def wait_for_debugger(address: str) -> None:
    """Listen for a remote debugger (debugpy, the `debug` extra) and wait until it attaches."""
    import debugpy

    host, _, port = address.rpartition(":")
    debugpy.listen((host or "127.0.0.1", int(port)))
    logging.getLogger("bt.runner").warning("debugpy_waiting address=%s", address)
    debugpy.wait_for_client()


def run(registry: TaskTable, order: JobOrder, control: ControlPipe) -> Message:
    """Build the task's context and run its phase."""
    task = registry.get(order.task)()
    ctx = TaskContext(
        job_id=order.job_id,
        task=order.task,
        config=yamlio.parse(order.config, what="config"),
        input=yamlio.parse(order.input, what="input"),
        parents=[_job_output(p, "parent") for p in order.parents],
        subjobs=[_job_output(s, "subjob") for s in order.subjobs],
        work_dir=Path(order.work_dir),
        logger=logging.getLogger(f"bt.task.{order.task}"),
        tag_sink=control.tag,
    )
    return execute(task, ctx, order)


def _job_output(row: tuple[int, str, str | None], what: str) -> JobOutput:
    job_id, name, output = row
    return JobOutput(job_id, name, yamlio.parse(output, what=f"output of {what} {job_id}"))


def finish(control: ControlPipe, result: Message, code: int) -> NoReturn:
    """Report, flush and exit at once with `code` (negative: die by that signal, as the exit
    status should say). The runner removes the working directory if it was left empty."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        control.send(result)
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001 - the runner sees the exit status instead
        code = code or 1
    if code < 0:
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code if code >= 0 else 128 - code)
