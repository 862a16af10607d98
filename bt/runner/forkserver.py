"""The fork server: a warm, single-threaded process that forks one job process per job.

The runner starts it first thing, before any thread or database connection exists, as a lean
interpreter (`python -P -m bt.runner.forkserver`: a `bt` in the current directory cannot replace
the package) that imports the task plugins but not SQLAlchemy or psycopg, in an environment
without the database password (`bt.runner.environ`): a job then starts with one cheap `fork()` of
a small, warm, single-threaded process (about 1 ms) rather than a fresh interpreter (hundreds of
ms), and never by forking the threaded runner. The server is a child subreaper: it reaps every
job process and anything they orphan, kills what is left in a job's process group when the job
process exits, and reports each exit status to the runner with what the run cost (`bt.usage`,
measured from the exited process before it is reaped). When the runner goes away — even by
kill -9 — it kills every job and exits.

The server also enforces the runner's lease, since the runner's own threads stop with it (SIGSTOP,
a swapping node): the runner's heartbeat tells it after each renewal until when its jobs may run
(`renew`); once that moment passes without a renewal, it SIGKILLs every job process group,
reports them `fenced`, and kills whatever it forks until the next renewal.

Runner and server talk over a SOCK_SEQPACKET socket pair: one JSON message per packet, the job's
pipe ends passed along with the spawn request as SCM_RIGHTS file descriptors.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import NoReturn

from bt import usage
from bt.runner import osutil
from bt.runner.protocol import Message

log = logging.getLogger(__name__)

STARTED = "started"  #: the job process exists: key, pid
#: the job process ended: key, pid, code (negative: killed by that signal), `usage` (what
#: `bt.usage.measure` measured) and `at` (`osutil.clock()` when it was seen exited)
EXITED = "exited"
FENCED = "fenced"  #: the lease lapsed: the processes of these keys were killed
SPAWN = "spawn"  #: the runner asks for a job process: key, own_group (and its fds)
LEASE = "lease"  #: the runner renewed its lease: its jobs may run `until` (`osutil.clock()`)
MAX_PACKET = 1 << 16

JobMain = Callable[[list[int], Message], NoReturn]


class ForkServerGone(Exception):
    """The fork server died; the runner cannot start jobs any more."""


class ForkServer:
    """The runner's handle on its fork server."""

    def __init__(self, process: subprocess.Popen[bytes], sock: socket.socket) -> None:
        self.process = process
        self.pid = process.pid
        self._sock = sock
        self._lock = threading.Lock()  #: the heartbeat thread renews while the loop spawns

    @classmethod
    def start(
        cls,
        tasks: Sequence[str] | Mapping[str, str],
        timeout: float = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> ForkServer:
        """Start the server with `tasks` imported, in `env` (default: the runner's environment)
        without secrets; returns once it is ready to fork jobs. `tasks` are names, or a mapping
        of names to the `module:attr` targets the runner's registry resolved."""
        from bt.runner.environ import server_environment
        from bt.runner.tasktable import encode

        targets = tasks if isinstance(tasks, Mapping) else _targets(tasks)

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        command = [sys.executable, "-P", "-m", "bt.runner.forkserver", str(theirs.fileno())]
        process = subprocess.Popen(
            [*command, *encode(targets)],
            pass_fds=[theirs.fileno()],
            close_fds=True,
            env=server_environment(env),
        )
        theirs.close()
        server = cls(process, ours)
        ours.settimeout(timeout)
        try:
            ready = ours.recv(MAX_PACKET)
        except OSError as exc:
            server.stop()
            raise ForkServerGone(f"the fork server did not start: {exc}") from exc
        ours.settimeout(None)
        if not ready:
            server.stop()
            raise ForkServerGone("the fork server exited while importing the task plugins")
        return server

    def fileno(self) -> int:
        return self._sock.fileno()

    def spawn(self, key: int, fds: Sequence[int], *, own_group: bool) -> None:
        """Ask for a job process that gets `fds` (order, control[, stdout, stderr])."""
        request = {"op": SPAWN, "key": key, "own_group": own_group}
        try:
            with self._lock:
                socket.send_fds(self._sock, [json.dumps(request).encode()], list(fds))
        except OSError as exc:
            raise ForkServerGone(f"the fork server is gone: {exc}") from exc

    def renew(self, until: float) -> None:
        """Let the jobs run until `until` (`osutil.clock()`); a gone server is ignored (the runner
        learns of it from `receive`)."""
        with self._lock:
            if self._sock.fileno() >= 0:
                with contextlib.suppress(OSError):
                    self._sock.send(json.dumps({"op": LEASE, "until": until}).encode())

    def receive(self) -> list[Message]:
        """The messages waiting from the server; `ForkServerGone` when it has exited."""
        messages: list[Message] = []
        while True:
            try:
                data = self._sock.recv(MAX_PACKET, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return messages
            except OSError as exc:
                raise ForkServerGone(f"the fork server is gone: {exc}") from exc
            if not data:
                raise ForkServerGone("the fork server exited")
            messages.append(json.loads(data))

    def stop(self, timeout: float = 3.0) -> None:
        """Close the connection (the server kills remaining jobs and exits) and reap it."""
        with self._lock:
            self._sock.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class _Server:
    """The fork server's own loop (runs in the forked server process)."""

    def __init__(self, sock: socket.socket, job_main: JobMain) -> None:
        self.sock = sock
        self.job_main = job_main
        self.children: dict[int, tuple[int, bool]] = {}  #: pid -> (key, own process group)
        self.wake_r, self.wake_w = os.pipe()
        self.fence_at: float | None = None  #: when the jobs must be dead without a renewal
        self.fenced: set[int] = set()  #: pids killed (and reported) since the lease lapsed

    def serve(self) -> None:
        self._send({"op": "ready", "pid": os.getpid()})
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w, warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        osutil.become_subreaper()
        gc.freeze()  # keep the warm heap shared: the collector won't touch these pages in jobs
        selector = selectors.DefaultSelector()
        selector.register(self.sock, selectors.EVENT_READ)
        selector.register(self.wake_r, selectors.EVENT_READ)
        try:
            while self._serve_once(selector):
                pass
        finally:
            self._kill_all()

    def _serve_once(self, selector: selectors.BaseSelector) -> bool:
        for key, _ in selector.select(self._until_fence()):
            if key.fileobj is self.sock and not self._on_request():
                return False
            if key.fileobj == self.wake_r:
                _drain(self.wake_r)
        return self._fence() and self._reap()

    def _until_fence(self) -> float | None:
        """Seconds until the lease lapses; None (wait for a request) if it has or is unknown."""
        if self.fence_at is None or self.fenced_now():
            return None
        return max(0.0, self.fence_at - osutil.clock())

    def fenced_now(self) -> bool:
        return self.fence_at is not None and osutil.clock() >= self.fence_at

    def _fence(self) -> bool:
        """Once the lease has lapsed, SIGKILL every job (also those forked since) and say so."""
        if not self.fenced_now():
            self.fenced.clear()
            return True
        keys = []
        for pid, (key, group) in self.children.items():
            if pid not in self.fenced:
                osutil.signal_job(pid, signal.SIGKILL, group=group)
                self.fenced.add(pid)
                keys.append(key)
        return not keys or self._send({"op": FENCED, "keys": keys})

    def _on_request(self) -> bool:
        try:
            data, fds, _flags, _addr = socket.recv_fds(self.sock, MAX_PACKET, 8)
        except OSError:
            return False
        if not data:
            return False
        request = json.loads(data)
        if request["op"] == LEASE:
            self.fence_at = float(request["until"])
            return True
        pid = os.fork()
        if pid == 0:
            self._become_job(fds, request)
        for fd in fds:
            os.close(fd)
        self.children[pid] = (request["key"], request["own_group"])
        return self._send({"op": STARTED, "key": request["key"], "pid": pid})

    def _become_job(self, fds: list[int], request: Message) -> NoReturn:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        self.sock.close()
        os.close(self.wake_r)
        os.close(self.wake_w)
        try:
            self.job_main(fds, request)
        finally:
            os._exit(70)

    def _reap(self) -> bool:
        """Reap every ended child; report ours. False when the runner is gone."""
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return True
            if info is None:
                return True
            at = osutil.clock()
            known = self.children.pop(info.si_pid, None)
            self.fenced.discard(info.si_pid)
            if known is None:  # an orphan adopted as subreaper: its usage escapes accounting
                os.waitpid(info.si_pid, 0)
                continue
            if known[1]:
                # the job process is a zombie: its pid, hence its group id, cannot be reused yet
                osutil.signal_job(info.si_pid, signal.SIGKILL, group=True)
            status, measured = usage.measure(info.si_pid)  # reads /proc/PID/io, then reaps
            code = os.waitstatus_to_exitcode(status)
            exited = {"op": EXITED, "key": known[0], "pid": info.si_pid, "code": code}
            if not self._send({**exited, "usage": measured, "at": at}):
                return False

    def _send(self, message: Message) -> bool:
        try:
            self.sock.send(json.dumps(message).encode())
        except OSError:
            return False
        return True

    def _kill_all(self) -> None:
        for pid, (_key, group) in self.children.items():
            osutil.signal_job(pid, signal.SIGKILL, group=group)


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass


def _targets(names: Sequence[str]) -> dict[str, str]:
    from bt.registry import TaskRegistry

    registry = TaskRegistry()
    return {name: registry.entry(name).target for name in names}


def main(argv: Sequence[str]) -> None:
    """The server process: import the tasks given on the command line (`name=module:attr`),
    then serve."""
    from bt.runner.jobprocess import LOG_FORMAT, job_main, prepare
    from bt.runner.tasktable import TaskTable, decode

    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT)
    sock = socket.socket(fileno=int(argv[0]))
    table = TaskTable(decode(list(argv[1:])))
    prepare(list(decode(list(argv[1:]))))
    _Server(sock, lambda fds, request: job_main(table, fds, request)).serve()


if __name__ == "__main__":
    main(sys.argv[1:])
