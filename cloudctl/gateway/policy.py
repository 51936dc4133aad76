"""Policy records and their loader.

The file is read by cloudctl.inputs.documents (libyaml, bounded, no alias bombs, marks for
every node) and typed by cloudctl.inputs.records (dataclasses: no pydantic on the check and
compile path, which is mostly start-up). The Document stays on the policy as its source, so
that every error of the checks names file:line:column and the field (publications[3].ports).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cloudctl.inputs.documents import Document, NodePath, format_path, load_document, parse_document, paused_gc
from cloudctl.inputs.records import from_data, record, to_data

__all__ = ["NAME_RE", "NodePath", "Policy", "format_path", "load_policy", "parse_policy_text", "policy_from_document"]
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
ZONE_KINDS = ("public", "dedicated", "internet-access", "internet")
ACCESS_CLASSES = ("A", "B", "C", "D", "E", "F")
POLICY_HINT = "a policy has the keys gateway, zones, portals, services, publications, departments (docs/gateway.md)"
Port = int | str


class _Dump:
    """What callers of the pydantic models used: model_dump and model_validate."""

    __slots__ = ()

    def model_dump(self, *, mode: str = "json", exclude: set[str] | None = None,
                   exclude_none: bool = False) -> dict[str, Any]:
        return to_data(self, exclude=frozenset(exclude or ()), exclude_none=exclude_none)


@record
class Interface(_Dump):
    name: str
    zones: list[str]
    addresses: list[str] = field(default_factory=list)


@record
class Gateway(_Dump):
    name: str
    division: str
    management_address: str
    exit_address: str
    interfaces: list[Interface]
    exit_address_v6: str | None = None


@record
class Zone(_Dump):
    kind: Literal["public", "dedicated", "internet-access", "internet"]
    cidrs: list[str] = field(default_factory=list)
    department: str | None = None


@record
class Portal(_Dump):
    name: str
    addresses: list[str]


@record
class Service(_Dump):
    name: str
    department: str
    address: str
    protocol: Literal["tcp", "udp"]
    ports: list[Port]


@record
class Publication(_Dump):
    name: str
    service: str
    portal: str
    ports: list[Port] | None = None
    direction: Literal["inbound", "outbound"] = "inbound"
    expires: dt.date | None = None
    owner: str | None = None
    justification: str | None = None


@record
class Share(_Dump):
    """An approved data share (docs/sharing.md): the consumer department's subnets may open new
    connections to the service's address on `ports` (default: the service's) from `starts`
    through `until`, both inclusive, unless revoked (nothing from that day on)."""

    id: int
    service: str
    consumer: str
    until: dt.date
    ports: list[Port] | None = None
    starts: dt.date | None = None
    revoked: dt.date | None = None
    resource: str | None = None
    owner: str | None = None


@record
class Department(_Dump):
    name: str
    access_class: Literal["A", "B", "C", "D", "E", "F"]
    subnets: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Policy(_Dump):
    gateway: Gateway
    zones: dict[str, Zone]
    portals: list[Portal] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    publications: list[Publication] = field(default_factory=list)
    departments: list[Department] = field(default_factory=list)
    shares: list[Share] = field(default_factory=list)  # approved data shares, from the store
    dropped_shares: list[str] = field(default_factory=list, init=False, repr=False, compare=False)
    _source: Document | None = field(default=None, init=False, repr=False, compare=False)
    _checked: bool = field(default=False, init=False, repr=False, compare=False)

    @property
    def source(self) -> Document:
        """Where the policy came from: .error(path, message) names file:line:column and field."""
        return self._source or Document(None)

    @classmethod
    def model_validate(cls, data: Any) -> Policy:
        """A policy from plain data (e.g. stored JSON); InputError if it is not one."""
        return from_data(cls, data)


def policy_from_document(doc: Document) -> Policy:
    """Type-check a loaded document as a policy (no semantic checks: see check.py)."""
    policy = from_data(Policy, doc.mapping("policy", hint=POLICY_HINT), doc)
    policy._source = doc
    return policy


def parse_policy_text(text: str, file: str | None = None, *, format: str = "yaml") -> Policy:
    """Parse and type-check a policy given as text."""
    return policy_from_document(parse_document(text, file=file, format=format))


def load_policy(path: str | Path, *, validate: bool = True) -> Policy:
    """Read a policy file (YAML, or JSON by its suffix); with validate (the default) also run
    every semantic check."""
    with paused_gc():  # tens of thousands of small objects: no collection would free any of them
        doc = load_document(path, what="policy", hint="give the path of a YAML policy (see docs/gateway.md)")
        policy = policy_from_document(doc)
        if validate:
            from cloudctl.gateway.check import ensure_valid

            ensure_valid(policy)
    return policy
