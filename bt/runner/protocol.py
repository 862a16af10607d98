"""What travels between the runner, the fork server and a job process: JSON, one message per line.

The runner sends a job process its `JobOrder` over a pipe; the job process answers on its control
pipe with log records, user tags and finally one result. All values are plain text and numbers, so
nothing is unpickled from task code. The fork server's reports to the runner (`started`, `exited`,
`fenced` in `bt.runner.forkserver`) are JSON objects too: an `exited` report also carries what the
run cost (`usage`: `bt.usage.measure`'s figures, and `at`, when the exit was seen); a report without
them (an older server) gives the run no figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

Message = dict[str, Any]

#: message kinds on a job's control pipe
LOG = "log"
TAG = "tag"
RESULT = "result"

MARK = "BT_RUN_MARK"  #: the environment variable marking a run's processes: `<job id>:<token>`


def encode(message: Message) -> bytes:
    """One message as a line of JSON."""
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


class LineReader:
    """Splits a byte stream into decoded messages, one per complete line."""

    def __init__(self) -> None:
        self._partial = b""

    def feed(self, data: bytes) -> list[Message]:
        """The complete messages in `data` (after what was left over); garbled lines are skipped."""
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        messages = []
        for line in lines:
            try:
                message = json.loads(line) if line else None
            except ValueError:
                continue
            if isinstance(message, dict):
                messages.append(message)
        return messages


@dataclass(frozen=True)
class JobOrder:
    """Everything a job process needs to run one phase of one job."""

    job_id: int
    task: str
    attempt: int
    epilog: bool
    config: str | None
    input: str | None
    parents: list[tuple[int, str, str | None]]
    subjobs: list[tuple[int, str, str | None]]
    work_dir: str
    environ: dict[str, str] = field(default_factory=dict)
    profile: str | None = None  #: where to dump cProfile stats, if profiling
    pdb: bool = False  #: post-mortem on the terminal on an exception in task code
    debugpy: str | None = None  #: "host:port" to listen on for a remote debugger

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__).encode()

    @classmethod
    def from_json(cls, data: bytes) -> JobOrder:
        raw = json.loads(data)
        raw["parents"] = [tuple(p) for p in raw["parents"]]
        raw["subjobs"] = [tuple(s) for s in raw["subjobs"]]
        return cls(**raw)
