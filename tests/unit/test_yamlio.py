from __future__ import annotations

import pytest

from bt import errors, yamlio


def test_parse_reports_where_the_yaml_is_wrong() -> None:
    with pytest.raises(errors.InvalidYaml, match="config is not valid YAML at line 2"):
        yamlio.parse("a: 1\n  b: 2\n", what="config")


def test_empty_text_is_none() -> None:
    assert yamlio.parse("  \n") is None


def test_dump_refuses_objects_yaml_cannot_represent() -> None:
    with pytest.raises(errors.InvalidValue, match="output cannot be represented in YAML"):
        yamlio.dump({"x": object()})


def test_checked_keeps_the_text_verbatim() -> None:
    text = "b: 2  # second\na: 1\n"
    assert yamlio.checked(text, what="config") == text


def test_oversized_values_are_refused() -> None:
    with pytest.raises(errors.ValueTooLarge, match="limit is 1,048,576 bytes"):
        yamlio.checked("x" * (yamlio.MAX_YAML_BYTES + 1), what="input")
