"""`bt-runner` as a user meets it: help, debugging on the terminal, what crosses the pipes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from bt import Brownthrower, Status, errors, yamlio
from bt.runner import jobprocess
from bt.runner.capture import HeadTail
from bt.runner.protocol import JobOrder, LineReader, encode
from bt.tagnames import NAME_LENGTH
from tests.runner.conftest import Runners, status, submit

OPTIONS = (
    "--database-url", "--verbose", "--version", "--tasks", "--slots", "--job", "--loop",
    "--submit", "--log-dir", "--work-dir", "--lease", "--grace", "--poll", "--pdb",
    "--debugpy", "--profile",
)  # fmt: skip


def test_help_documents_every_option() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "bt.cli.runner", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert all(option in shown for option in OPTIONS)


def test_pdb_opens_a_post_mortem_on_the_terminal(app: Brownthrower, runners: Runners) -> None:
    job = submit(app, "raiser")
    command = runners.command("--pdb", "--job", str(job))
    child = pexpect.spawn(command[0], command[1:], encoding="utf-8", timeout=60)
    child.expect_exact("ValueError: boom")
    child.expect_exact("(Pdb)")
    child.sendline("q")
    child.expect(pexpect.EOF)
    child.close()
    assert status(app, job) is Status.FAILED


def test_head_tail_keeps_both_ends_of_a_long_text() -> None:
    text = HeadTail(head=3, tail=4)
    for chunk in ("ab", "cdefg", "hij"):
        text.add(chunk)
    assert text.render().startswith("abc\n[... 3 characters omitted")
    assert text.render().endswith("ghij")


def test_control_lines_are_decoded_whole() -> None:
    reader = LineReader()
    data = encode({"k": "log", "text": "a\nb"}) + encode({"k": "tag"})
    assert reader.feed(data[:5]) == []
    assert reader.feed(data[5:]) == [{"k": "log", "text": "a\nb"}, {"k": "tag"}]


def test_a_job_order_survives_the_pipe() -> None:
    order = JobOrder(1, "add2", 2, True, "a: 1\n", None, [(3, "x", "4\n")], [], "/w", {"A": "b"})
    assert JobOrder.from_json(order.to_json()) == order


def test_job_processes_refuse_tag_names_longer_than_the_database_holds() -> None:
    read, write = os.pipe()
    control = jobprocess.ControlPipe(write)
    control.tag("x" * NAME_LENGTH, "fits")
    with pytest.raises(errors.InvalidValue, match=f"1 to {NAME_LENGTH} printable"):
        control.tag("x" * (NAME_LENGTH + 1), "too long")
    os.close(read)
    os.close(write)


def test_the_fork_server_does_not_load_the_database_layer() -> None:
    from bt.runner.forkserver import ForkServer

    server = ForkServer.start(["noop", "sum4"])
    try:
        maps = Path(f"/proc/{server.pid}/maps").read_text()
    finally:
        server.stop()
    assert "sqlalchemy" not in maps and "psycopg" not in maps


def test_a_job_process_does_not_load_the_database_layer(
    app: Brownthrower, runners: Runners
) -> None:
    job = submit(app, "lean")
    runners.run("--job", str(job))
    assert yamlio.parse(app.jobs.get(job).output) == []


def test_a_garbled_control_line_is_skipped() -> None:
    assert LineReader().feed(b'{"k": "lo\n{"k": "tag"}\n') == [{"k": "tag"}]
