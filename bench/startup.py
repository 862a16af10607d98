"""Start-up benchmark: how long `brownthrower` takes to be useful, beside a bare Python.

    .venv/bin/python bench/startup.py [--runs N] [--as-is] [--source DIR]

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
from another checkout, e.g. `git worktree add /tmp/before <commit>` for a before/after in the
same conditions. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
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


def ratio(values: Sequence[float], peers: Sequence[float]) -> str:
    return f"{statistics.median(values) / statistics.median(peers):.1f}x the peer"


def measure(runs: int, env: dict[str, str], url: str) -> dict[str, list[float]]:
    """`runs` interleaved rounds of every figure."""
    status = with_stderr([BROWNTHROWER, "-u", url, "status"])
    shell = with_stderr([BROWNTHROWER, "-u", url])
    times: dict[str, list[float]] = collections.defaultdict(list)
    for _ in range(runs):
        times["peer (pipe)"].append(to_exit(PEER, env))
        times["status"].append(to_output(status, env))
        times["peer (terminal)"].append(peer_at_terminal(env))
        times["prompt"].append(to_prompt(shell, env))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="rounds (default 7)")
    parser.add_argument("--as-is", action="store_true", help="keep PYTHONDONTWRITEBYTECODE")
    parser.add_argument("--source", type=Path, help="import bt and shell from this checkout")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bt-bench-startup-") as name:
        tmp = Path(name)
        env = child_env(tmp, as_is=args.as_is, source=args.source)
        url = f"sqlite:///{tmp / 'startup.db'}"
        status = with_stderr([BROWNTHROWER, "-u", url, "status"])
        shell = with_stderr([BROWNTHROWER, "-u", url])
        database = Path(url.removeprefix("sqlite:///"))
        to_output(status, env)  # warm-up: creates the schema, compiles the bytecode cache
        for path in database.parent.glob(f"{database.name}*"):
            path.unlink()
        first = to_output(status, env)
        to_prompt(shell, env)
        times = measure(args.runs, env, url)
        bytecode = "as is" if args.as_is else "cached"
        print(
            f"{args.source or 'installed'}: {args.runs} rounds, Python {sys.version.split()[0]}, "
            f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, bytecode {bytecode}"
        )
        print(f"  status, new database (creates the schema): {first:.3f} s")
        print(
            f"  status to its table:  {shown(times['status'])}, "
            f"{ratio(times['status'], times['peer (pipe)'])}"
        )
        print(
            f"  shell to its prompt:  {shown(times['prompt'])}, "
            f"{ratio(times['prompt'], times['peer (terminal)'])}"
        )
        print(
            f"  peer python -c pass:  {shown(times['peer (pipe)'])} (pipe), "
            f"{shown(times['peer (terminal)'])} (terminal)"
        )
        print(f"  status imports: {heaviest(lambda e: to_output(status, e), env, tmp)}")
        print(f"  prompt imports: {heaviest(lambda e: to_prompt(shell, e), env, tmp)}")


if __name__ == "__main__":
    main()
