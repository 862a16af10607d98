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


def test_a_nul_byte_is_refused_naming_the_field_and_the_byte() -> None:
    with pytest.raises(errors.InvalidValue, match=r"description .*U\+0000 \(NUL\) at character 2"):
        yamlio.check_size("a\x00b", 100, "description")


def test_newline_and_tab_are_not_control_characters_here() -> None:
    yamlio.check_size("a\tb\nc", 100, "description")


def test_an_escape_sequence_in_yaml_is_refused() -> None:
    with pytest.raises(errors.InvalidValue, match="U\\+001B"):
        yamlio.checked("a: '\x1b[2J'", what="config")
