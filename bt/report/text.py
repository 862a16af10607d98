"""Stored text made safe for HTML and SVG, and figures written for people.

Anyone with access to the database can store any text in a job's name, reason or host: every
such text goes through `esc`, which shows control characters as `\\x1b` (raw, most are not even
allowed in XML) and escapes what HTML and XML give a meaning to.
"""

from __future__ import annotations

import html
import math
import re

#: C0 and C1 controls, DEL, and the invisible Unicode controls that reorder or break lines
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_BYTE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
#: steps between axis ticks, times a power of ten (of 1024 for bytes); for times, in seconds
_STEPS = (1, 2, 2.5, 5, 10)
_TIME_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
               43200, 86400, 172800, 604800)  # fmt: skip


def esc(text: object) -> str:
    """`text` for HTML or XML content and quoted attribute values."""
    return html.escape(_CONTROL.sub(_shown, str(text)), quote=True)


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def seconds(value: float | None) -> str:
    """`850 ms`, `12.5 s`, `3 min 20 s`, `2 h 05 min`, `3 d 04 h`; `-` for None."""
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.3g} s" if value < 60 else _two_units(value, ("d", "h", "min", "s"), " ")


def short_seconds(value: float | None) -> str:
    """`0.85s`, `12.5s`, `3m20s`, `2h05m`, `3d04h`: for tables; `-` for None."""
    if value is None:
        return "-"
    return f"{value:.3g}s" if value < 60 else _two_units(value, ("d", "h", "m", "s"), "")


def _two_units(value: float, names: tuple[str, str, str, str], space: str) -> str:
    """The two largest units of a duration of a minute or more: `3 d 04 h`, `2h05m`."""
    minutes, secs = divmod(round(value), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    amounts = [days, hours, minutes, secs]
    first = next(i for i, amount in enumerate(amounts) if amount or i == 2)
    return (f"{amounts[first]}{space}{names[first]}{space}"
            f"{amounts[first + 1]:02d}{space}{names[first + 1]}")  # fmt: skip


def size(value: float | None) -> str:
    """`512 B`, `1.5 KiB`, `200 MiB`, `3.2 GiB`; `-` for None."""
    if value is None:
        return "-"
    unit = 0
    while abs(value) >= 1024 and unit < len(_BYTE_UNITS) - 1:
        value, unit = value / 1024, unit + 1
    if unit == 0 or abs(value) >= 100:  # `1000 MiB`, not `1e+03 MiB`
        return f"{value:.0f} {_BYTE_UNITS[unit]}"
    return f"{value:.3g} {_BYTE_UNITS[unit]}"


def ratio(value: float | None) -> str:
    """`87 %`; `-` for None."""
    return "-" if value is None else f"{value * 100:.0f} %"


def figure(value: float | None, unit: str) -> str:
    """`value` written in its unit: `s` seconds, `B` bytes, `ratio` a percentage."""
    if unit == "s":
        return seconds(value)
    if unit == "B":
        return size(value)
    return ratio(value)


def count(value: int) -> str:
    """`13,135`."""
    return f"{value:,}"


def ticks(low: float, high: float, unit: str, most: int = 6) -> list[float]:
    """Round values from `low` to `high` for an axis, at most `most` + 1 of them."""
    span = high - low
    if span <= 0:
        return [low]
    step = _step(span / most, unit)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]


def _step(rough: float, unit: str) -> float:
    if unit == "s" and rough >= 1:
        return next((s for s in _TIME_STEPS if s >= rough), _step(rough / 86400, "") * 86400)
    scale = 1.0
    while unit == "B" and rough / scale >= 1024:
        scale *= 1024
    power = 10.0 ** math.floor(math.log10(rough / scale))
    return next(s * power for s in _STEPS if s * power >= rough / scale) * scale
