"""Division codes: level by length, parent by prefix, clear errors for anything else."""

from __future__ import annotations

import pytest

from cloudctl.divisions.codes import ancestors_of, level_number, level_of, parent_of, validate_code
from cloudctl.errors import InputError


@pytest.mark.parametrize(("code", "level", "parent"), [
    ("11", 1, None),
    ("1101", 2, "11"),
    ("110108", 3, "1101"),
    ("110108001", 4, "110108"),
    ("110108001001", 5, "110108001"),
    ("650000", 3, "6500"),  # leading/trailing zeros are kept: codes are strings
])
def test_level_and_parent_come_from_the_code(code: str, level: int, parent: str | None) -> None:
    assert level_of(code) == level
    assert parent_of(code) == parent


def test_ancestors_run_from_the_province_down() -> None:
    assert ancestors_of("110108001001") == ["11", "1101", "110108", "110108001", "110108001001"]


@pytest.mark.parametrize(("code", "words"), [
    ("", "empty"),
    ("1101a", "non-digit character 'a'"),
    ("11 01", "non-digit character ' '"),
    ("１１", "non-digit"),  # full-width digits are not ASCII digits
    ("²²", "non-digit"),  # str.isdigit() would accept these
    ("110", "3 digits"),
    ("1101080011", "10 digits"),
])
def test_bad_codes_are_input_errors_that_say_why(code: str, words: str) -> None:
    with pytest.raises(InputError) as e:
        validate_code(code, file="x.csv", line=7)
    assert words in e.value.message
    assert e.value.location.startswith("x.csv:7")
    assert e.value.exit_code == 2


def test_validate_code_strips_and_rejects_non_strings() -> None:
    assert validate_code(" 1101 ") == "1101"
    with pytest.raises(InputError):
        validate_code(1101)


def test_level_number_accepts_names_and_numbers() -> None:
    assert level_number("township") == 4 and level_number("4") == 4 and level_number(5) == 5
    with pytest.raises(InputError):
        level_number("hamlet")
    with pytest.raises(InputError):
        level_number(6)
