"""Wording of the dispatcher's screen."""

from __future__ import annotations

import datetime as dt
import io

from rich.console import Console

from bt.dispatch import PassReport, Snapshot
from shell.dispatcher.screen import footer


def test_the_footer_says_one_pilot_in_the_singular() -> None:
    at = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    shown = io.StringIO()
    Console(file=shown, width=100).print(footer(Snapshot([], {}, PassReport(desired=1), at)))
    assert "desired 1 pilot" in shown.getvalue() and "1 pilots" not in shown.getvalue()
