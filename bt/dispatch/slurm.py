"""The `slurm` backend: pilots are batch jobs, driven through Slurm's own commands.

`sbatch --parsable` submits the rendered script on its standard input (no file to leak or clean
up), `squeue --states=all` filtered by the pilot job name and the user lists this dispatcher's
pilots (recently ended ones included, for as long as Slurm keeps them), `scancel` stops one, and
`scontrol show job` explains a failure. The environment, which carries the database URL, is
exported to the job by `--export=ALL`.

A plain `scancel` sends SIGTERM to every process of the job, the runner's job processes
included, which would fail the jobs it runs. So a running pilot is cancelled in two steps, like
the local backend: SIGTERM to the batch shell only (the runner, which hands its jobs back and
exits), then a plain `scancel` if the pilot is still there `kill_wait` seconds later.
"""

from __future__ import annotations

import contextlib
import getpass
import re
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from bt.dispatch.backend import FAILED_STATES, AtCapacity, BatchError, Pilot
from bt.dispatch.script import child_environment, render_script
from bt.errors import ConfigError

TIMEOUT = 60.0  #: seconds any Slurm command may take before it counts as failed
FORMAT = "%i|%T|%r|%M"  #: squeue columns: job id, state, reason, time used
ENDED_ALREADY = "already completing or completed"
WALLTIME_NOTICE = 120  #: seconds before the time limit when the runner is asked to stop
_SAFE = re.compile(r"^[\w.,:=/@%+-]+$")
#: sbatch refusals that mean "too many jobs already" (a user's or a QOS's submit limit, the
#: controller's MaxJobCount): the target is full, which is not a failure of the pilot command
_QUOTA = re.compile(r"MaxSubmitJob|submit limit|temporarily unable to accept job", re.IGNORECASE)


