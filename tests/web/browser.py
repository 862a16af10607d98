"""What the browser tests need: a real `brownthrower web` process, Debian's Chromium driven by
Playwright, and a screenshot of the page when a test fails."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
PROGRAM = [str(Path(sys.executable).with_name("brownthrower"))]  #: the console script
START_TIMEOUT = 30.0  #: seconds the server may take to print its login URL
LOGIN_URL = re.compile(r"http://127\.0\.0\.1:(\d+)/login\?token=[\w.~-]+")
FAILED = pytest.StashKey[bool]()


def browser_or_skip() -> Any:
    """Playwright's sync API module, or skip (fail in CI) when it or Chromium is missing."""
    try:
        from playwright import sync_api
    except ImportError:
        missing = "playwright is not installed (scripts/bootstrap --dev)"
    else:
        missing = (
            "" if os.access(CHROMIUM, os.X_OK) else f"no {CHROMIUM} (apt-get install chromium)"
        )
    if missing:
        if IN_CI:
            pytest.fail(missing + " (CI=true: the browser tests must run)")
        pytest.skip(missing)
    return sync_api


@dataclass
class Server:
    """A `brownthrower web` process on a free loopback port, logged in through its URL."""

    url: str  #: the database
    token: str
    log: Path
    process: subprocess.Popen[str] | None = None
    login: str = ""  #: the one-time login URL it printed
    lines: list[str] = field(default_factory=list)
    _reader: threading.Thread = field(init=False, repr=False)

    @property
    def base(self) -> str:
        return self.login.split("/login", 1)[0]

    def start(self, *args: str) -> Server:
        env = {**os.environ, "BT_DATABASE_URL": self.url, "BT_WEB_TOKEN": self.token}
        self.process = subprocess.Popen(
            [*PROGRAM, "web", "--bind", "127.0.0.1:0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            start_new_session=True,
        )
        found = threading.Event()
        self._reader = threading.Thread(target=self._read, args=(found,), daemon=True)
        self._reader.start()
        if not found.wait(START_TIMEOUT) or not self.login:
            self.stop()
            raise AssertionError("brownthrower web printed no login URL:\n" + self.output())
        return self

    def _read(self, found: threading.Event) -> None:
        assert self.process is not None and self.process.stdout is not None
        with self.log.open("w") as log:
            for line in self.process.stdout:
                log.write(line)
                log.flush()
                self.lines.append(line)
                if not self.login and (match := LOGIN_URL.search(line)):
                    self.login = match.group(0)
                    found.set()
        found.set()  # ended without one

    def output(self) -> str:
        return "".join(self.lines)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self._reader.join(10)
        assert self.process.stdout is not None
        self.process.stdout.close()


class FailureReports:
    """A pytest plugin that marks a test's item when its call failed (for the screenshot)."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: Any
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if report.when == "call" and report.failed:
            item.stash[FAILED] = True
        return report


def screenshot_if_failed(request: pytest.FixtureRequest, page: Any, where: Path) -> None:
    """Save the page as `where` when the test failed; print where."""
    if request.node.stash.get(FAILED, False) and not page.is_closed():
        page.screenshot(path=str(where), full_page=True)
        print(f"screenshot of the failed page: {where}")
