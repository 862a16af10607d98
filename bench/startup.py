"""Start-up benchmark: how long `brownthrower` takes to be useful, beside a bare Python.

    .venv/bin/python bench/startup.py [--runs N] [--as-is] [--source DIR] [--before DIR]

In fresh processes, rounds interleaved, on a SQLite file this run creates:
- `brownthrower -u URL status`: from exec to its whole table on stdout (a pipe);
- the interactive shell: from exec to its first prompt, through a real terminal (pexpect);
- the peers, `python -c pass` through a pipe and through a terminal, in the same rounds, and
  the ratio of each figure to its peer;
- the first `status` on the new file (which creates the schema, so it imports Alembic) once;
- the heaviest packages each path imports (`-X importtime`, self time summed per package).

By default the children run as an installed brownthrower does, with compiled bytecode: a cache
in a temporary directory (`PYTHONPYCACHEPREFIX`, filled by a warm-up run), whatever
`PYTHONDONTWRITEBYTECODE` says; `--as-is` keeps the environment (with that variable set and no
`__pycache__`, every start compiles the sources again). `--source DIR` runs `bt` and `shell`
from another checkout; `--before DIR` measures another checkout too, its rounds interleaved
with these (`git worktree add /tmp/before <commit>` for a before/after in the same conditions).
Each figure is given as wall time and as the CPU time of the whole run (user + system, to its
exit), which a busy machine disturbs less. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pexpect

BROWNTHROWER = str(Path(sys.executable).with_name("brownthrower"))
PEER = [sys.executable, "-c", "pass"]
PROMPT = "(brownthrower):"  #: prompt_toolkit draws the trailing space as a cursor move
LAST_ROW = b"FAILED"  #: the last row of the `status` table
TIMEOUT = 60.0  #: seconds before a start is given up as hung
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)")


def child_env(tmp: Path, *, as_is: bool, source: Path | None) -> dict[str, str]:
    """The children's environment: no settings of the user's, a cache of bytecode, and the
    checkout to import `bt` and `shell` from (ahead of the installed one)."""
    env = {k: v for k, v in os.environ.items() if k not in ("BT_DATABASE_URL", "BT_CONFIG")}
    if source is not None:
        env["PYTHONPATH"] = str(source.resolve())
    for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        env[name] = str(tmp / name.lower())
    env["TERM"] = "xterm"
    env["PROMPT_TOOLKIT_NO_CPR"] = "1"  # pexpect does not answer cursor position requests
    if not as_is:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    return env


def to_exit(argv: Sequence[str], env: dict[str, str]) -> float:
    """Seconds from exec to exit, output to a pipe."""
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.PIPE, timeout=TIMEOUT)
    return time.perf_counter() - start


def to_output(argv: Sequence[str], env: dict[str, str], marker: bytes = LAST_ROW) -> float:
    """Seconds from exec to the line holding `marker` on stdout (a pipe)."""
    start = time.perf_counter()
    with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if marker in line:
                elapsed = time.perf_counter() - start
                break
        else:
            raise RuntimeError(f"{' '.join(argv)} printed no {marker!r}")
        process.stdout.read()
    return elapsed


def to_prompt(argv: Sequence[str], env: dict[str, str]) -> float:
    """Seconds from exec to the first prompt at a terminal; then the shell is left with quit."""
    start = time.perf_counter()
    child = pexpect.spawn(argv[0], list(argv[1:]), env=env, timeout=TIMEOUT, dimensions=(24, 80))
    child.expect_exact(PROMPT)
    elapsed = time.perf_counter() - start
    child.sendline("quit")
    child.expect(pexpect.EOF)
    child.close()
    return elapsed


def peer_at_terminal(env: dict[str, str]) -> float:
    """Seconds from exec to exit of `python -c pass` at a terminal."""
    start = time.perf_counter()
    child = pexpect.spawn(PEER[0], PEER[1:], env=env, timeout=TIMEOUT)
    child.expect(pexpect.EOF)
    elapsed = time.perf_counter() - start
    child.close()
    return elapsed


def heaviest(run: Callable[[dict[str, str]], object], env: dict[str, str], tmp: Path) -> str:
    """The packages a run imports, by their summed self import time, heaviest first."""
    log = tmp / "importtime.txt"
    run({**env, "PYTHONPROFILEIMPORTTIME": "1", "BT_BENCH_STDERR": str(log)})
    per_package: collections.Counter[str] = collections.Counter()
    for match in _IMPORT_LINE.finditer(log.read_text()):
        per_package[match[2].split(".")[0]] += int(match[1])
    total = sum(per_package.values()) / 1000
    top = ", ".join(f"{name} {us / 1000:.0f}" for name, us in per_package.most_common(14))
    return f"{total:.0f} ms of imports (inflated by -X importtime): {top}"


def with_stderr(argv: Sequence[str]) -> list[str]:
    """`argv` with its standard error in the file `$BT_BENCH_STDERR` (or kept)."""
    return ["/bin/sh", "-c", 'exec "$0" "$@" 2>"${BT_BENCH_STDERR:-/dev/stderr}"', *argv]


def shown(values: Sequence[float]) -> str:
    """`median s (min-max)`."""
    return f"{statistics.median(values):.3f} s ({min(values):.3f}-{max(values):.3f})"


def ratio(values: Sequence[float], peers: Sequence[float]) -> float:
    return statistics.median(values) / statistics.median(peers)


def with_cpu(run: Callable[[], float]) -> tuple[float, float]:
    """`run`'s seconds and the CPU seconds (user + system) of the children it waited for."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    elapsed = run()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return elapsed, cpu