class SlurmBackend:
    """Pilots as Slurm batch jobs named after the dispatcher."""

    def __init__(
        self,
        pilot_name: str,
        *,
        log_dir: Path,
        work_dir: Path,
        partition: str | None = None,
        time_limit: str | None = None,
        sbatch_args: Sequence[str] = (),
        kill_wait: float = 60.0,
    ) -> None:
        self.pilot_name = pilot_name
        self.log_dir = log_dir
        self.work_dir = work_dir
        self.partition = partition
        self.time_limit = time_limit
        self.sbatch_args = list(sbatch_args)
        self.kill_wait = kill_wait  #: seconds from the runner's SIGTERM to a plain scancel
        self.user = getpass.getuser()
        parts = [f"slurm, partition {partition or '(default)'}"]
        if time_limit:
            parts.append(f"time limit {time_limit}")
        if self.sbatch_args:
            parts.append("sbatch " + " ".join(self.sbatch_args))
        self.description = ", ".join(parts)
        self._explained: dict[str, str] = {}
        self._terminating: dict[str, float] = {}  #: batch id -> when the runner got SIGTERM
        self.directives()  # refuse unusable values now, not at the first submission

    def directives(self) -> list[str]:
        """The `#SBATCH` lines of every pilot of this dispatcher."""
        options = {
            "job-name": self.pilot_name,
            "comment": f"brownthrower-dispatcher:{self.pilot_name}",
            "output": str(self.log_dir / "pilot-%j.out"),
            "chdir": str(self.work_dir),
            "export": "ALL",
            "partition": self.partition,
            "time": self.time_limit,
            # Before the walltime kill (SIGTERM to every process), SIGTERM the runner alone so
            # it hands its jobs back in time.
            "signal": f"B:TERM@{WALLTIME_NOTICE}" if self.time_limit else None,
        }
        for name, value in options.items():
            if value is not None and not _SAFE.match(value):
                raise ConfigError(f"Unusable value for sbatch --{name}: {value!r}")
        return [f"#SBATCH --{name}={value}" for name, value in options.items() if value]

    def script(self, command: Sequence[str]) -> str:
        """The batch script a pilot runs."""
        return render_script(command, dispatcher=self.pilot_name, directives=self.directives())

    def submit(self, command: Sequence[str], env: Mapping[str, str]) -> str:
        """`sbatch --parsable` the pilot script; the Slurm job id."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            out = self._run(
                ["sbatch", "--parsable", *self.sbatch_args],
                stdin=self.script(command),
                env=child_environment(dict(env)),
            )
        except BatchError as exc:
            if is_quota(str(exc)):
                raise AtCapacity(str(exc)) from exc
            raise
        job_id = out.strip().split(";")[0]
        if not job_id.isdigit():
            raise BatchError(f"sbatch answered {out.strip()!r} instead of a job id.")
        return job_id

    def status(self) -> list[Pilot]:
        """This dispatcher's jobs in `squeue` (all states Slurm still remembers)."""
        pilots = self._squeue("-n", self.pilot_name)
        self._enforce_cancels(pilots)
        return [self._explain(p) if p.state in FAILED_STATES else p for p in pilots]

    def cancel(self, batch_id: str) -> None:
        """Stop a pilot: SIGTERM to its runner alone if it runs (`scancel --batch`), else
        `scancel`; a runner still there after `kill_wait` seconds gets a plain `scancel`."""
        if not batch_id.isdigit():
            raise BatchError(f"Not a Slurm job id: {batch_id!r}")
        found = self._squeue("-j", batch_id)
        try:
            if found and found[0].state == "RUNNING":
                self._run(["scancel", "--verbose", "--batch", "--signal=TERM", batch_id])
                self._terminating[batch_id] = time.monotonic()
            else:
                self._run(["scancel", "--verbose", batch_id])
        except BatchError as exc:
            if ENDED_ALREADY not in str(exc):  # it ended meanwhile: what cancel wanted
                raise

    def log(self, batch_id: str) -> Path:
        """The pilot's output file (`--output`, stdout and stderr)."""
        return self.log_dir / f"pilot-{batch_id}.out"

    def _squeue(self, *selection: str) -> list[Pilot]:
        out = self._run(["squeue", "-h", "--states=all", "-u", self.user, *selection, "-o", FORMAT])
        return [_parse_line(line) for line in out.splitlines() if line.strip()]

    def _enforce_cancels(self, pilots: list[Pilot]) -> None:
        live = {p.batch_id for p in pilots if p.live}
        for batch_id, since in list(self._terminating.items()):
            if batch_id not in live:
                del self._terminating[batch_id]
            elif time.monotonic() - since > self.kill_wait:
                del self._terminating[batch_id]
                with contextlib.suppress(BatchError):
                    self._run(["scancel", "--verbose", batch_id])

    def _explain(self, pilot: Pilot) -> Pilot:
        """A failed pilot's reason with its exit code, from `scontrol show job` (asked once)."""
        if pilot.batch_id not in self._explained:
            try:
                out = self._run(["scontrol", "show", "job", "-o", pilot.batch_id])
            except BatchError:
                out = ""
            code = re.search(r"\bExitCode=(\S+)", out)
            detail = f"exit code {code.group(1)}" if code else ""
            self._explained[pilot.batch_id] = ", ".join(x for x in (pilot.reason, detail) if x)
        return Pilot(pilot.batch_id, pilot.state, self._explained[pilot.batch_id], pilot.elapsed)

    def _run(
        self, argv: list[str], *, stdin: str | None = None, env: dict[str, str] | None = None
    ) -> str:
        try:
            done = subprocess.run(
                argv,
                check=False,
                input=stdin,
                env=env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BatchError(f"{argv[0]} failed: {exc}") from exc
        errors = [line for line in done.stderr.splitlines() if "error:" in line]
        if done.returncode != 0 or errors:  # scancel reports errors with exit code 0
            message = errors or (done.stderr.strip() or done.stdout.strip()).splitlines()
            raise BatchError(
                f"{argv[0]} failed (exit {done.returncode}): {message[-1] if message else ''}"
            )
        return done.stdout


def is_quota(message: str) -> bool:
    """Whether an sbatch error says a submit limit is reached (at capacity, not broken)."""
    return bool(_QUOTA.search(message))


def _parse_line(line: str) -> Pilot:
    batch_id, state, reason, used = ([*line.split("|"), "", "", ""])[:4]
    reason = "" if reason in ("None", "(null)") else reason
    state = state.strip().split()[0] if state.strip() else "UNKNOWN"
    return Pilot(batch_id.strip(), state, reason, _seconds(used.strip()))


def _seconds(used: str) -> float | None:
    """Seconds of a Slurm duration: `[days-][hours:]minutes:seconds` (None if not one)."""
    days, _, clock = used.rpartition("-")
    parts = clock.split(":")
    if (
        not all(p.isdigit() for p in parts)
        or not 2 <= len(parts) <= 3
        or not (days == "" or days.isdigit())
    ):
        return None
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + int(part)
    return float(seconds + int(days or 0) * 86400)
