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
from typing import Generic, TypeVar

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
    src_points: dict[Hashable, set[int]] = defaultdict(set)
    dst_points: dict[Hashable, set[int]] = defaultdict(set)
    for group, (slo, shi), (dlo, dhi), _, _ in items:
        src_points[group].update((slo, shi + 1))
        dst_points[group].update((dlo, dhi + 1))
    grid: Grid[T] = Grid()
    grid.src_bounds = {g: sorted(p) for g, p in src_points.items()}
    grid.dst_bounds = {g: sorted(p) for g, p in dst_points.items()}
    cells: dict[tuple[Hashable, int, int], list[tuple[T, tuple[Interval, ...]]]] = defaultdict(list)
    for group, (slo, shi), (dlo, dhi), ports, tag in items:
        sb, db = grid.src_bounds[group], grid.dst_bounds[group]
        i0, i1 = bisect_left(sb, slo), bisect_left(sb, shi + 1)
        j0, j1 = bisect_left(db, dlo), bisect_left(db, dhi + 1)
        for i in range(i0, i1):
            for j in range(j0, j1):
                cells[(group, i, j)].append((tag, ports))
    grid.cells = dict(cells)
    return grid


def merge_runs(indices: list[int]) -> list[tuple[int, int]]:
    """[1,2,3,7,8] -> [(1,3),(7,8)] (sorted input)."""
    runs: list[tuple[int, int]] = []
    for i in indices:
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs
