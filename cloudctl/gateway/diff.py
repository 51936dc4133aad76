"""Flows whose verdict changes between two policies, summarised per publication, data share and egress.

Both policies' allowed flows (active publications on `at`, and department egress) are cut
on one grid; per cell the opened ports (new minus old) are credited to the first new
publication allowing them, the closed ports (old minus new) to the first old one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from cloudctl.gateway.cells import build_grid
from cloudctl.gateway.netspace import Interval, format_address_range, format_ports, normalize, size, subtract
from cloudctl.gateway.semantics import ANY_PORT, Semantics

Tag = tuple[int, int, str, str]  # (side 0 old / 1 new, order, kind, name)


@dataclass
class Change:
    kind: str  # publication | share | egress
    name: str
    change: str  # opened | closed
    flows: int = 0  # publications: address pairs x ports; egress: source addresses
    examples: list[str] = field(default_factory=list)


def _items(sem: Semantics, side: int, at: dt.date) -> list:
    items = []
    for f in sem.active_publications(at):
        items.append((f.group, f.src, f.dst, f.ports, (side, f.order, f.kind, f.name)))
    offset = len(sem.rules)
    for k, e in enumerate(sem.egress):
        for dst in sem.topology.internet_space[e.family]:
            items.append(((e.family, e.iif, e.oif, "any"), e.src, dst, ANY_PORT, (side, offset + k, "egress",
                                                                                   e.department)))
    return items


def diff_policies(old: Semantics, new: Semantics, at: dt.date, examples: int = 3,
                  old_at: dt.date | None = None) -> list[Change]:
    """Opened and closed flows per publication / share / department, in a stable order. OLD is evaluated on
    OLD_AT (default: AT), so one stored gateway against itself shows what expiry closes between two dates."""
    grid = build_grid([*_items(old, 0, old_at or at), *_items(new, 1, at)])
    changes: dict[tuple[str, str, str], Change] = {}
    seen_sources: set[tuple] = set()
    for (gid, i, j), entries in grid.cells.items():
        group = grid.groups[gid]
        old_ports = normalize(iv for t, p in entries if t[0] == 0 for iv in p)
        new_ports = normalize(iv for t, p in entries if t[0] == 1 for iv in p)
        for side, gained in ((1, subtract(new_ports, old_ports)), (0, subtract(old_ports, new_ports))):
            if not gained:
                continue
            rest: list[Interval] = gained
            for tag, ports in sorted(e for e in entries if e[0][0] == side):
                mine = [iv for iv in _clip(rest, ports)]
                if not mine:
                    continue
                rest = subtract(rest, mine)
                key = (tag[2], tag[3], "opened" if side == 1 else "closed")
                change = changes.setdefault(key, Change(*key))
                src, dst = grid.src_segment(gid, i), grid.dst_segment(gid, j)
                family, iif, oif, proto = group
                if tag[2] == "egress":  # counted in source addresses: the destination is the internet
                    if (key, group, i) in seen_sources:
                        continue
                    seen_sources.add((key, group, i))
                    change.flows += src[1] - src[0] + 1
                    example = f"{iif}->{oif} {format_address_range(family, *src)} -> internet (any port)"
                else:
                    change.flows += (src[1] - src[0] + 1) * (dst[1] - dst[0] + 1) * size(mine)
                    example = (f"{iif}->{oif} {format_address_range(family, *src)} -> "
                               f"{format_address_range(family, *dst)} {proto}/{format_ports(mine)}")
                if len(change.examples) < examples and example not in change.examples:
                    change.examples.append(example)
                if not rest:
                    break
    rank = {"publication": 0, "share": 1, "egress": 2}
    return sorted(changes.values(), key=lambda c: (rank[c.kind], c.name, c.change))


def _clip(rest: list[Interval], ports: tuple[Interval, ...]) -> list[Interval]:
    from cloudctl.gateway.netspace import intersect

    return intersect(rest, normalize(ports))


def summarize(changes: list[Change]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for c in changes:
        out[c.change] += c.flows
    return dict(out)
