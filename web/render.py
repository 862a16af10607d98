"""Templates and the filters they use: every stored text escaped, its control characters shown.

The Jinja environment autoescapes every template, and its `finalize` hook passes each printed
value through `visible` first: a control character anyone stored in a name, tag or output (an
escape sequence, a bell, a NUL) shows as a marked `\\x1b`, never reaches the page raw.
Newlines and tabs stay (a `<pre>` keeps them; elsewhere they read as spaces).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlencode

import jinja2
from markupsafe import Markup, escape

from bt.report import text as figures
from bt.status import BLOCKED, LIMITED, QUEUED_PARTS, RUNNABLE, WAITING, Status

#: C0 and C1 controls but newline and tab, DEL, and the invisible Unicode controls that reorder
#: or break lines (as `shell.render_values`)
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_ANY_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
#: the order of status rows and columns: as a job meets them, QUEUED's parts after it
STATUS_ORDER = (
    Status.STASHED.value,
    Status.QUEUED.value,
    *QUEUED_PARTS,
    Status.RUNNING.value,
    Status.STAND_BY.value,
    Status.DONE.value,
    Status.FAILED.value,
)
PART_OF_QUEUED = frozenset(QUEUED_PARTS)


def _code(character: str) -> str:
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _marked(match: re.Match[str]) -> str:
    return f'<span class="ctl">{_code(match.group())}</span>'


def visible(value: Any) -> Any:
    """What a template prints for `value`: Markup as it is, None as nothing, anything else as
    escaped text with its control characters shown as marked `\\x1b` codes."""
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    text = str(value)
    if not _CONTROL.search(text):
        return text
    return Markup(_CONTROL.sub(_marked, str(escape(text))))


def one_line(value: Any) -> Markup:
    """`value` for a single line (a title, a table cell): newlines and tabs shown too."""
    text = "" if value is None else str(value)
    return Markup(_ANY_CONTROL.sub(_marked, str(escape(text))))


def plain(value: Any) -> str:
    """`value` as plain text with every control character written as a code (for JSON)."""
    return _ANY_CONTROL.sub(lambda m: _code(m.group()), str(value))


def timestamp(value: dt.datetime | None) -> str:
    """`YYYY-MM-DD HH:MM:SS` in UTC; empty when unset."""
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).strftime(TIME_FORMAT)


def age(value: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """How long ago `value` was: `3.2 s`, `5 min 03 s`."""
    if value is None:
        return ""
    now = now or dt.datetime.now(dt.UTC)
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return figures.seconds(max(0.0, (now - aware).total_seconds()))


def status_class(status: Any) -> str:
    """The CSS class of a status word (`QUEUED (blocked)` as `st-BLOCKED`)."""
    text = str(status.value if isinstance(status, Status) else status)
    word = text.split(" (", maxsplit=1)[0]
    inner = {"(blocked)": BLOCKED, "(limited)": LIMITED}.get(text[len(word) :].strip(), "")
    if text.startswith(f"{Status.QUEUED.value} (retry"):
        inner = WAITING
    return "st-" + (inner or word).replace(" ", "-")


def query(**params: Any) -> str:
    """A query string (`?a=1&b=2`) of the parameters that are set."""
    shown = {k: v for k, v in params.items() if v not in (None, "", False)}
    return "?" + urlencode(shown) if shown else ""


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("web", "templates"),
        autoescape=True,
        finalize=visible,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        one_line=one_line,
        ts=timestamp,
        age=age,
        status_class=status_class,
        seconds=figures.seconds,
        short_seconds=figures.short_seconds,
        size=figures.size,
        ratio=figures.ratio,
        count=figures.count,
    )
    env.globals.update(
        query=query,
        STATUS_ORDER=STATUS_ORDER,
        PART_OF_QUEUED=PART_OF_QUEUED,
        RUNNABLE=RUNNABLE,
    )
    return env


ENV = _environment()


def render(name: str, **context: Any) -> str:
    """Template `name` rendered with `context`."""
    return ENV.get_template(name).render(**context)
