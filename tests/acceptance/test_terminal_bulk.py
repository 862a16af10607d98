"""At a terminal: a bulk command's refusals print above its progress bar, never on its line."""

from __future__ import annotations

import io
import re

import pexpect

from bt import Brownthrower
from tests.acceptance.conftest import PROMPT
from tests.factories import job

CODES = r"\x1b\[[0-9;?]*[A-Za-z]"  #: colours and cursor moves


def test_bulk_refusals_print_above_the_progress_bar(
    terminal: pexpect.spawn, client: Brownthrower
) -> None:
    for _ in range(101):
        job(client, "noop", submit=True)  # QUEUED jobs cannot be removed
    seen = io.StringIO()
    terminal.logfile_read = seen
    terminal.sendline("job remove 1-101 --yes")
    terminal.expect("removed 0, refused 101")
    terminal.expect(PROMPT)
    lines = re.split(r"[\r\n]+", seen.getvalue())
    refusals = [re.sub(CODES, "", line) for line in lines if "cannot be removed" in line]
    assert len(refusals) == 101
    assert all(line.startswith("ERROR: Job ") for line in refusals)
