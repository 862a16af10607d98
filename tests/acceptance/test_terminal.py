"""A person at a terminal: prompt, TAB completion, the editor, Ctrl-C, quit."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pexpect

from bt import Brownthrower
from tests.acceptance.conftest import FAKE_EDITOR, PROGRAM, PROMPT, STARTUP_TIMEOUT, spawn
from tests.factories import claim, job, run_next, runner, superjob

CODES = r"\x1b\[[0-9;?]*[A-Za-z]"  #: colours and cursor moves


def words(*parts: str) -> str:
    """A pattern for words on one line, with colours and cursor moves between them."""
    gap = r"(?:\s|\x1b\[[0-9;?]*[A-Za-z])*"
    return gap.join(re.escape(part) for part in parts)


def test_prompt_then_quit_exits_zero(plain_terminal: pexpect.spawn) -> None:
    plain_terminal.sendline("quit")
    plain_terminal.expect(pexpect.EOF)
    plain_terminal.close()
    assert plain_terminal.exitstatus == 0


def test_end_of_input_exits(plain_terminal: pexpect.spawn) -> None:
    plain_terminal.sendeof()
    plain_terminal.expect(pexpect.EOF)


def test_tab_completes_a_command(plain_terminal: pexpect.spawn) -> None:
    plain_terminal.send("shortc\t")
    plain_terminal.expect("uts")  # the completed rest of the word
    plain_terminal.send("\r")
    plain_terminal.expect("Shortcuts for other commands")
    plain_terminal.expect(PROMPT)


def test_tab_completes_a_task_name(terminal: pexpect.spawn, client: Brownthrower) -> None:
    terminal.send("job create su\t")
    terminal.expect("m4")
    terminal.send("\r")
    terminal.expect("A new job for task 'sum4' with id 1 has been created")
    terminal.expect(PROMPT)
    assert client.jobs.info(1).name == "sum4"


def test_tab_completes_a_job_id(terminal: pexpect.spawn, client: Brownthrower) -> None:
    for _ in range(11):
        job(client, "noop")
    terminal.send("job submit 1\t")
    terminal.expect("11")
    terminal.expect("STASHED noop")  # the menu shows status and name beside each id
    terminal.send("1\t")
    terminal.expect("1 ")
    terminal.send("\r")
    terminal.expect("Job 11 has been submitted")
    terminal.expect(PROMPT)


def test_ctrl_c_at_the_prompt_clears_the_line(plain_terminal: pexpect.spawn) -> None:
    plain_terminal.send("job li")
    plain_terminal.send("\x03")
    plain_terminal.expect(PROMPT)
    plain_terminal.sendline("quit")
    plain_terminal.expect(pexpect.EOF)
    plain_terminal.close()
    assert plain_terminal.exitstatus == 0


def test_ctrl_c_stops_a_long_command(terminal: pexpect.spawn, client: Brownthrower) -> None:
    job_id = job(client, "noop", submit=True)
    terminal.sendline(f"job wait {job_id}")
    terminal.expect(r"jobs\b.*?0/1")  # the progress bar
    terminal.send("\x03")
    terminal.expect("Interrupted.")
    terminal.expect(PROMPT)


def test_errors_are_one_line_and_the_shell_goes_on(terminal: pexpect.spawn) -> None:
    terminal.sendline("job show 404")
    terminal.expect("Job 404 does not exist.")
    terminal.expect(PROMPT)
    terminal.sendline("status")
    terminal.expect("RUNNABLE")


def edit_session(
    env: dict[str, str], tmp_path: Path, steps: list[dict[str, object]]
) -> pexpect.spawn:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(steps))
    editor_env = {**env, "EDITOR": f"{sys.executable} {FAKE_EDITOR}", "FAKE_EDITOR_PLAN": str(plan)}
    return spawn(editor_env)


def test_edit_with_invalid_yaml_returns_to_the_editor(
    env: dict[str, str], tmp_path: Path, client: Brownthrower
) -> None:
    job_id = job(client, "add2")
    child = edit_session(env, tmp_path, [{"body": "[1, 2\n"}, {"body": "[1, 2]  # fixed\n"}])
    child.sendline(f"job edit input {job_id}")
    child.expect("not valid YAML")
    child.expect(r"Your choice \[r/u/d\]:")
    child.sendline("r")
    child.expect("successfully modified")
    child.expect(PROMPT)
    assert client.jobs.get(job_id).input == "[1, 2]  # fixed\n"


def test_edit_after_a_concurrent_change_refreshes(
    env: dict[str, str], tmp_path: Path, client: Brownthrower, db_url: str
) -> None:
    job_id = job(client, "add2", input="[1, 2]\n")
    change = [
        sys.executable, "-c",
        "import sys; from bt import Brownthrower; a = Brownthrower.open(sys.argv[1]); "
        "a.jobs.edit(int(sys.argv[2]), 'input', '[3, 4]\\n'); a.close()",
        db_url, str(job_id),
    ]  # fmt: skip
    steps = [{"run": change, "body": "[5, 6]\n"}, {"append": "# after theirs\n"}]
    child = edit_session(env, tmp_path, steps)
    child.sendline(f"job edit input {job_id}")
    child.expect("concurrent modification")
    child.expect(r"\[r/d\]:")
    child.sendline("r")
    child.expect("successfully modified")
    child.expect(PROMPT)
    assert client.jobs.get(job_id).input == "[3, 4]\n# after theirs\n"


def test_job_top_is_live_and_q_returns_to_the_prompt(
    terminal: pexpect.spawn, client: Brownthrower
) -> None:
    job(client, "noop", submit=True)
    terminal.sendline("job top --interval 0.2")
    terminal.expect("brownthrower top")
    terminal.expect(words("RUNNABLE", "1"))
    terminal.send("q")
    terminal.expect(PROMPT)
    terminal.sendline("status")
    terminal.expect("STASHED")


def test_job_watch_ends_with_ctrl_c(terminal: pexpect.spawn, client: Brownthrower) -> None:
    job_id = job(client, "noop")
    terminal.sendline(f"job watch {job_id}")
    terminal.expect(words(str(job_id), "noop", "STASHED"))
    terminal.send("\x03")
    terminal.expect(PROMPT)


def test_job_top_ignores_arrow_keys(terminal: pexpect.spawn, client: Brownthrower) -> None:
    job(client, "noop", submit=True)
    terminal.sendline("job top --interval 0.2")
    terminal.expect("brownthrower top")
    terminal.send("\x1b[A")  # up arrow: an escape sequence, not the Escape key alone
    assert terminal.expect([PROMPT, pexpect.TIMEOUT], timeout=1.5) == 1
    terminal.send("q")
    terminal.expect(PROMPT)


def every_status(app: Brownthrower) -> list[tuple[int, str]]:
    """One job in each status a `job list` shows, QUEUED (blocked) included: (id, status)."""
    who = runner(app)
    stand_by = superjob(app, who, subjobs=1, submit=False)
    job(app, "noop", submit=True)
    done = run_next(app, who)
    failed = job(app, "noop", submit=True)
    app.claims.fail(claim(app, who), "exception", "Traceback ...", exit_code=1)
    blocked = job(app, "noop")
    app.jobs.link(failed, blocked)
    app.jobs.submit(blocked)
    running = job(app, "noop", submit=True)
    claim(app, who)
    queued, stashed = job(app, "noop", submit=True), job(app, "noop")
    return [
        (stand_by, "STAND-BY"), (stand_by + 1, "STASHED"), (done, "DONE"), (failed, "FAILED"),
        (blocked, "QUEUED (blocked)"), (running, "RUNNING"), (queued, "QUEUED"),
        (stashed, "STASHED"),
    ]  # fmt: skip


def test_job_list_at_80_columns_shows_id_name_and_the_whole_status(
    env: dict[str, str], client: Brownthrower
) -> None:
    expected = every_status(client)
    child = pexpect.spawn(
        str(PROGRAM), env={**env, "COLUMNS": "80", "LINES": "24"}, encoding="utf-8",
        dimensions=(24, 80), timeout=15,
    )  # fmt: skip
    child.expect(PROMPT, timeout=STARTUP_TIMEOUT)
    child.sendline("job list")
    child.expect(words("id", "super_id", "name", "status"))  # the header, then the rows
    child.expect(PROMPT)
    rows = [line.split() for line in re.sub(CODES, "", child.before).splitlines()[1:]]
    for row, (job_id, status) in zip(rows, sorted(expected), strict=True):
        shown = " ".join(row)
        assert shown.startswith(f"{job_id} ") and f" noop {status}" in shown
    child.terminate(force=True)
