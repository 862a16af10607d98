"""A scripted `$EDITOR` for tests: `python fake_editor.py FILE`, steered by a JSON plan.

The plan (path in $FAKE_EDITOR_PLAN) is a list of steps, one per editor run: {"body": text}
replaces what follows the marker line, {"append": text} adds to the end, {"keep": true} saves
unchanged, {"exit": n} fails, and {"run": argv} first runs a program (e.g. another client
changing the job). Each run saves the text it was given as <plan>.seen.<n>.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

MARKER_START = "# ---- everything above this line"


def main() -> int:
    plan_path = Path(os.environ["FAKE_EDITOR_PLAN"])
    steps = json.loads(plan_path.read_text())
    counter = plan_path.with_suffix(".count")
    run = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(run + 1))
    step = steps[min(run, len(steps) - 1)]
    target = Path(sys.argv[1])
    text = target.read_text()
    plan_path.with_name(f"{plan_path.name}.seen.{run}").write_text(text)
    if "run" in step:
        subprocess.run(step["run"], check=True)
    if "exit" in step:
        return int(step["exit"])
    if "body" in step:
        lines = text.splitlines(keepends=True)
        cut = next(i for i, line in enumerate(lines) if line.startswith(MARKER_START))
        text = "".join(lines[: cut + 1]) + step["body"]
    if "append" in step:
        text += step["append"]
    target.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
