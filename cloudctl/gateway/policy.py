"""Policy models (pydantic) and the YAML loader that remembers where every node came from.

The loader composes the YAML node tree with a SafeLoader subclass and converts it itself,
recording the line and column of each node under its path (e.g. ("publications", 3,
"ports")), so that every error names file:line:column and the field.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from cloudctl.errors import InputError

NodePath = tuple[str | int, ...]
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
ZONE_KINDS = ("public", "dedicated", "internet-access", "internet")
ACCESS_CLASSES = ("A", "B", "C", "D", "E", "F")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _as_text(value: Any) -> Any:
    """YAML turns 110000 into an int and 10.0 into a float; names and addresses are text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(value)
    return value


def _as_text_list(value: Any) -> Any:
    if isinstance(value, str | int | float):
        value = [value]
    return [_as_text(v) for v in value] if isinstance(value, list) else value


class SourceMap:
    """Where each node of a policy came from: file name and (line, column) per path (1-based)."""

    def __init__(self, file: str | None, marks: dict[NodePath, tuple[int, int]]) -> None:
        self.file = file
        self.marks = marks

    def locate(self, path: NodePath) -> tuple[int | None, int | None]:
        """The mark of the deepest known node on `path` (a missing key points at its parent)."""
        for end in range(len(path), -1, -1):
            mark = self.marks.get(tuple(path[:end]))
            if mark:
                return mark
        return None, None

    def error(self, path: NodePath, message: str, *, hint: str | None = None) -> InputError:
        line, column = self.locate(path)
        return InputError(message, file=self.file, line=line, column=column,
                          field=format_path(path) or None, hint=hint)


class Interface(_Model):
    name: str
    addresses: list[str] = Field(default_factory=list)
    zones: list[str]

    _text = field_validator("name", mode="before")(_as_text)
    _lists = field_validator("addresses", "zones", mode="before")(_as_text_list)


class Gateway(_Model):
    name: str
    division: str
    management_address: str
    exit_address: str
    exit_address_v6: str | None = None
    interfaces: list[Interface]

    _text = field_validator("name", "division", "management_address", "exit_address", "exit_address_v6",
                            mode="before")(_as_text)


class Zone(_Model):
    kind: Literal["public", "dedicated", "internet-access", "internet"]
    cidrs: list[str] = Field(default_factory=list)
    department: str | None = None

    _lists = field_validator("cidrs", mode="before")(_as_text_list)
    _text = field_validator("department", mode="before")(_as_text)


class Portal(_Model):
    name: str
    addresses: list[str]

    _text = field_validator("name", mode="before")(_as_text)
    _lists = field_validator("addresses", mode="before")(_as_text_list)


Port = int | str


class Service(_Model):
    name: str
    department: str
    address: str
    protocol: Literal["tcp", "udp"]
    ports: list[Port]

    _text = field_validator("name", "department", "address", mode="before")(_as_text)


class Publication(_Model):
    name: str
    service: str
    portal: str
    ports: list[Port] | None = None
    direction: Literal["inbound", "outbound"] = "inbound"
    expires: dt.date | None = None
    owner: str | None = None
    justification: str | None = None

    _text = field_validator("name", "service", "portal", "owner", mode="before")(_as_text)


class Department(_Model):
    name: str
    access_class: Literal["A", "B", "C", "D", "E", "F"]
    subnets: list[str] = Field(default_factory=list)

    _text = field_validator("name", mode="before")(_as_text)
    _lists = field_validator("subnets", mode="before")(_as_text_list)


class Policy(_Model):
    gateway: Gateway
    zones: dict[str, Zone]
    portals: list[Portal] = Field(default_factory=list)
    services: list[Service] = Field(default_factory=list)
    publications: list[Publication] = Field(default_factory=list)
    departments: list[Department] = Field(default_factory=list)

    _source: SourceMap | None = PrivateAttr(default=None)
    _checked: bool = PrivateAttr(default=False)

    @property
    def source(self) -> SourceMap:
        return self._source or SourceMap(None, {})


def format_path(path: NodePath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


_STR_TAG = "tag:yaml.org,2002:str"
_SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when built in


class _MarkingLoader(_SafeLoader):  # type: ignore[misc,valid-type]
    """A SafeLoader that converts the node tree itself, recording each node's mark by path."""

    def to_python(self, node: yaml.Node, path: NodePath, marks: dict[NodePath, tuple[int, int]]) -> Any:
        marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.construct_object(key_node, deep=True)
                if not isinstance(key, str | int):
                    raise InputError("mapping keys must be names", line=key_node.start_mark.line + 1,
                                     column=key_node.start_mark.column + 1, field=format_path(path) or None)
                key = str(key)
                if key in result:
                    raise InputError(f"duplicate key {key!r}", line=key_node.start_mark.line + 1,
                                     column=key_node.start_mark.column + 1, field=format_path((*path, key)))
                marks[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                result[key] = self.to_python(value_node, (*path, key), marks)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.to_python(item, (*path, i), marks) for i, item in enumerate(node.value)]
        if node.tag == _STR_TAG:
            return node.value
        return self.construct_object(node, deep=True)


def parse_policy_text(text: str, file: str | None = None) -> Policy:
    """Parse and type-check a policy document (no semantic checks: see check.py)."""
    marks: dict[NodePath, tuple[int, int]] = {}
    loader = _MarkingLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise InputError("the policy file is empty", file=file,
                             hint="start from the example in docs/gateway.md")
        data = loader.to_python(node, (), marks)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise InputError(f"not valid YAML: {e.problem or e.context}", file=file,
                         line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None) from e
    except InputError as e:
        e.file = file
        raise
    finally:
        loader.dispose()
    source = SourceMap(file, marks)
    if not isinstance(data, dict):
        raise source.error((), "a policy is a mapping with keys gateway, zones, portals, services, "
                               "publications, departments")
    try:
        policy = Policy.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        path = tuple(p for p in first["loc"] if isinstance(p, str | int))
        # pydantic names the union member it tried (e.g. "int"); drop it from the path.
        path = tuple(p for p in path if p not in ("int", "str", "date"))
        more = f" (and {e.error_count() - 1} more problems)" if e.error_count() > 1 else ""
        raise source.error(path, f"{first['msg']}{more}") from e
    policy._source = source
    return policy


def load_policy(path: str | Path, *, validate: bool = True) -> Policy:
    """Read a policy file; with validate (the default) also run every semantic check."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise InputError(f"no such policy file: {path}", file=str(path),
                         hint="give the path of a YAML policy (see docs/gateway.md)") from e
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read the policy: {e}", file=str(path)) from e
    policy = parse_policy_text(text, file=str(path))
    if validate:
        from cloudctl.gateway.check import ensure_valid

        ensure_valid(policy)
    return policy
