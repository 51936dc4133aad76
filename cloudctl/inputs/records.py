"""Typed records from loaded documents, without pydantic: dataclasses checked by their annotations.

A command that only reads a file (`gateway check`, `gateway compile`) should not pay for
pydantic's import and schema building (~0.15 s of start-up); these records cost nothing to
define and convert a document about twice as fast. Declare a record as a dataclass with
slots, annotated with what the loader yields::

    @record
    class Service:
        name: str
        protocol: Literal["tcp", "udp"]
        ports: list[int | str]
        expires: date | None = None

    service = from_data(Service, doc.data, doc)           # InputError at file:line:column: field

Types: str (ints and floats given where text is meant become their text: YAML reads 110000
as a number), int, float (finite), bool, date (a YAML date or YYYY-MM-DD text), Literal of
strings, X | None, int | str, list[X] (a lone scalar for a list of text is a one-item list),
dict[str, X], and nested records. Unknown keys, missing fields and wrong types are errors at
the key's line. `to_data(record)` is the reverse (dates as text, None left out on request).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from cloudctl.errors import InputError

T = TypeVar("T")
Path = tuple[str | int, ...]
Converter = Callable[[Any, Path], Any]
_MISSING = dataclasses.MISSING
# name, converter, default, default factory, slot setter, text taken as is (True, or the allowed
# strings of a Literal, or None), None allowed
Field = tuple[str, Converter, Any, Any, Any, Any, bool]
_SPECS: dict[type, tuple[frozenset[str], list[Field], list[tuple[Any, Any]]]] = {}


class _Problem(Exception):
    def __init__(self, path: Path, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.path, self.message, self.hint = path, message, hint


def record(cls: type[T]) -> type[T]:
    """A frozen, slotted dataclass for from_data."""
    return dataclasses.dataclass(frozen=True, slots=True)(cls)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {str: "text", bool: "true/false", int: "a number", float: "a number", list: "a list",
            dict: "a mapping", dt.date: "a date", dt.datetime: "a date and time"}.get(type(value), type(value).__name__)


def _text(value: Any, path: Path) -> str:
    if type(value) is str:
        return value
    if type(value) is int or (type(value) is float and math.isfinite(value)):
        return str(value)
    raise _Problem(path, f"must be text, not {_kind(value)}")


def _int(value: Any, path: Path) -> int:
    if type(value) is int:
        return value
    raise _Problem(path, f"must be a whole number, not {_kind(value)}")


def _float(value: Any, path: Path) -> float:
    if type(value) in (int, float) and math.isfinite(value):
        return float(value)
    raise _Problem(path, f"must be a number, not {_kind(value)}")


def _bool(value: Any, path: Path) -> bool:
    if type(value) is bool:
        return value
    raise _Problem(path, f"must be true or false, not {_kind(value)}")


def _date(value: Any, path: Path) -> dt.date:
    if type(value) is dt.date:
        return value
    if type(value) is str:
        from cloudctl.values import parse_iso_date

        try:
            return parse_iso_date(value, "")
        except InputError:
            pass
    raise _Problem(path, f"must be a date YYYY-MM-DD, not {_kind(value)}", "e.g. 2027-06-30")


def _converter(hint: Any) -> Converter:
    """The converter of one annotation (evaluated)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is str:
        return _text
    if hint is int:
        return _int
    if hint is float:
        return _float
    if hint is bool:
        return _bool
    if hint is dt.date:
        return _date
    if dataclasses.is_dataclass(hint):
        return lambda value, path: _build(hint, value, path)
    if origin is typing.Literal:
        allowed = frozenset(args)
        shown = ", ".join(repr(a) for a in args)

        def literal(value: Any, path: Path) -> Any:
            if type(value) is str and value in allowed:
                return value
            raise _Problem(path, f"must be one of {shown}, not {str(value)[:40]!r}")
        return literal
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        nullable = len(options) < len(args)
        if set(options) == {int, str}:
            def int_or_text(value: Any, path: Path) -> Any:
                if value is None and nullable:
                    return None
                if type(value) in (int, str):
                    return value
                raise _Problem(path, f"must be a number or text, not {_kind(value)}")
            return int_or_text
        assert len(options) == 1, f"unsupported union {hint}"
        inner = _converter(options[0])
        return lambda value, path: None if value is None else inner(value, path)
    if origin is list:
        item = _converter(args[0])
        lone_scalar = args[0] is str

        simple = (str,) if args[0] is str else (int, str) if set(typing.get_args(args[0])) == {int, str} else ()

        def listing(value: Any, path: Path) -> list[Any]:
            if type(value) is not list:
                if lone_scalar and type(value) in (str, int, float):
                    value = [value]
                else:
                    raise _Problem(path, f"must be a list, not {_kind(value)}")
            if simple and all(type(v) in simple for v in value):
                return value
            return [item(v, (*path, i)) for i, v in enumerate(value)]
        return listing
    if origin is dict:
        item = _converter(args[1])

        def mapping(value: Any, path: Path) -> dict[str, Any]:
            if type(value) is not dict:
                raise _Problem(path, f"must be a mapping, not {_kind(value)}")
            return {k: item(v, (*path, k)) for k, v in value.items()}
        return mapping
    raise TypeError(f"records do not support the annotation {hint!r}")


