"""The one definition of what the gateway allows; compile, query, analyze and diff all use it.

Allowed new connections (everything else forwarded is dropped; replies pass by conntrack):

* a publication, while active (no `expires`, or the date is after `at`): inbound, from each
  portal address, arriving on the interface carrying the portal's zone, to the service's
  address and the publication's ports, leaving on the interface carrying the service's zone;
  outbound the reverse (the service connects to the portal's addresses on those ports);
* egress of a department whose access class takes the unified exit of this gateway (B, D):
  from its subnets, arriving on the interface of the subnet's zone, to internet addresses
  (outside every other zone), leaving on the internet zone's interface, source-NATed to
  `exit_address` (`exit_address_v6` for IPv6). Classes A, C, E, F have no egress here;
* an approved data share, while in effect (from `starts` through `until`, unless revoked): from
  the consumer department's subnets to the shared service's address and the granted ports
  (gateway/shares.py).

Dedicated zones therefore never reach each other except through an approved share, and nothing
from the internet or the internet access zone reaches the public or dedicated zones except
through a publication. Publications and shares are "rules" numbered in one order (publications
in file order, then shares): the first active rule allowing a flow decides and counts it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import NamedTuple

from cloudctl.gateway.cells import Grid, flow_grid
from cloudctl.gateway.netspace import Interval, normalize, parse_address, parse_port_spec
from cloudctl.gateway.policy import Policy
from cloudctl.gateway.topology import Topology

EGRESS_CLASSES = frozenset("BD")
ACCESS_CLASS_MEANING = {
    "A": "public zone only; no internet egress",
    "B": "public zone + the unified internet exit of this gateway (SNAT to exit_address)",
    "C": "public zone + the department's own internet exit (not through this gateway)",
    "D": "public + dedicated zone + the unified internet exit of this gateway (SNAT to exit_address)",
    "E": "public + dedicated zone + the department's own internet exit (not through this gateway)",
    "F": "through a government park network, which holds the internet access: no egress here",
}
ANY_PORT: tuple[Interval, ...] = ((0, 65535),)
FOREVER = dt.date.max

GroupKey = tuple[int, str, str, str]  # (family, iif, oif, proto)


class PubFlow(NamedTuple):
    """One portal address x one service address of a publication, or one consumer subnet x the service
    address of a share (kind "share"); group = (family, iif, oif, proto)."""

    order: int
    name: str
    family: int
    iif: str
    oif: str
    src: Interval
    dst: Interval
    src_zone: str
    dst_zone: str
    proto: str
    ports: tuple[Interval, ...]
    expires: dt.date | None
    owner: str | None
    group: GroupKey
    tag: tuple[int, dt.date, str | None]  # (order, expiry key, owner): what the analysis grid carries
    kind: str = "publication"  # or "share"
    starts: dt.date | None = None  # shares: the first day it allows

    def active(self, at: dt.date) -> bool:
        return (self.expires is None or at < self.expires) and (self.starts is None or self.starts <= at)

    @property
    def expiry_key(self) -> dt.date:
        return self.expires or FOREVER


@dataclass(frozen=True)
class EgressFlow:
    """One subnet of a department that leaves through the unified exit."""

    department: str
    access_class: str
    family: int
    iif: str
    oif: str
    src: Interval
    src_zone: str


class Rule(NamedTuple):
    """A publication or a share, by its order (publications in file order, then shares)."""

    kind: str  # publication | share
    name: str
    expires: dt.date | None  # the first day it allows nothing
    owner: str | None
    starts: dt.date | None = None
    revoked: bool = False  # shares: closed by revocation rather than expiry

    def active(self, at: dt.date) -> bool:
        return (self.expires is None or at < self.expires) and (self.starts is None or self.starts <= at)


@dataclass
class Semantics:
    policy: Policy
    topology: Topology
    publications: list[PubFlow]  # the flows of every rule: publications', then shares'
    egress: list[EgressFlow]
    rules: list[Rule] = field(default_factory=list)

    _grids: dict[dt.date, Grid] = field(default_factory=dict)
    _active: dict[dt.date, list[PubFlow]] = field(default_factory=dict)

    def active_publications(self, at: dt.date) -> list[PubFlow]:
        if at not in self._active:
            self._active[at] = [f for f in self.publications if (f.expires is None or at < f.expires)
                                and (f.starts is None or f.starts <= at)]
        return self._active[at]

    def grid(self, at: dt.date) -> Grid:
        """The cells of the publications active on `at` (computed once; analyze and compile share it)."""
        if at not in self._grids:
            self._grids[at] = flow_grid(self.active_publications(at))
        return self._grids[at]

    def exit_for(self, family: int) -> str | None:
        gw = self.policy.gateway
        return gw.exit_address if family == 4 else gw.exit_address_v6


def publication_ports(policy: Policy) -> list[tuple[Interval, ...]]:
    services = {s.name: s for s in policy.services}
    seen: dict[tuple[int | str, ...], tuple[Interval, ...]] = {}
    out = []
    for pub in policy.publications:
        specs = tuple(pub.ports if pub.ports is not None else services[pub.service].ports)
        ports = seen.get(specs)
        if ports is None:
            ports = seen[specs] = tuple(normalize(parse_port_spec(s) for s in specs))
        out.append(ports)
    return out


def build_semantics(policy: Policy) -> Semantics:
    """Expand a checked policy into flows (see check.ensure_valid)."""
    topo = Topology.from_policy(policy)
    zone_of = topo.zones.zone_of
    portals = {p.name: [parse_address(a) for a in p.addresses] for p in policy.portals}
    placed_services = {}
    for service in policy.services:
        family, lo, hi = parse_address(service.address)
        placed_services[service.name] = (family, (lo, hi), zone_of(family, lo, hi), service.protocol)
    placed_portals = {name: [(f, (lo, hi), zone_of(f, lo, hi)) for f, lo, hi in addresses]
                      for name, addresses in portals.items()}
    iface = topo.iface
    new_flow = tuple.__new__  # PubFlow(...) without the generated __new__'s frame: 5,000 flows add up
    flows: list[PubFlow] = []
    for order, (pub, ports) in enumerate(zip(policy.publications, publication_ports(policy), strict=True)):
        s_family, s_span, s_zone, proto = placed_services[pub.service]
        inbound = pub.direction == "inbound"
        tag = (order, pub.expires or FOREVER, pub.owner)
        for family, p_span, p_zone in placed_portals[pub.portal]:
            if family != s_family or s_zone is None or p_zone is None:
                continue
            if inbound:
                src, dst, src_zone, dst_zone = p_span, s_span, p_zone, s_zone
            else:
                src, dst, src_zone, dst_zone = s_span, p_span, s_zone, p_zone
            iif, oif = iface[src_zone], iface[dst_zone]
            flows.append(new_flow(PubFlow, (order, pub.name, family, iif, oif, src, dst, src_zone, dst_zone, proto,
                                            ports, pub.expires, pub.owner, (family, iif, oif, proto), tag,
                                            "publication", None)))
    rules = [Rule("publication", p.name, p.expires, p.owner) for p in policy.publications]
    if policy.shares:
        rules += _share_flows(policy, topo, placed_services, flows)
    egress: list[EgressFlow] = []
    if topo.internet_zone is not None:
        out_iface = topo.iface[topo.internet_zone]
        for dept in policy.departments:
            if dept.access_class not in EGRESS_CLASSES:
                continue
            for subnet in dept.subnets:
                family, lo, hi = parse_address(subnet)
                zone = zone_of(family, lo, hi)
                if zone is not None:
                    egress.append(EgressFlow(dept.name, dept.access_class, family, topo.iface[zone], out_iface,
                                             (lo, hi), zone))
    return Semantics(policy, topo, flows, egress, rules)


def _share_flows(policy: Policy, topo: Topology, placed_services: dict, flows: list[PubFlow]) -> list[Rule]:
    """Append the flows of every share (ordered after the publications); their rules."""
    from cloudctl.gateway.shares import closes_on, share_name, share_placements, share_ports, was_revoked

    rules = []
    for k, share in enumerate(policy.shares):
        order, name, expires = len(policy.publications) + k, share_name(share.id), closes_on(share)
        rules.append(Rule("share", name, expires, share.owner, share.starts, was_revoked(share)))
        s_family, dst, dst_zone, proto = placed_services[share.service]
        ports = share_ports(policy, share)
        tag = (order, expires or FOREVER, share.owner)
        for family, src, src_zone in share_placements(policy, topo.zones.zone_of, share):
            if family != s_family or dst_zone is None or src_zone == dst_zone:
                continue
            iif, oif = topo.iface[src_zone], topo.iface[dst_zone]
            flows.append(PubFlow(order, name, family, iif, oif, src, dst, src_zone, dst_zone, proto, ports, expires,
                                 share.owner, (family, iif, oif, proto), tag, "share", share.starts))
    return rules
