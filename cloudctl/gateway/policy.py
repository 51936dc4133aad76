"""Policy models (pydantic) and their loader.

The file is read by cloudctl.inputs.documents (libyaml, bounded, no aliases, marks for every
node); the Document stays on the policy as its source, so that every error of the checks
names file:line:column and the field (e.g. publications[3].ports).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from cloudctl.inputs.documents import Document, NodePath, format_path, load_document, parse_document

__all__ = ["NAME_RE", "NodePath", "Policy", "format_path", "load_policy", "parse_policy_text", "policy_from_document"]
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
ZONE_KINDS = ("public", "dedicated", "internet-access", "internet")
ACCESS_CLASSES = ("A", "B", "C", "D", "E", "F")
POLICY_HINT = "a policy has the keys gateway, zones, portals, services, publications, departments (docs/gateway.md)"


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

    _source: Document | None = PrivateAttr(default=None)
    _checked: bool = PrivateAttr(default=False)

    @property
    def source(self) -> Document:
        """Where the policy came from: .error(path, message) names file:line:column and field."""
        return self._source or Document(None)


def policy_from_document(doc: Document) -> Policy:
    """Type-check a loaded document as a policy (no semantic checks: see check.py)."""
    data = doc.mapping("policy", hint=POLICY_HINT)
    try:
        policy = Policy.model_validate(data)
    except ValidationError as e:
        raise doc.validation_error(e, hint=POLICY_HINT) from e
    policy._source = doc
    return policy


def parse_policy_text(text: str, file: str | None = None, *, format: str = "yaml") -> Policy:
    """Parse and type-check a policy given as text."""
    return policy_from_document(parse_document(text, file=file, format=format))


def load_policy(path: str | Path, *, validate: bool = True) -> Policy:
    """Read a policy file (YAML, or JSON by its suffix); with validate (the default) also run
    every semantic check."""
    doc = load_document(path, what="policy", hint="give the path of a YAML policy (see docs/gateway.md)")
    policy = policy_from_document(doc)
    if validate:
        from cloudctl.gateway.check import ensure_valid

        ensure_valid(policy)
    return policy
