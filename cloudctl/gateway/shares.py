"""Data shares on the gateway (docs/sharing.md): what an approved share opens, and its checks. Pure.

A share lets the consumer department's subnets (as this policy declares them) open new
connections to the shared service's address, on the granted ports (default: the service's) with
the service's protocol, from `starts` through `until` (both inclusive), unless revoked (nothing
from the revocation day on). Nothing else opens: not the reverse direction, not other services
of the owner, not other ports. A subnet in the service's own zone needs no gateway (the gateway
does not forward within a zone) and opens nothing here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cloudctl.gateway.netspace import Interval, covers, normalize, parse_address, parse_port_spec

if TYPE_CHECKING:
    from cloudctl.gateway.policy import Policy, Share

ONE_DAY = dt.timedelta(days=1)


def share_name(share_id: int) -> str:
    """How analyze, query and diff name a share: share-<id> (the id of its approval request)."""
    return f"share-{share_id}"


def share_counter_name(share_id: int) -> str:
    return f"share_{share_id}"


def closes_on(share: Share) -> dt.date | None:
    """The first day the share allows nothing: the day after `until`, or the revocation day if earlier."""
    after = share.until + ONE_DAY if share.until < dt.date.max else None
    if share.revoked is None:
        return after
    return share.revoked if after is None else min(after, share.revoked)


def was_revoked(share: Share) -> bool:
    """Revocation, not expiry, is what closed (or will close) it."""
    return share.revoked is not None and share.revoked <= share.until


def describe(share: Share) -> str:
    what = f"resource {share.resource!r} of {share.owner}" if share.resource else f"service {share.service}"
    return f"share {share.id} ({what} for {share.consumer}, until {share.until})"


def share_ports(policy: Policy, share: Share) -> tuple[Interval, ...]:
    service = next(s for s in policy.services if s.name == share.service)
    return tuple(normalize(parse_port_spec(p) for p in (share.ports if share.ports is not None else service.ports)))


def share_placements(policy: Policy, zone_of: Callable[..., str | None], share: Share
                     ) -> list[tuple[int, Interval, str]]:
    """(family, source interval, source zone) of each consumer subnet placed in a zone."""
    dept = next((d for d in policy.departments if d.name == share.consumer), None)
    out = []
    for subnet in dept.subnets if dept is not None else ():
        family, lo, hi = parse_address(subnet)
        zone = zone_of(family, lo, hi)
        if zone is not None:
            out.append((family, (lo, hi), zone))
    return out


def check_shares(policy: Policy, add: Callable[..., None]) -> None:
    """Report each problem of policy.shares through add(path, message, hint=None)."""
    services = {s.name: s for s in policy.services}
    departments = {d.name: d for d in policy.departments}
    seen: dict[int, int] = {}
    for i, share in enumerate(policy.shares):
        base = ("shares", i)
        if share.id < 1:
            add((*base, "id"), f"share id {share.id} must be a positive number")
        elif share.id in seen:
            add((*base, "id"), f"duplicate share id {share.id} (first at shares[{seen[share.id]}])")
        else:
            seen[share.id] = i
        service = services.get(share.service)
        if service is None:
            add((*base, "service"), f"unknown service {share.service!r}")
        consumer = departments.get(share.consumer)
        if consumer is None:
            add((*base, "consumer"), f"unknown department {share.consumer!r}", "declare it under departments")
        elif not consumer.subnets:
            add((*base, "consumer"), f"department {share.consumer!r} has no subnets here: the share would allow "
                                     "nothing", "list the department's subnets under departments")
        elif service is not None and service.department == share.consumer:
            add((*base, "consumer"), f"{share.consumer!r} owns service {share.service!r}: a department needs no "
                                     "share with itself")
        if share.starts is not None and share.starts > share.until:
            add((*base, "starts"), f"the share starts ({share.starts}) after it ends ({share.until})")
        if share.ports is not None and service is not None:
            _check_ports((*base, "ports"), share.ports, service.ports, add)


def _check_ports(path: tuple[Any, ...], wanted: list[Any], offered: list[Any], add: Callable[..., None]) -> None:
    if not wanted:
        add(path, "at least one port is required", "leave ports out to grant all the service's ports")
        return
    granted: list[Interval] = []
    for j, spec in enumerate(wanted):
        try:
            granted.append(parse_port_spec(spec))
        except ValueError as e:
            add((*path, j), str(e), "ports are 1-65535, or ranges like 8000-8010")
            return
    try:
        service_ports = normalize(parse_port_spec(p) for p in offered)
    except ValueError:
        return  # the service's own ports are reported where they are
    if not covers(service_ports, normalize(granted)):
        add(path, f"ports must be among the service's ports ({', '.join(map(str, offered))})")
