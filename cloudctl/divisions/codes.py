"""Division codes: five levels told apart by length (2/4/6/9/12 digits), parent by prefix.

Codes are strings, never integers: leading zeros would be lost and 12-digit codes are
identifiers, not quantities.
"""

from __future__ import annotations

from cloudctl.errors import InputError

# level number (1..5) -> name; the level number is the index + 1
LEVEL_NAMES: tuple[str, ...] = ("province", "prefecture", "county", "township", "village")
CODE_LENGTHS: tuple[int, ...] = (2, 4, 6, 9, 12)
LEVEL_BY_LENGTH: dict[int, int] = {length: i + 1 for i, length in enumerate(CODE_LENGTHS)}
# code length -> length of the parent's code
PARENT_LENGTH: dict[int, int] = {4: 2, 6: 4, 9: 6, 12: 9}

_ASCII_DIGITS = frozenset("0123456789")


def is_ascii_digits(text: str) -> bool:
    """True for a non-empty string of 0-9 only (str.isdigit also accepts '²' and '٣')."""
    return text.isascii() and text.isdigit()


def level_of(code: str) -> int:
    """The level (1 province .. 5 village) of a well-formed code; InputError otherwise."""
    validate_code(code)
    return LEVEL_BY_LENGTH[len(code)]


def level_name(level: int) -> str:
    """'province' .. 'village' for 1..5."""
    if not 1 <= level <= len(LEVEL_NAMES):
        raise InputError(f"no division level {level}", hint="levels are 1 (province) to 5 (village)")
    return LEVEL_NAMES[level - 1]


def level_number(name_or_number: str | int) -> int:
    """Accept 'township', '4' or 4; InputError for anything else."""
    if isinstance(name_or_number, int) or str(name_or_number).isdigit():
        number = int(name_or_number)
        level_name(number)
        return number
    try:
        return LEVEL_NAMES.index(str(name_or_number).strip().lower()) + 1
    except ValueError:
        raise InputError(f"unknown division level {name_or_number!r}", field="level",
                         hint="use one of " + ", ".join(LEVEL_NAMES)) from None


def parent_of(code: str) -> str | None:
    """The parent's code (the prefix one level up), or None for a province."""
    validate_code(code)
    parent_length = PARENT_LENGTH.get(len(code))
    return code[:parent_length] if parent_length else None


def ancestors_of(code: str) -> list[str]:
    """Codes from the province down to and including CODE."""
    validate_code(code)
    return [code[:length] for length in CODE_LENGTHS if length <= len(code)]


def code_problem(code: str) -> str | None:
    """Why CODE is not a division code, or None when it is one."""
    if code == "":
        return "the code is empty"
    if not is_ascii_digits(code):
        bad = next(ch for ch in code if ch not in _ASCII_DIGITS)
        return f"code {code!r} has a non-digit character {bad!r}"
    if len(code) not in LEVEL_BY_LENGTH:
        return (f"code {code!r} has {len(code)} digits; division codes have 2, 4, 6, 9 or 12 "
                "(province, prefecture, county, township, village)")
    return None


def validate_code(code: object, *, file: str | None = None, line: int | None = None,
                  column: int | None = None, field: str | None = "code") -> str:
    """Return CODE (stripped) if it is a division code; raise InputError naming where otherwise."""
    if not isinstance(code, str):
        raise InputError(f"division code must be a string of digits, got {type(code).__name__}",
                         file=file, line=line, column=column, field=field,
                         hint="write codes as text, e.g. '110101' (leading zeros matter)")
    text = code.strip()
    problem = code_problem(text)
    if problem:
        raise InputError(problem, file=file, line=line, column=column, field=field,
                         hint="a division code is 2, 4, 6, 9 or 12 ASCII digits, e.g. 11, 1101, 110101")
    return text
