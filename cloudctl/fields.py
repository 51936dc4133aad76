"""Pydantic field types for action inputs, built on cloudctl.values (one definition of each value).

A bad value becomes a pydantic error whose context carries the hint, so the CLI (exit 2, naming
the flag) and the API (422, naming the field) report it the same way (action.input_error).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from cloudctl import values
from cloudctl.errors import InputError


def problem(message: str, hint: str | None = None) -> PydanticCustomError:
    """A validation error carrying a hint (raise it from a field validator)."""
    return PydanticCustomError("cloudctl_value", "{message}", {"message": message, "hint": hint or ""})


def _problem(e: InputError) -> PydanticCustomError:
    return problem(e.message, e.hint)


def _check(parse: Callable[[Any, str], Any], *, passthrough: tuple[type, ...] = ()) -> Callable[[Any, Any], Any]:
    def validator(value: Any, info: Any) -> Any:
        if passthrough and isinstance(value, passthrough):
            return value
        try:
            return parse(value, info.field_name or "value")
        except InputError as e:
            raise _problem(e) from None

    return validator


def _date(value: Any, name: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, str):
        raise InputError(f"{str(value)[:40]!r} is not a date", field=name, hint="YYYY-MM-DD, e.g. 2015-05-31")
    return values.parse_iso_date(value, name)


def _duration(value: Any, name: str) -> timedelta:
    return values.parse_duration(value, name)


def duration_up_to(limit: timedelta) -> Any:
    """A Duration type of at most LIMIT (an enrolment token, an API token)."""
    def parse(value: Any, name: str) -> timedelta:
        return values.parse_duration(value, name, maximum=limit)

    return Annotated[timedelta, BeforeValidator(_check(parse, passthrough=(timedelta,)))]


def _instant(value: Any, name: str) -> datetime:
    if isinstance(value, datetime):
        return values.parse_instant(value.isoformat(), name)
    if not isinstance(value, str):
        raise InputError(f"{str(value)[:40]!r} is not a date or time", field=name)
    return values.parse_instant(value, name)


def _row_id(value: Any, name: str) -> int:
    return values.check_id(value, name)


def _name(max_len: int) -> Callable[[Any, str], str]:
    def parse(value: Any, name: str) -> str:
        return values.check_name(value, name, max_len=max_len)

    return parse


def _division(value: Any, name: str) -> str:
    from cloudctl.divisions.codes import code_problem

    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else None
    problem = code_problem(text) if text is not None else "must be text"
    if problem:
        raise InputError(f"{str(value)[:40]!r} is not a division code: {problem}", field=name,
                         hint="2, 4, 6, 9 or 12 digits, e.g. 51 (Sichuan) or 510104001")
    return text  # type: ignore[return-value]


IsoDate = Annotated[date, BeforeValidator(_check(_date, passthrough=(date,)))]
Instant = Annotated[datetime, BeforeValidator(_check(_instant))]
Duration = Annotated[timedelta, BeforeValidator(_check(_duration, passthrough=(timedelta,)))]
RowId = Annotated[int, BeforeValidator(_check(_row_id))]
DivisionCode = Annotated[str, BeforeValidator(_check(_division))]
def _one_line(max_len: int) -> Any:
    """One line of text, not blank, no control/format/separator characters, at most MAX_LEN: checked by
    values.check_name, and said in the JSON schema (pattern, lengths) so API clients see the same rule."""
    # Field before the validator: pydantic leaves a pattern that follows a BeforeValidator out of the
    # JSON schema. check_name still runs first (a before-validator wraps what precedes it) and words the error.
    return Annotated[str, Field(min_length=1, max_length=max_len, pattern=values.ONE_LINE_PATTERN),
                     BeforeValidator(_check(_name(max_len)))]


Name = _one_line(values.MAX_NAME)
ShortName = _one_line(100)
Text = _one_line(2000)
DeptCode = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,30}$", description="department code, e.g. finance")]


def _unique(items: list[Any]) -> list[Any]:
    if len(set(items)) != len(items):
        raise PydanticCustomError("cloudctl_value", "{message}", {"message": "an item is listed twice", "hint": ""})
    return items


UniqueList = AfterValidator(_unique)
