"""Semantic validation of a policy: every problem with its path, so errors name file:line:field.

Checks: address literals (never hostnames), each address inside its zone, zones do not
overlap, no publication to or from a whole zone or `any`, ports 1-65535 and within the
service's ports, references resolve, names unique, interfaces carry each zone exactly once,
departments' access classes and subnets; data shares (gateway/shares.py check_shares).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import pairwise

from cloudctl.errors import InputError
from cloudctl.gateway.netspace import AddressError, Interval, covers, normalize, parse_address, parse_port_spec
from cloudctl.gateway.policy import NAME_RE, NodePath, Policy, format_path
from cloudctl.gateway.topology import ZoneIndex

_NAMES_RE = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9_.-]{0,62}\n)*")
IFNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")
EGRESS_CLASSES = frozenset("BD")  # through this gateway's unified exit (docs/gateway.md)
DEDICATED_CLASSES = frozenset("DE")


@dataclass(frozen=True)
class Problem:
    path: NodePath
    message: str
    hint: str | None = None

    def to_error(self, policy: Policy) -> InputError:
        return policy.source.error(self.path, self.message, hint=self.hint)


class _Checker:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.problems: list[Problem] = []
        self.zone_spans: list[tuple[int, int, int, str]] = []
        self.index = ZoneIndex()

    def add(self, path: NodePath, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(path, message, hint))

    def address(self, path: NodePath, text: str, **kw: bool) -> tuple[int, int, int] | None:
        try:
            return parse_address(text, **kw)
        except AddressError as e:
            self.add(path, str(e), "write an IPv4/IPv6 literal such as 10.20.0.5 or 10.20.0.0/24")
            return None

    def unique(self, names: list[str], paths: Callable[[], Iterable[NodePath]], what: str) -> None:
        if len(set(names)) == len(names) and _NAMES_RE.fullmatch("\n".join(names) + "\n"):
            return  # the common case, in two C-level passes; otherwise find and name each problem
        seen: dict[str, NodePath] = {}
        for path, name in zip(paths(), names, strict=True):
            if not NAME_RE.match(name):
                self.add(path, f"{what} name {name!r} must be 1-63 characters of A-Z a-z 0-9 _ . - "
                               "starting with a letter or digit")
            if name in seen:
                self.add(path, f"duplicate {what} name {name!r} (first at {format_path(seen[name])})")
            else:
                seen[name] = path

    def run(self) -> list[Problem]:
        p = self.policy
        self.unique(list(p.zones), lambda: (("zones", n) for n in p.zones), "zone")
        for key, items, what in (("portals", p.portals, "portal"), ("services", p.services, "service"),
                                 ("publications", p.publications, "publication"),
                                 ("departments", p.departments, "department")):
            self.unique([x.name for x in items], lambda k=key, xs=items: ((k, i, "name") for i in range(len(xs))), what)
        self.check_gateway()
        self.check_zones()
        self.check_interfaces()
        self.check_departments()
        self.check_portals()
        self.check_services()
        self.check_publications()
        if p.shares:
            from cloudctl.gateway.shares import check_shares

            check_shares(p, self.add)
        return self.problems

    def check_gateway(self) -> None:
        g = self.policy.gateway
        if not g.division.isdigit():
            self.add(("gateway", "division"), f"division code {g.division!r} must be digits",
                     "quote it in YAML to keep leading zeros: division: \"330100\"")
        self.address(("gateway", "management_address"), g.management_address, allow_prefix=False)
        exit4 = self.address(("gateway", "exit_address"), g.exit_address, allow_prefix=False)
        if exit4 and exit4[0] != 4:
            self.add(("gateway", "exit_address"), "exit_address is the IPv4 unified exit",
                     "put an IPv6 exit in exit_address_v6")
        if g.exit_address_v6 is not None:
            exit6 = self.address(("gateway", "exit_address_v6"), g.exit_address_v6, allow_prefix=False)
            if exit6 and exit6[0] != 6:
                self.add(("gateway", "exit_address_v6"), "exit_address_v6 must be an IPv6 address")

    def check_zones(self) -> None:
        dept_class = {d.name: d.access_class for d in self.policy.departments}
        internet = [n for n, z in self.policy.zones.items() if z.kind == "internet"]
        for extra in internet[1:]:
            self.add(("zones", extra), f"only one internet zone is allowed (already {internet[0]!r})")
        default = None
        for name, zone in self.policy.zones.items():
            base = ("zones", name)
            if zone.kind == "internet" and not zone.cidrs:
                default = name
            elif not zone.cidrs:
                self.add((*base, "cidrs"), f"zone {name!r} needs at least one cidr")
            for i, cidr in enumerate(zone.cidrs):
                parsed = self.address((*base, "cidrs", i), cidr, strict_network=True)
                if parsed:
                    self.zone_spans.append((*parsed, name))
            if zone.kind == "dedicated":
                if not zone.department:
                    self.add((*base, "department"), f"dedicated zone {name!r} needs its department")
                elif zone.department not in dept_class:
                    self.add((*base, "department"), f"unknown department {zone.department!r}",
                             "declare it under departments")
                elif dept_class[zone.department] not in DEDICATED_CLASSES:
                    self.add((*base, "department"),
                             f"department {zone.department!r} has access class {dept_class[zone.department]}, "
                             "which has no dedicated zone", "classes D and E have dedicated zones")
            elif zone.department is not None:
                self.add((*base, "department"), f"only dedicated zones belong to a department (this is {zone.kind})")
        self._check_overlaps()
        self.index = ZoneIndex.build(self.zone_spans, default)

    def _check_overlaps(self) -> None:
        spans = sorted(self.zone_spans)
        reach: tuple[int, int, str] | None = None  # (family, furthest end so far, its zone)
        for family, lo, hi, zone in spans:
            if reach and reach[0] == family and lo <= reach[1]:
                where = f"zone {reach[2]!r}" if reach[2] != zone else "another cidr of the same zone"
                self.add(("zones", zone, "cidrs"), f"zone {zone!r} overlaps {where}", "zones must not overlap")
            if not reach or reach[0] != family or hi > reach[1]:
                reach = (family, hi, zone)
        self.zone_spans = spans

    def check_interfaces(self) -> None:
        carried: dict[str, int] = {}
        names = Counter(i.name for i in self.policy.gateway.interfaces)
        for i, interface in enumerate(self.policy.gateway.interfaces):
            base = ("gateway", "interfaces", i)
            if not IFNAME_RE.match(interface.name):
                self.add((*base, "name"), f"interface name {interface.name!r} must be 1-15 characters "
                                          "of A-Z a-z 0-9 _ . -")
            if names[interface.name] > 1:
                self.add((*base, "name"), f"interface {interface.name!r} is declared more than once")
            for j, zone in enumerate(interface.zones):
                if zone not in self.policy.zones:
                    self.add((*base, "zones", j), f"unknown zone {zone!r}")
                elif zone in carried:
                    other = self.policy.gateway.interfaces[carried[zone]].name
                    self.add((*base, "zones", j), f"zone {zone!r} is already carried by interface {other!r}",
                             "each zone is reached through exactly one interface")
                else:
                    carried[zone] = i
            for j, text in enumerate(interface.addresses):
                parsed = self.address((*base, "addresses", j), text)
                if parsed:
                    zone = self.index.zone_of(parsed[0], parsed[1] if "/" not in text else _host(text))
                    if zone not in interface.zones:
                        self.add((*base, "addresses", j), f"{text} is not inside a zone this interface carries "
                                                          f"({', '.join(interface.zones)})")
        for name in self.policy.zones:
            if name not in carried:
                self.add(("zones", name), f"no interface carries zone {name!r}",
                         "list it under the zones of one gateway interface")

    def _inside(self, path: NodePath, text: str, kinds: tuple[str, ...], what: str,
                **kw: bool) -> tuple[int, int, int, str] | None:
        parsed = self.address(path, text, **kw)
        if not parsed:
            return None
        zone = self.index.zone_of(*parsed)
        if zone is None or self.policy.zones[zone].kind not in kinds:
            found = f"zone {zone!r} ({self.policy.zones[zone].kind})" if zone else "no zone"
            self.add(path, f"{what} {text} must lie inside a {' or '.join(kinds)} zone; it is in {found}")
            return None
        return (*parsed, zone)

    def check_portals(self) -> None:
        whole = {(f, lo, hi) for f, lo, hi, _ in self.zone_spans}
        for i, portal in enumerate(self.policy.portals):
            if not portal.addresses:
                self.add(("portals", i, "addresses"), f"portal {portal.name!r} needs at least one address")
            for j, text in enumerate(portal.addresses):
                path = ("portals", i, "addresses", j)
                parsed = self._inside(path, text, ("internet-access",), "portal address")
                if parsed and parsed[:3] in whole:
                    self.add(path, f"{text} is a whole zone: a publication names exact portal addresses")

    def check_services(self) -> None:
        depts = {d.name for d in self.policy.departments}
        for i, service in enumerate(self.policy.services):
            base = ("services", i)
            if service.department not in depts:
                self.add((*base, "department"), f"unknown department {service.department!r}")
            placed = self._inside((*base, "address"), service.address, ("public", "dedicated"), "service address",
                                  allow_prefix=False)
            if placed:
                zone = self.policy.zones[placed[3]]
                if zone.kind == "dedicated" and zone.department != service.department:
                    self.add((*base, "address"), f"{service.address} is in the dedicated zone of department "
                                                 f"{zone.department!r}, not of {service.department!r}")
            self.ports((*base, "ports"), service.ports)

    def ports(self, path: NodePath, specs: list[int | str]) -> list[Interval] | None:
        if not specs:
            self.add(path, "at least one port is required")
            return None
        out: list[Interval] = []
        for j, spec in enumerate(specs):
            try:
                out.append(parse_port_spec(spec))
            except ValueError as e:
                self.add((*path, j), str(e), "ports are 1-65535, or ranges like 8000-8010")
        return normalize(out)

    def check_publications(self) -> None:
        services = {s.name: s for s in self.policy.services}
        portals = {p.name: p for p in self.policy.portals}
        portal_families = {p.name: {_family(a) for a in p.addresses} for p in self.policy.portals}
        offered_ports = {s.name: (all(map(_port_ok, s.ports)),
                                  normalize(parse_port_spec(x) for x in s.ports if _port_ok(x)))
                         for s in self.policy.services}
        service_family = {s.name: _family(s.address) for s in self.policy.services}
        parsed_ports: dict[tuple[int | str, ...], list[Interval]] = {}  # valid port lists seen before
        for i, pub in enumerate(self.policy.publications):
            service = services.get(pub.service)
            portal = portals.get(pub.portal)
            if service is None:
                self.add(("publications", i, "service"), f"unknown service {pub.service!r}")
                if portal is None:
                    self.add(("publications", i, "portal"), f"unknown portal {pub.portal!r}")
                continue
            if pub.ports is not None:
                specs = tuple(pub.ports)
                wanted = parsed_ports.get(specs)
                if wanted is None:
                    before = len(self.problems)
                    wanted = self.ports(("publications", i, "ports"), pub.ports)
                    if len(self.problems) == before and wanted:
                        parsed_ports[specs] = wanted
                all_valid, offered = offered_ports[service.name]
                if wanted and all_valid and (len(wanted) != 1 or not _inside_one(offered, wanted[0])) \
                        and not covers(offered, wanted):
                    self.add(("publications", i, "ports"),
                             f"ports must be among the service's ports ({_fmt(service.ports)})")
            if portal is None:
                self.add(("publications", i, "portal"), f"unknown portal {pub.portal!r}")
            else:
                families = portal_families[portal.name]
                family = service_family[service.name]
                if family not in families and None not in families and family is not None:
                    base = ("publications", i)
                    self.add((*base, "portal"), f"portal {portal.name!r} has no address of the service's "
                                                "IP version: the publication would allow nothing")

    def check_departments(self) -> None:
        has_internet = any(z.kind == "internet" for z in self.policy.zones.values())
        seen: list[tuple[int, int, int, str, NodePath]] = []
        for i, dept in enumerate(self.policy.departments):
            base = ("departments", i)
            own = {n for n, z in self.policy.zones.items() if z.kind == "dedicated" and z.department == dept.name}
            for j, text in enumerate(dept.subnets):
                path = (*base, "subnets", j)
                placed = self._inside(path, text, ("public", "dedicated"), "department subnet", strict_network=True)
                if not placed:
                    continue
                if self.policy.zones[placed[3]].kind == "dedicated" and placed[3] not in own:
                    self.add(path, f"{text} is in dedicated zone {placed[3]!r}, which is not department "
                                   f"{dept.name!r}'s")
                seen.append((*placed[:3], dept.name, path))
                if placed[0] == 6 and dept.access_class in EGRESS_CLASSES and not self.policy.gateway.exit_address_v6:
                    self.add(path, f"department {dept.name!r} (class {dept.access_class}) egresses through the "
                                   "unified exit, but the gateway has no exit_address_v6 for IPv6",
                             "add gateway.exit_address_v6")
            if dept.access_class in EGRESS_CLASSES and dept.subnets and not has_internet:
                self.add((*base, "access_class"), f"class {dept.access_class} egresses to the internet, but no "
                                                  "zone has kind internet")
        seen.sort()
        for a, b in pairwise(seen):
            if a[0] == b[0] and b[1] <= a[2]:
                first, later = sorted((a, b), key=lambda x: x[4])
                self.add(later[4], f"subnet overlaps a subnet of department {first[3]!r}",
                         "each address belongs to one department")


def _inside_one(offered: list[Interval], wanted: Interval) -> bool:
    lo, hi = wanted
    return any(a <= lo and hi <= b for a, b in offered)


def _host(text: str) -> int:
    return parse_address(text.split("/")[0])[1]


def _port_ok(spec: int | str) -> bool:
    try:
        parse_port_spec(spec)
        return True
    except ValueError:
        return False


def _family(text: str) -> int | None:
    try:
        return parse_address(text)[0]
    except AddressError:
        return None


def _fmt(ports: list[int | str]) -> str:
    return ", ".join(str(p) for p in ports)


def check_policy(policy: Policy) -> list[Problem]:
    """Every problem of a parsed policy, in file order (empty: the policy is sound)."""
    problems = _Checker(policy).run()
    locate: Callable[[Problem], tuple[int, int]] = lambda pr: tuple(  # noqa: E731
        x or 0 for x in policy.source.locate(pr.path))
    return sorted(dict.fromkeys(problems), key=locate)


def ensure_valid(policy: Policy) -> Policy:
    """Raise InputError (exit 2) naming the first problem, with the count of the others."""
    if policy._checked:
        return policy
    problems = check_policy(policy)
    if problems:
        error = problems[0].to_error(policy)
        if len(problems) > 1:
            error.message += f" (and {len(problems) - 1} more problems: run `cloudctl gateway check`)"
        raise error
    policy._checked = True
    return policy
