"""`brownthrower web`: the real program starts on a free port, prints its login URL, serves."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from bt import Brownthrower
from tests import factories
from web.cli import bind_address, is_loopback, url_host

PROGRAM = str(Path(sys.executable).with_name("brownthrower"))
START = 30.0  #: seconds the program has to print its URL


@pytest.fixture
def served(app: Brownthrower, db_url: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`brownthrower web --bind 127.0.0.1:0` on the test database: its login URL, its process."""
    env = {**os.environ, "BT_DATABASE_URL": db_url}
    process = subprocess.Popen(
        [PROGRAM, "web", "--bind", "127.0.0.1:0"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        for line in process.stdout:
            found = re.search(r"(http://127\.0\.0\.1:\d+/login\?token=\S+)", line)
            if found:
                yield found.group(1), process
                break
        else:
            pytest.fail(f"no login URL: {process.stderr.read() if process.stderr else ''}")
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=20)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_the_program_prints_a_login_url_and_serves_the_dashboard(
    app: Brownthrower, served: tuple[str, subprocess.Popen[str]], db_url: str
) -> None:
    job = factories.job(app, description="from the real server")
    login, _process = served
    base = login.split("/login")[0]
    with httpx.Client(base_url=base, timeout=10) as client:
        assert client.get("/").status_code == 401
        assert client.get(login).status_code == 303
        page = client.get(f"/jobs/{job}")
    assert page.status_code == 200
    assert "from the real server" in page.text
    assert db_url not in page.text


def test_the_program_stops_cleanly_on_ctrl_c(served: tuple[str, subprocess.Popen[str]]) -> None:
    _login, process = served
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 0


def test_the_program_never_prints_the_database_url(
    served: tuple[str, subprocess.Popen[str]], db_url: str
) -> None:
    _login, process = served
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert db_url not in out + err


def test_a_bind_address_is_host_and_port() -> None:
    assert bind_address("127.0.0.1:0") == ("127.0.0.1", 0)
    assert bind_address("[::1]:8080") == ("::1", 8080)


@pytest.mark.parametrize("text", ["8080", "host:", ":80", "host:99999", "host:http"])
def test_a_bad_bind_address_is_refused(text: str) -> None:
    with pytest.raises(Exception, match="HOST:PORT"):
        bind_address(text)


def test_loopback_is_told_apart() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("login1.cluster")


def test_urls_name_a_reachable_host() -> None:
    assert url_host("0.0.0.0") == "127.0.0.1"
    assert url_host("::1") == "[::1]"
