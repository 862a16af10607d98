"""Stored text made safe to print, and stored YAML as users wrote it or as JSON values.

Any user of a shared database can store text with terminal escape sequences in a name, a
description, a YAML value or a tag; printed raw they would clear a colleague's screen or rename
their terminal. Every view escapes control characters (`\\x1b`) before rich sees the text;
multi-line views keep newline and tab.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any

#: C0 and C1 controls, DEL, and the invisible Unicode controls that reorder or break lines
_INVISIBLE = "\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f{_INVISIBLE}]")
_CONTROL_MULTILINE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_INVISIBLE}]")
_END_MARKER = re.compile(r"\n?^\.\.\.[ \t]*\n?\Z", re.MULTILINE)
MAX_JSON_VALUES = 1_000_000  #: values converted before a stored document counts as too large
EMPTY = "-"  #: what a detail view prints for an empty description, config, input or output


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(text: str) -> str:
    """`text` for a table cell or a `name : value` line: every control character escaped,
    newline and tab included."""
    return _CONTROL.sub(_escaped, text)


def multi_line(text: str) -> str:
    """`text` for a multi-line view: control characters escaped, newlines and tabs kept."""
    return _CONTROL_MULTILINE.sub(_escaped, text)


def shown_yaml(text: str | None) -> str:
    """A stored YAML value as its author wrote it, without the document end marker (`...`) a
    dumped scalar ends with; `EMPTY` when there is nothing."""
    if text is None or not text.strip():
        return EMPTY
    body = _END_MARKER.sub("", text.rstrip("\n") + "\n").rstrip("\n")
    return multi_line(body) if body.strip() else EMPTY


def yaml_value(text: str | None) -> Any:
    """The data in stored YAML as JSON-ready values (None when empty or unreadable)."""
    if text is None or not text.strip():
        return None
    from ruamel.yaml import YAML  # on first use: the shell starts without it
    from ruamel.yaml.error import YAMLError

    try:
        data = YAML(typ="safe", pure=True).load(text)
        return _Converter().convert(data)
    except (YAMLError, RecursionError, _TooLarge):
        return None


class _TooLarge(Exception):
    pass


class _Converter:
    """YAML data to JSON values: string keys, ISO dates, lists; bounded, since a document's
    aliases share values that a conversion copies."""

    def __init__(self) -> None:
        self.left = MAX_JSON_VALUES

    def convert(self, value: Any) -> Any:
        self.left -= 1
        if self.left < 0:
            raise _TooLarge
        if isinstance(value, Mapping):
            return {self.key(k): self.convert(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.convert(v) for v in value]
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, bytes):
            return value.decode("utf-8", errors="replace")
        if value is None or isinstance(value, bool | int | float | str):
            return value
        return str(value)

    def key(self, key: Any) -> str:
        if isinstance(key, str):
            return key
        if key is None or isinstance(key, bool):
            return {None: "null", True: "true", False: "false"}[key]
        return str(self.convert(key))


def details_json(fields: Mapping[str, Any]) -> dict[str, Any]:
    """`job show --json`: config, input and output as JSON values, their YAML text beside them
    under `config_yaml`, `input_yaml` and `output_yaml`."""
    shown: dict[str, Any] = {}
    for name, value in fields.items():
        if name in ("config", "input", "output"):
            shown[name] = yaml_value(value)
            shown[f"{name}_yaml"] = value
        else:
            shown[name] = value
    return shown
