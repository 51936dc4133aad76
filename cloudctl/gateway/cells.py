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
    """Segments per group and the entries of every occupied cell."""

    src_bounds: dict[Hashable, list[int]] = field(default_factory=dict)
    dst_bounds: dict[Hashable, list[int]] = field(default_factory=dict)
    cells: dict[tuple[Hashable, int, int], list[tuple[T, tuple[Interval, ...]]]] = field(default_factory=dict)

    def src_segment(self, group: Hashable, i: int) -> Interval:
        b = self.src_bounds[group]
        return b[i], b[i + 1] - 1

    def dst_segment(self, group: Hashable, j: int) -> Interval:
        b = self.dst_bounds[group]
        return b[j], b[j + 1] - 1


def build_grid(items: Iterable[tuple[Hashable, Interval, Interval, tuple[Interval, ...], T]]) -> Grid[T]:
    """items: (group, src interval, dst interval, normalised ports, tag). Cells keep input order."""
    items = list(items)
    src_distinct: dict[Hashable, set[Interval]] = defaultdict(set)
    dst_distinct: dict[Hashable, set[Interval]] = defaultdict(set)
    for group, src, dst, _, _ in items:
        src_distinct[group].add(src)
        dst_distinct[group].add(dst)
    grid: Grid[T] = Grid()
    src_span = _spans(src_distinct, grid.src_bounds)
    dst_span = _spans(dst_distinct, grid.dst_bounds)
    cells: dict[tuple[Hashable, int, int], list[tuple[T, tuple[Interval, ...]]]] = defaultdict(list)
    for group, src, dst, ports, tag in items:
        i0, i1 = src_span[group][src]
        j0, j1 = dst_span[group][dst]
        if i1 - i0 == 1 and j1 - j0 == 1:
            cells[(group, i0, j0)].append((tag, ports))
            continue
        for i in range(i0, i1):
            for j in range(j0, j1):
                cells[(group, i, j)].append((tag, ports))
    grid.cells = dict(cells)
    return grid


def _spans(distinct: dict[Hashable, set[Interval]],
           bounds_out: dict[Hashable, list[int]]) -> dict[Hashable, dict[Interval, tuple[int, int]]]:
    """Per group: breakpoints into bounds_out, and each distinct interval's segment index range."""
    spans: dict[Hashable, dict[Interval, tuple[int, int]]] = {}
    for group, intervals in distinct.items():
        points = set()
        for lo, hi in intervals:
            points.add(lo)
            points.add(hi + 1)
        bounds = sorted(points)
        bounds_out[group] = bounds
        spans[group] = {(lo, hi): (bisect_left(bounds, lo), bisect_left(bounds, hi + 1)) for lo, hi in intervals}
    return spans


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
