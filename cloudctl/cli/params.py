"""The CLI's shared parameter types and conventions, one definition each (cloudctl.values underneath):
ISO dates, durations (s, m, h, d), row ids, JSON objects, the level names."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import click

from cloudctl.divisions.codes import LEVEL_NAMES


class _ValueType(click.ParamType):
    """A click type over a cloudctl.values parser: bad input is a usage error (exit 2) naming the option."""

    def parse(self, value: str, field: str) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from cloudctl.errors import InputError

        if not isinstance(value, str):
            return value
        try:
            return self.parse(value, param.name if param and param.name else self.name)
        except InputError as e:
            self.fail(e.message + (f" ({e.hint})" if e.hint else ""), param, ctx)


class IsoDate(_ValueType):
    name = "YYYY-MM-DD"

    def parse(self, value: str, field: str) -> date:
        from cloudctl.values import parse_iso_date

        return parse_iso_date(value, field)


class Duration(_ValueType):
    name = "DURATION"

    def parse(self, value: str, field: str) -> timedelta:
        from cloudctl.values import parse_duration

        return parse_duration(value, field)


class RowId(_ValueType):
    name = "ID"

    def parse(self, value: str, field: str) -> int:
        from cloudctl.values import check_id

        return check_id(value, field)


class JsonObject(_ValueType):
    """A JSON object given inline, or @FILE (YAML or JSON), read through the one document loader."""

    name = "JSON|@FILE"

    def parse(self, value: str, field: str) -> dict[str, Any]:
        from cloudctl.inputs.documents import load_document, parse_document

        if value.startswith("@"):
            return load_document(value[1:], what=f"--{field} file").mapping(field)
        return parse_document(value, file=f"--{field}", format="json").mapping(field)


ISO_DATE = IsoDate()
DURATION = Duration()
ROW_ID = RowId()
JSON_OBJECT = JsonObject()
LEVEL_CHOICE = click.Choice(list(LEVEL_NAMES))

