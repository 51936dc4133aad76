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
    """A JSON object given inline, or @FILE (read through the one document loader)."""

    name = "JSON|@FILE"

    def parse(self, value: str, field: str) -> dict[str, Any]:
        from cloudctl.errors import InputError

        data = read_document(value[1:]) if value.startswith("@") else parse_json(value, f"--{field}")
        if not isinstance(data, dict):
            raise InputError("must be a JSON object", field=field)
        return data


def parse_json(text: str, field: str) -> Any:
    import json

    from cloudctl.errors import InputError

    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"not JSON: {e.msg} (line {e.lineno}, column {e.colno})", field=field) from None


def read_document(path: str) -> Any:
    """A YAML or JSON file as data (file:line:column errors)."""
    import yaml

    from cloudctl.errors import InputError

    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", file=path) from None
    except UnicodeDecodeError as e:
        raise InputError(f"not UTF-8 text: {e.reason}", file=path) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise InputError(f"not valid YAML/JSON: {getattr(e, 'problem', e)}", file=path,
                         line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None) from None


ISO_DATE = IsoDate()
DURATION = Duration()
ROW_ID = RowId()
JSON_OBJECT = JsonObject()
LEVEL_CHOICE = click.Choice(list(LEVEL_NAMES))
