"""At a terminal: TAB on job ids never types an id nobody chose."""

from __future__ import annotations

import pexpect

from bt import Brownthrower, Status
from tests.acceptance.conftest import PROMPT
from tests.factories import job


def test_tab_does_not_type_the_shared_start_of_several_ids(
    terminal: pexpect.spawn, client: Brownthrower
) -> None:
    for _ in range(19):
        job(client, "noop")
    for job_id in range(2, 10):
        client.jobs.remove(job_id)  # left: 1 and 10-19, which all start with `1`
    terminal.send("job submit \t")
    terminal.expect("19")  # the candidates are offered
    terminal.send("\r")
    terminal.expect("usage: job submit")
    terminal.expect(PROMPT)
    assert client.jobs.info(1).status is Status.STASHED
