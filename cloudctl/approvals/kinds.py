"""The registered request kinds: each with a pydantic payload schema and its size fields. Pure.

A request of an unknown kind is refused, and so is a payload that does not fit its kind's schema
(unknown fields, negative or missing sizes). The size fields are what an approval policy's
`auto_approve.max` judges; every kind's sizes are computed by cloudctl (a server's vcpus and ram
come from its flavor), never taken on the requester's word, and every size field is always
present in the stored payload, so an auto-approval tier can be checked field by field and fails
closed (approvals/policy.py Policy.auto_approves).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from cloudctl.cloud.model import QUOTA_KEYS
from cloudctl.errors import InputError

MAX_COUNT = 50
MAX_SIZE = 10**9


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true/false")
    return value


Size = Annotated[int, BeforeValidator(_not_bool), Field(ge=0, le=MAX_SIZE)]


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuotaIncrease(Payload):
    """Increments added to the department's quotas on approval (at least one)."""

    vcpus: Size = 0
    ram: Size = Field(0, description="MB")
    instances: Size = 0
    volumes: Size = 0
    gigabytes: Size = 0
    networks: Size = 0
    subnets: Size = 0
    routers: Size = 0
    ports: Size = 0
    floating_ips: Size = 0
    security_groups: Size = 0

    @model_validator(mode="after")
    def _something(self) -> QuotaIncrease:
        if not any(self.model_dump().values()):
            raise ValueError("no quota to increase: give at least one positive increment")
        return self


class Servers(Payload):
    flavor: str = Field(min_length=1, max_length=200)
    image: str = Field(min_length=1, max_length=200)
    count: Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=MAX_COUNT)] = 1
    network: str | None = Field(None, min_length=1, max_length=200)


class Volumes(Payload):
    size_gb: Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=65536)]
    count: Annotated[int, BeforeValidator(_not_bool), Field(ge=1, le=MAX_COUNT)] = 1


class GatewayPublication(Payload):
    gateway: str = Field(min_length=1, max_length=100)
    publication: str = Field(min_length=1, max_length=100)
    body: dict[str, Any]


class DataShare(Payload):
    """A department asks for another's catalogued data service (cloudctl share request; docs/sharing.md)."""

    resource: str = Field(min_length=1, max_length=64)
    resource_class: Literal["open", "conditional"]  # closed resources are refused before a request exists
    owner: str = Field(min_length=1, max_length=32)
    consumer: str = Field(min_length=1, max_length=32)
    gateway: str = Field(min_length=1, max_length=64)
    service: str = Field(min_length=1, max_length=64)
    ports: list[int | str] = Field(min_length=1, max_length=64)
    until: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    purpose: str = Field(min_length=1, max_length=2000)


Sizer = Callable[[Any, dict[str, Any] | None], dict[str, int]]


@dataclass(frozen=True)
class Kind:
    """A request kind: its payload schema, its size fields and how to compute them."""

    name: str
    payload: type[Payload]
    size_fields: tuple[str, ...]
    sizes: Sizer
    filed_by: str = "cloudctl request create"  # or another command that files it (gateway import)
    needs_flavor: bool = False  # sizes need the cloud's flavor (looked up after authorization)
    applier_needed: bool = True  # False: the approval takes effect where it is read (gateway compile)

    def parse(self, raw: Any, field: str = "payload") -> Payload:
        if not isinstance(raw, dict):
            raise InputError("the payload must be a JSON object", field=field)
        try:
            return self.payload.model_validate(raw)
        except ValidationError as e:
            first = e.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise InputError(str(first.get("msg", "invalid")).removeprefix("Value error, "),
                             field=f"{field}.{where}" if where else field,
                             hint=f"a {self.name} payload has: {', '.join(self.payload.model_fields)}") from None

    def normalise(self, payload: Payload, flavor: dict[str, Any] | None = None) -> dict[str, Any]:
        """The stored payload: what was asked (defaults filled in) plus every size field."""
        return {**payload.model_dump(exclude_none=True), **self.sizes(payload, flavor)}


def _quota_sizes(p: QuotaIncrease, _flavor: dict[str, Any] | None) -> dict[str, int]:
    return p.model_dump()


def _server_sizes(p: Servers, flavor: dict[str, Any] | None) -> dict[str, int]:
    if flavor is None:
        raise InputError(f"no flavor {p.flavor!r} in the cloud", field="payload.flavor",
                         hint="openstack flavor list")
    return {"instances": p.count, "vcpus": p.count * int(flavor["vcpus"]), "ram": p.count * int(flavor["ram"])}


def _volume_sizes(p: Volumes, _flavor: dict[str, Any] | None) -> dict[str, int]:
    return {"volumes": p.count, "gigabytes": p.count * p.size_gb}


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("quota-increase", QuotaIncrease, tuple(QUOTA_KEYS), _quota_sizes),
    Kind("server", Servers, ("instances", "vcpus", "ram"), _server_sizes, needs_flavor=True),
    Kind("volume", Volumes, ("volumes", "gigabytes"), _volume_sizes),
    Kind("gateway-publication", GatewayPublication, (), lambda p, f: {}, filed_by="cloudctl gateway import",
         applier_needed=False),
    Kind("data-share", DataShare, (), lambda p, f: {}, filed_by="cloudctl share request", applier_needed=False),
)}


def get_kind(name: str, field: str = "kind") -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        raise InputError(f"unknown request kind {str(name)[:60]!r}", field=field,
                         hint="one of: " + ", ".join(KINDS))
    return kind

