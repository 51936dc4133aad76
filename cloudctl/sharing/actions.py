"""Data sharing's actions: add and retire catalogue resources, request and revoke shares.

Department-scoped on the power list: the owner department for the catalogue and for revocation
(the holder of the data closes it), the consumer department for a request. Everything a request
names must exist and fit when it is filed (bad input, exit 2, before authorization): the
resource is active and not closed, the consumer is another active department with subnets on
the resource's gateway, the ports are the service's, `until` is ahead.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator
from sqlalchemy import Connection, select

from cloudctl.action import Action, Context, Inputs
from cloudctl.errors import ConflictError, InputError
from cloudctl.fields import DeptCode, IsoDate, RowId, ShortName, Text, problem
from cloudctl.power.roles import Scope
from cloudctl.sharing import model


def _ports(value: Any) -> Any:
    try:
        return model.parse_ports(value)
    except ValueError as e:
        raise problem(str(e), "e.g. --ports 443,8443 or 9000-9010; leave it out for all the service's ports") from None


def _resource_name(value: Any) -> Any:
    if not isinstance(value, str) or not model.RESOURCE_NAME_RE.match(value):
        raise problem(f"{str(value)[:40]!r} is not a resource name", "1-63 characters A-Z a-z 0-9 _ . -")
    return value


Ports = Annotated[list[int | str] | None, BeforeValidator(_ports)]
ResourceName = Annotated[str, BeforeValidator(_resource_name)]


def _owner_scope(conn: Connection, owner: str, field: str, *, active: bool = True) -> Scope:
    from cloudctl.cloud.actions import dept_scope

    return dept_scope(conn, owner, field, active=active)


# ---- the catalogue --------------------------------------------------------------------------------

class AddResource(Inputs):
    name: ResourceName
    dept: DeptCode = Field(description="the owner department")
    gateway: ShortName
    service: ShortName
    share_class: Literal["open", "conditional", "closed"]
    policy: ShortName | None = Field(None, description="approval policy (default share-<owner>)")
    description: Text | None = None

    @model_validator(mode="after")
    def _closed_says_why(self) -> AddResource:
        if self.share_class == "closed" and not self.description:
            raise InputError("a closed resource (不予共享) records its basis: requests are refused with it",
                             field="description", hint="--description 'the law or policy that keeps it closed'")
        return self

    @property
    def approval_policy(self) -> str:
        return self.policy or model.default_policy(self.dept)


def _new_resource(conn: Connection, inputs: AddResource) -> Scope:
    from cloudctl.sharing.store import check_reviewers, service_of, stored_gateway
    from cloudctl.store.tables.sharing import share_resource

    scope = _owner_scope(conn, inputs.dept, "dept")
    service = service_of(stored_gateway(conn, inputs.gateway), inputs.service)
    if service["department"] != inputs.dept:
        raise InputError(f"service {inputs.service!r} belongs to department {service['department']!r}, not "
                         f"{inputs.dept!r}", field="service", hint="a department catalogues its own services")
    if inputs.share_class != "closed":
        check_reviewers(conn, inputs.approval_policy)
    if conn.execute(select(share_resource.c.name).where(share_resource.c.name == inputs.name)).first():
        raise ConflictError(f"the catalogue already has a resource named {inputs.name!r}",
                            hint="choose another name, or `cloudctl share resource show NAME`")
    return scope


def _add_resource(ctx: Context, inputs: AddResource) -> dict[str, Any]:
    from cloudctl.sharing.store import add_resource

    values = {"name": inputs.name, "owner_dept": inputs.dept, "gateway": inputs.gateway, "service": inputs.service,
              "share_class": inputs.share_class, "approval_policy": inputs.approval_policy,
              "description": inputs.description}
    with ctx.store.begin() as conn:
        return add_resource(conn, ctx.actor, values, ctx.clock.now())


ADD_RESOURCE = Action("share.resource.add", AddResource, _add_resource, scope=_new_resource)


class RetireResource(Inputs):
    name: ResourceName
    reason: Text | None = None


def _retire_scope(conn: Connection, inputs: RetireResource) -> Scope:
    from cloudctl.sharing.store import get_resource

    row = get_resource(conn, inputs.name, "name")
    return _owner_scope(conn, row.owner_dept, "name", active=False)


def _retire(ctx: Context, inputs: RetireResource) -> dict[str, Any]:
    from cloudctl.sharing.store import retire_resource

    with ctx.store.begin() as conn:
        return retire_resource(conn, ctx.actor, inputs.name, inputs.reason, ctx.clock.now())


RETIRE_RESOURCE = Action("share.resource.retire", RetireResource, _retire, scope=_retire_scope,
                         confirm=lambda i: (f"retire {i.name}? its pending requests are withdrawn and its shares "
                                            "revoked: their flows close at the next deploy", i.name))


# ---- shares ---------------------------------------------------------------------------------------

class RequestShare(Inputs):
    resource: ResourceName
    dept: DeptCode = Field(description="the consumer department")
    purpose: Text
    until: IsoDate = Field(description="the last day the share is in effect")
    ports: Ports = None

    @model_validator(mode="after")
    def _until_ahead(self) -> RequestShare:
        from cloudctl import clock

        today = clock.current().today()
        if self.until < today:
            raise InputError(f"--until {self.until} is in the past (today is {today})", field="until",
                             hint="the last day the share should be in effect")
        if self.until > today + model.MAX_TERM:
            raise InputError(f"--until {self.until} is more than ten years ahead", field="until",
                             hint="ask for a shorter term: a share is reviewed again when it ends")
        return self


def _request_target(conn: Connection, inputs: RequestShare) -> Scope:
    from cloudctl.sharing.store import check_reviewers, get_resource, service_of, stored_gateway

    resource = get_resource(conn, inputs.resource)
    if resource.status != "active":
        raise InputError(f"resource {inputs.resource!r} was retired on {resource.retired_at}", field="resource")
    if resource.share_class == "closed":
        raise InputError(f"resource {inputs.resource!r} is closed (不予共享) and is never shared: "
                         f"{resource.description}", field="resource",
                         hint="closed resources are refused at once; ask the owner department about its basis")
    scope = _owner_scope(conn, inputs.dept, "dept")
    if inputs.dept == resource.owner_dept:
        raise InputError(f"{inputs.dept!r} owns {inputs.resource!r}: a department needs no share with itself",
                         field="dept")
    body = stored_gateway(conn, resource.gateway, "resource")
    service = service_of(body, resource.service, "resource")
    consumer = next((d for d in body.get("departments", []) if d["name"] == inputs.dept), None)
    if consumer is None or not consumer.get("subnets"):
        raise InputError(f"department {inputs.dept!r} has no subnets on gateway {resource.gateway!r}: a share "
                         "would open nothing", field="dept",
                         hint="its subnets are declared under departments in the gateway's policy")
    if not _crosses_the_gateway(body, service, consumer["subnets"]):
        raise InputError(f"department {inputs.dept!r} reaches {resource.service!r} without gateway {resource.gateway!r}"
                         " (its subnets are in the service's zone) or not at all (another IP version): a share "
                         "would open nothing", field="dept")
    if inputs.ports is not None:
        _within(inputs.ports, service["ports"])
    check_reviewers(conn, resource.approval_policy, "resource")
    return scope


def _crosses_the_gateway(body: dict[str, Any], service: dict[str, Any], subnets: list[str]) -> bool:
    """Some consumer subnet of the service's IP version is in another zone than the service."""
    from cloudctl.gateway.netspace import parse_address
    from cloudctl.gateway.policy import Policy
    from cloudctl.gateway.topology import Topology

    zone_of = Topology.from_policy(Policy.model_validate(body)).zones.zone_of
    family, lo, hi = parse_address(service["address"])
    target = zone_of(family, lo, hi)
    for subnet in subnets:
        f, a, b = parse_address(subnet)
        zone = zone_of(f, a, b)
        if f == family and zone is not None and zone != target:
            return True
    return False