class Checkout:
    """One `bt`/`shell` to measure: its environment, database and command lines."""

    def __init__(self, label: str, tmp: Path, *, as_is: bool, source: Path | None) -> None:
        tmp.mkdir()
        self.label = label
        self.env = child_env(tmp, as_is=as_is, source=source)
        self.database = tmp / "startup.db"
        self.status = with_stderr([BROWNTHROWER, "-u", f"sqlite:///{self.database}", "status"])
        self.shell = with_stderr([BROWNTHROWER, "-u", f"sqlite:///{self.database}"])
        self.tmp = tmp

    def first_use(self) -> float:
        """`status` on a new database, once the bytecode cache is warm."""
        to_output(self.status, self.env)
        for path in self.tmp.glob(f"{self.database.name}*"):
            path.unlink()
        elapsed = to_output(self.status, self.env)
        to_prompt(self.shell, self.env)
        return elapsed

    def round(self, times: dict[str, list[tuple[float, float]]]) -> None:
        """One measurement of each figure, peers included."""
        times["peer (pipe)"].append(with_cpu(lambda: to_exit(PEER, self.env)))
        times["status"].append(with_cpu(lambda: to_output(self.status, self.env)))
        times["peer (terminal)"].append(with_cpu(lambda: peer_at_terminal(self.env)))
        times["prompt"].append(with_cpu(lambda: to_prompt(self.shell, self.env)))

    def imports(self) -> tuple[str, str]:
        status = heaviest(lambda e: to_output(self.status, e), self.env, self.tmp)
        prompt = heaviest(lambda e: to_prompt(self.shell, e), self.env, self.tmp)
        return status, prompt


def report(checkout: Checkout, first: float, times: dict[str, list[tuple[float, float]]]) -> None:
    wall = {name: [w for w, _ in values] for name, values in times.items()}
    cpu = {name: [c for _, c in values] for name, values in times.items()}
    print(f"{checkout.label}:")
    print(f"  status, new database (creates the schema): {first:.3f} s")
    for name, what, peer in (
        ("status", "status to its table", "peer (pipe)"),
        ("prompt", "shell to its prompt", "peer (terminal)"),
    ):
        print(
            f"  {what}: {shown(wall[name])} wall, {ratio(wall[name], wall[peer]):.1f}x the "
            f"peer; CPU of the run {shown(cpu[name])}, {ratio(cpu[name], cpu[peer]):.1f}x"
        )
    for peer in ("peer (pipe)", "peer (terminal)"):
        print(f"  {peer}, python -c pass: {shown(wall[peer])} wall, CPU {shown(cpu[peer])}")
    status, prompt = checkout.imports()
    print(f"  status imports: {status}")
    print(f"  prompt imports: {prompt}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="rounds (default 7)")
    parser.add_argument("--as-is", action="store_true", help="keep PYTHONDONTWRITEBYTECODE")
    parser.add_argument("--source", type=Path, help="import bt and shell from this checkout")
    parser.add_argument("--before", type=Path, help="also measure this checkout, interleaved")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bt-bench-startup-") as name:
        checkouts = [Checkout(str(args.source or "installed"), Path(name) / "now",
                              as_is=args.as_is, source=args.source)]  # fmt: skip
        if args.before:
            before = Checkout(str(args.before), Path(name) / "before", as_is=args.as_is,
                              source=args.before)  # fmt: skip
            checkouts.insert(0, before)
        firsts = [checkout.first_use() for checkout in checkouts]
        times: list[dict[str, list[tuple[float, float]]]]
        times = [collections.defaultdict(list) for _ in checkouts]
        for _ in range(args.runs):
            for checkout, figures in zip(checkouts, times, strict=True):
                checkout.round(figures)
        bytecode = "as is" if args.as_is else "cached"
        print(
            f"{args.runs} rounds, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
            f"load {os.getloadavg()[0]:.2f} at the end, bytecode {bytecode}"
        )
        for checkout, first, figures in zip(checkouts, firsts, times, strict=True):
            report(checkout, first, figures)


if __name__ == "__main__":
    main()
