"""Where addresses live: zones as sorted, disjoint intervals, and the interface carrying each zone.

The gateway routes by zone: a packet from an address in zone Z arrives on the interface
that carries Z, and a packet to an address in zone Z leaves on it. The internet zone, when
its cidrs are left out, is every address outside the other zones.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from cloudctl.gateway.netspace import MAX_BITS, Interval, normalize, parse_address, subtract
from cloudctl.gateway.policy import Policy


@dataclass
class ZoneIndex:
    """Sorted disjoint zone intervals per family, with an optional catch-all internet zone."""

    starts: dict[int, list[int]] = field(default_factory=lambda: {4: [], 6: []})
    ends: dict[int, list[int]] = field(default_factory=lambda: {4: [], 6: []})
    names: dict[int, list[str]] = field(default_factory=lambda: {4: [], 6: []})
    default_zone: str | None = None

    @classmethod
    def build(cls, spans: list[tuple[int, int, int, str]], default_zone: str | None) -> ZoneIndex:
        """spans: (family, first, last, zone); they must not overlap (check.py enforces it)."""
        index = cls(default_zone=default_zone)
        for family, lo, hi, name in sorted(spans):
            index.starts[family].append(lo)
            index.ends[family].append(hi)
            index.names[family].append(name)
        return index

    def zone_of(self, family: int, lo: int, hi: int | None = None) -> str | None:
        """The zone holding the whole range [lo, hi], or None (outside, or straddling zones)."""
        hi = lo if hi is None else hi
        starts = self.starts[family]
        i = bisect_right(starts, lo) - 1
        if i >= 0 and self.ends[family][i] >= hi:
            return self.names[family][i]
        if self.default_zone is None:
            return None
        if i >= 0 and self.ends[family][i] >= lo:
            return None
        j = bisect_right(starts, hi) - 1
        return self.default_zone if j == i else None

    def declared(self, family: int) -> list[Interval]:
        return normalize(zip(self.starts[family], self.ends[family], strict=True))


@dataclass
class Topology:
    """The zones, their kinds and interfaces, and the internet's address space."""

    zones: ZoneIndex
    kind: dict[str, str]
    iface: dict[str, str]  # zone -> interface carrying it
    department_zones: dict[str, list[str]]  # department -> its dedicated zones
    internet_zone: str | None
    internet_space: dict[int, list[Interval]]  # family -> internet addresses (outside every other zone)

    @classmethod
    def from_policy(cls, policy: Policy) -> Topology:
        spans: list[tuple[int, int, int, str]] = []
        internet_zone = None
        internet_cidrs: list[tuple[int, int, int]] = []
        for name, zone in policy.zones.items():
            if zone.kind == "internet":
                internet_zone = name
                internet_cidrs = [parse_address(c) for c in zone.cidrs]
            spans.extend((*parse_address(c), name) for c in zone.cidrs)
        default = internet_zone if internet_zone is not None and not internet_cidrs else None
        index = ZoneIndex.build(spans, default)
        others = {f: normalize((lo, hi) for fam, lo, hi, z in spans if fam == f and z != internet_zone)
                  for f in (4, 6)}
        space: dict[int, list[Interval]] = {4: [], 6: []}
        if internet_zone is not None:
            for f in (4, 6):
                base = ([(0, (1 << MAX_BITS[f]) - 1)] if default
                        else normalize((lo, hi) for fam, lo, hi in internet_cidrs if fam == f))
                space[f] = subtract(base, others[f])
        iface: dict[str, str] = {}
        for interface in policy.gateway.interfaces:
            for z in interface.zones:
                iface.setdefault(z, interface.name)
        dept_zones: dict[str, list[str]] = {}
        for name, zone in policy.zones.items():
            if zone.kind == "dedicated" and zone.department:
                dept_zones.setdefault(zone.department, []).append(name)
        return cls(index, {n: z.kind for n, z in policy.zones.items()}, iface, dept_zones, internet_zone, space)