def _within(wanted: list[int | str], offered: list[int | str]) -> None:
    from cloudctl.gateway.netspace import covers, normalize, parse_port_spec

    if not covers(normalize(parse_port_spec(p) for p in offered), normalize(parse_port_spec(p) for p in wanted)):
        raise InputError(f"ports {','.join(map(str, wanted))} are not all the service's "
                         f"({','.join(map(str, offered))})", field="ports")


def _request(ctx: Context, inputs: RequestShare) -> dict[str, Any]:
    from cloudctl.sharing.store import file_share, get_resource, service_of, stored_gateway
    from cloudctl.store.tables.approvals import approval_request
    from cloudctl.store.tables.cloud import department
    from cloudctl.store.tables.sharing import data_share

    with ctx.store.begin() as conn:
        resource = get_resource(conn, inputs.resource)
        pending = conn.execute(select(data_share.c.id).join(approval_request, approval_request.c.id == data_share.c.id)
                               .where(data_share.c.resource == resource.name, data_share.c.consumer_dept == inputs.dept,
                                      approval_request.c.status == "pending")).scalar()
        if pending is not None:
            raise ConflictError(f"share {pending} of {resource.name} for {inputs.dept} is already waiting for its "
                                "reviewers", hint=f"cloudctl request show {pending}")
        ports = inputs.ports or service_of(stored_gateway(conn, resource.gateway), resource.service)["ports"]
        region = conn.execute(select(department.c.division_code)
                              .where(department.c.code == resource.owner_dept)).scalar()
        return file_share(conn, ctx.actor, resource, consumer=inputs.dept, purpose=inputs.purpose,
                          until=inputs.until, ports=list(ports), owner_region=region, now=ctx.clock.now())


REQUEST_SHARE = Action("share.request", RequestShare, _request, scope=_request_target)


class RevokeShare(Inputs):
    share_id: RowId
    reason: Text


def _revoke_scope(conn: Connection, inputs: RevokeShare) -> Scope:
    from cloudctl.sharing.store import share_row

    return _owner_scope(conn, share_row(conn, inputs.share_id, "share_id").owner_dept, "share_id", active=False)


def _revoke(ctx: Context, inputs: RevokeShare) -> dict[str, Any]:
    from cloudctl.sharing.store import revoke_share

    with ctx.store.begin() as conn:
        return revoke_share(conn, ctx.actor, inputs.share_id, inputs.reason, ctx.clock.today(), ctx.clock.now())


REVOKE_SHARE = Action("share.revoke", RevokeShare, _revoke, scope=_revoke_scope,
                      confirm=lambda i: (f"revoke share {i.share_id}? its flow closes at the next compile or deploy "
                                         "of its gateway", str(i.share_id)))

ACTIONS = (ADD_RESOURCE, RETIRE_RESOURCE, REQUEST_SHARE, REVOKE_SHARE)
