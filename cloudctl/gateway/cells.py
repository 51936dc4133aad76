"""Exact set algebra over flows: cut each (family, iif, oif, proto) group into cells.

Within a group, every source and destination interval endpoint becomes a breakpoint; the
elementary segments between breakpoints form a grid whose cells are either wholly inside
or wholly outside each flow's address box. Per cell, what remains is a union of port
intervals, which netspace handles exactly. Cost is linear in the cells flows touch, never
pairwise over all publications.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from cloudctl.gateway.netspace import Interval

T = TypeVar("T")


@dataclass
class Grid(Generic[T]):
    """Groups (by index), their segments, and the entries of every occupied cell (gid, i, j)."""

    groups: list[Hashable] = field(default_factory=list)
    src_bounds: list[list[int]] = field(default_factory=list)
    dst_bounds: list[list[int]] = field(default_factory=list)
    cells: dict[tuple[int, int, int], list[tuple[T, tuple[Interval, ...]]]] = field(default_factory=dict)

    def src_segment(self, gid: int, i: int) -> Interval:
        b = self.src_bounds[gid]
        return b[i], b[i + 1] - 1

    def dst_segment(self, gid: int, j: int) -> Interval:
        b = self.dst_bounds[gid]
        return b[j], b[j + 1] - 1


def build_grid(items: Iterable[tuple[Hashable, Interval, Interval, tuple[Interval, ...], T]]) -> Grid[T]:
    """items: (group, src interval, dst interval, normalised ports, tag). Cells keep input order."""
    grid: Grid[T] = Grid()
    gids: dict[Hashable, int] = {}
    src_sets: list[set[Interval]] = []
    dst_sets: list[set[Interval]] = []
    rows: list[tuple[int, Interval, Interval, tuple[Interval, ...], T]] = []
    for group, src, dst, ports, tag in items:
        gid = gids.get(group)
        if gid is None:
            gid = gids[group] = len(gids)
            grid.groups.append(group)
            src_sets.append(set())
            dst_sets.append(set())
        src_sets[gid].add(src)
        dst_sets[gid].add(dst)
        rows.append((gid, src, dst, ports, tag))
    src_span = [_spans(intervals, grid.src_bounds) for intervals in src_sets]
    dst_span = [_spans(intervals, grid.dst_bounds) for intervals in dst_sets]
    cells: dict[tuple[int, int, int], list[tuple[T, tuple[Interval, ...]]]] = defaultdict(list)
    for gid, src, dst, ports, tag in rows:
        i0, i1 = src_span[gid][src]
        j0, j1 = dst_span[gid][dst]
        if i1 - i0 == 1 and j1 - j0 == 1:
            cells[(gid, i0, j0)].append((tag, ports))
            continue
        for i in range(i0, i1):
            for j in range(j0, j1):
                cells[(gid, i, j)].append((tag, ports))
    grid.cells = dict(cells)
    return grid


def _spans(intervals: set[Interval], bounds_out: list[list[int]]) -> dict[Interval, tuple[int, int]]:
    """Append the group's breakpoints to bounds_out; each distinct interval's segment index range."""
    points = set()
    for lo, hi in intervals:
        points.add(lo)
        points.add(hi + 1)
    bounds = sorted(points)
    bounds_out.append(bounds)
    return {(lo, hi): (bisect_left(bounds, lo), bisect_left(bounds, hi + 1)) for lo, hi in intervals}


def merge_runs(indices: list[int]) -> list[tuple[int, int]]:
    """[1,2,3,7,8] -> [(1,3),(7,8)] (sorted input)."""
    runs: list[tuple[int, int]] = []
    for i in indices:
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def flow_grid(flows: Iterable[Any]) -> Grid[tuple[int, Any, Any]]:
    """The grid of publication flows, tagged (order, expiry key, owner)."""
    return build_grid((f.group, f.src, f.dst, f.ports, f.tag) for f in flows)
