"""YAML in and out of brownthrower: parsing with clear errors, dumping task output, size limits.

Config and input are stored exactly as the user wrote them (comments and key order included);
they are only parsed to check them and to hand them to task code.
"""

from __future__ import annotations

import io
import re
import unicodedata
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode
from ruamel.yaml.representer import RepresenterError

from bt.errors import InvalidValue, InvalidYaml, ValueTooLarge

MAX_YAML_BYTES = 1 << 20  #: config, input or output of one job
MAX_DESCRIPTION_BYTES = 64 << 10
MAX_TAG_BYTES = 4 << 20  #: one tag value (captured output is bounded below this)
#: values a document may hold once its aliases are expanded: a 400-byte "billion laughs" alias
#: bomb holds ~10^9, which any code that walks or prints the value would try to build
MAX_EXPANDED_VALUES = 1_000_000
#: control characters refused in stored text: every C0 one but tab and newline, DEL, C1
#: (PostgreSQL refuses NUL in text; the rest would reach the terminals that show the text)
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _safe() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    return yaml


def parse(text: str | None, *, what: str = "text") -> Any:
    """The data in `text` (None for empty text), or `InvalidYaml` saying where it is wrong."""
    if text is None or not text.strip():
        return None
    yaml = _safe()
    try:
        node = yaml.compose(text)
        if node is not None and "&" in text:
            _check_expansion(node, what)
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InvalidYaml(f"The {what} is not valid YAML{where}: {exc.problem}.") from exc
    except YAMLError as exc:
        raise InvalidYaml(f"The {what} is not valid YAML: {exc}.") from exc


def _check_expansion(root: Node, what: str) -> None:
    """`InvalidValue` when aliases make the document hold more than `MAX_EXPANDED_VALUES` values
    or refer to themselves (each distinct node is sized once: the cost of the text, not of the
    value)."""
    sizes: dict[int, int] = {}
    path, active = [(root, iter(_children(root)))], {id(root)}
    while path:  # depth-first; a node is sized when its last child is
        node, children = path[-1]
        child = next(children, None)
        if child is None:
            path.pop()
            active.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(c)] for c in _children(node))
            if sizes[id(node)] > MAX_EXPANDED_VALUES:
                raise InvalidValue(
                    f"The {what} expands to more than {MAX_EXPANDED_VALUES:,} values through "
                    "YAML aliases (&anchor/*alias); write the data out or give a smaller value."
                )
        elif id(child) in active:
            raise InvalidValue(f"The {what} refers to itself through a YAML alias.")
        elif id(child) not in sizes:
            path.append((child, iter(_children(child))))
            active.add(id(child))


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def dump(value: Any, *, what: str = "output") -> str | None:
    """`value` as YAML text (None for None), or `InvalidValue` when YAML cannot represent it."""
    if value is None:
        return None
    stream = io.StringIO()
    try:
        _safe().dump(value, stream)
    except RepresenterError as exc:
        raise InvalidValue(
            f"The {what} cannot be represented in YAML ({type(value).__name__}: {exc}); "
            "return plain data: dicts, lists, strings, numbers, booleans, dates or None."
        ) from exc
    return stream.getvalue()


def check_size(text: str | None, limit: int, what: str, *, controls: bool = False) -> None:
    """`ValueTooLarge` when `text` is larger than `limit` bytes; `InvalidValue` when it holds a
    control character other than newline and tab, unless `controls` (captured output)."""
    if text is not None and len(text.encode("utf-8", "surrogatepass")) > limit:
        raise ValueTooLarge(
            f"The {what} is {len(text.encode('utf-8', 'surrogatepass')):,} bytes; "
            f"the limit is {limit:,} bytes."
        )
    if not controls:
        check_text(text, what)


def check_text(text: str | None, what: str) -> None:
    """`InvalidValue` naming the first control character of `text` (newline and tab allowed)."""
    found = CONTROL.search(text) if text else None
    if found is not None:
        char = found.group()
        name = unicodedata.name(char, "") or _CONTROL_NAMES.get(ord(char), "control")
        raise InvalidValue(
            f"The {what} contains the control character U+{ord(char):04X} ({name}) at "
            f"character {found.start() + 1:,}; only newline and tab are allowed."
        )


_CONTROL_NAMES = {0: "NUL", 7: "BEL", 8: "BACKSPACE", 0x0D: "CARRIAGE RETURN", 0x1B: "ESCAPE"}


def checked(text: str | None, *, what: str) -> str | None:
    """`text` if it is valid YAML of acceptable size; empty text is stored as NULL."""
    if text is None or not text.strip():
        return None
    check_size(text, MAX_YAML_BYTES, what)
    parse(text, what=what)
    return text
