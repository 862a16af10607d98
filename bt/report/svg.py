"""Hand-written SVG: elements as text, with every attribute and text escaped."""

from __future__ import annotations

from collections.abc import Callable

from bt.report.text import esc

SVG_NS = "http://www.w3.org/2000/svg"  #: a namespace name, never fetched
PALETTE = (
    "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948",
    "#9c755f", "#ff9da7", "#17becf", "#8c564b", "#bcbd22", "#7f7f7f",
)  # fmt: skip
FAILED_COLOUR = "#d62728"
QUEUED_COLOUR = "#c7c7c7"
Attr = str | int | float | None
Scale = Callable[[float], float]
#: the font, as presentation attributes rather than a style attribute, which a page's
#: Content-Security-Policy without 'unsafe-inline' refuses (the web dashboard inlines these)
FONT: dict[str, Attr] = {"font-family": "system-ui,sans-serif", "font-size": 11}


def num(value: float) -> str:
    """A coordinate: at most two decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def tag(name: str, attrs: dict[str, Attr], content: str = "") -> str:
    """`<name a="v">content</name>` (or `<name a="v"/>`); None attributes left out."""
    parts = [name]
    for key, value in attrs.items():
        if value is not None:
            shown = num(value) if isinstance(value, float) else value
            parts.append(f'{key.replace("_", "-")}="{esc(shown)}"')
    opening = " ".join(parts)
    return f"<{opening}>{content}</{name}>" if content else f"<{opening}/>"


def text(x: float, y: float, content: str, **attrs: Attr) -> str:
    """A text element whose content is escaped."""
    return tag("text", {"x": x, "y": y, **attrs}, esc(content))


def title(content: str) -> str:
    """A tooltip for the enclosing element."""
    return f"<title>{esc(content)}</title>"


def document(width: float, height: float, body: list[str], *, label: str, id: str) -> str:
    """A standalone `<svg>` element (valid inline in HTML, and as an .svg file)."""
    attrs: dict[str, Attr] = {
        "xmlns": SVG_NS,
        "id": id,
        "width": float(width),
        "height": float(height),
        "viewBox": f"0 0 {num(width)} {num(height)}",
        "role": "img",
        "aria-label": label,
        **FONT,
    }
    return tag("svg", attrs, title(label) + "".join(body))


def scale(low: float, high: float, left: float, right: float) -> Scale:
    """Maps [low, high] linearly onto [left, right] (the middle, when low == high)."""
    if high <= low:
        return lambda _value: (left + right) / 2
    factor = (right - left) / (high - low)
    return lambda value: left + (value - low) * factor


def colours(names: list[str]) -> dict[str, str]:
    """A colour per name, in order, from `PALETTE` (repeating after 12)."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}