def _spec(cls: type) -> tuple[frozenset[str], list[Field], list[tuple[Any, Any]]]:
    spec = _SPECS.get(cls)
    if spec is None:
        hints = typing.get_type_hints(cls)
        fields, hidden = [], []
        for f in dataclasses.fields(cls):
            setter = getattr(cls, f.name).__set__  # the slot itself: no frozen __setattr__ on the way
            if not f.init:
                hidden.append((setter, f))
                continue
            hint = hints[f.name]
            options = [a for a in typing.get_args(hint) if a is not type(None)] \
                if typing.get_origin(hint) in (typing.Union, types.UnionType) else [hint]
            nullable = len(options) < len(typing.get_args(hint))
            single = options[0] if len(options) == 1 else None
            as_is = True if single is str or set(options) == {int, str} else (
                frozenset(typing.get_args(single)) if typing.get_origin(single) is typing.Literal else None)
            fields.append((f.name, _converter(hint), f.default, f.default_factory, setter, as_is, nullable))
        spec = _SPECS[cls] = (frozenset(name for name, *_ in fields), fields, hidden)
    return spec


def _build(cls: type[T], data: Any, path: Path) -> T:
    if type(data) is not dict:
        raise _Problem(path, f"must be a mapping (key: value lines), not {_kind(data)}")
    names, fields, hidden = _spec(cls)
    if not names.issuperset(data):
        key = next(k for k in data if k not in names)
        raise _Problem((*path, key), "not a known field (a typo?)", "fields here: " + ", ".join(sorted(names)))
    obj = object.__new__(cls)
    get = data.get
    for name, convert, default, factory, setter, as_is, nullable in fields:
        value = get(name, _MISSING)
        if type(value) is str:  # the common cases, without a call
            if as_is is True or (as_is is not None and value in as_is):
                setter(obj, value)
                continue
        elif value is None and nullable:
            setter(obj, None)
            continue
        if value is _MISSING:
            if default is not _MISSING:
                value = default
            elif factory is not _MISSING:
                value = factory()
            else:
                raise _Problem((*path, name), "required, but missing")
        else:
            value = convert(value, (*path, name))
        setter(obj, value)
    for setter, f in hidden:
        setter(obj, f.default_factory() if f.default_factory is not _MISSING else f.default)
    return obj


def from_data(cls: type[T], data: Any, doc: Any = None, path: Sequence[str | int] = ()) -> T:
    """A CLS record from plain data; InputError located in DOC (a cloudctl.inputs Document)."""
    try:
        return _build(cls, data, tuple(path))
    except _Problem as p:
        if doc is None:
            from cloudctl.inputs.documents import format_path

            raise InputError(p.message, field=format_path(p.path) or None, hint=p.hint) from None
        raise doc.error(p.path, p.message, hint=p.hint) from None


def to_data(value: Any, *, exclude: frozenset[str] = frozenset(), exclude_none: bool = False) -> Any:
    """Plain data of a record (dates as YYYY-MM-DD); EXCLUDE names top-level fields to leave out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            if not f.init or f.name in exclude:
                continue
            item = getattr(value, f.name)
            if item is None and exclude_none:
                continue
            out[f.name] = to_data(item, exclude_none=exclude_none)
        return out
    if isinstance(value, list):
        return [to_data(v, exclude_none=exclude_none) for v in value]
    if isinstance(value, dict):
        return {k: to_data(v, exclude_none=exclude_none) for k, v in value.items()}
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
