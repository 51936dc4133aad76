"""The report's only calls into the coverage core (roll-up, trend, targets, plan).

A report needs the roll-up of the region and of hundreds of sub-regions (the drill-down
pages) on one date: the division arrays, the covered mask, the names and the targets are
read once here, and every roll-up after that is the core's pure `summarise`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from cloudctl.coverage.model import CoverageSummary, PlanEntry, TargetGap


class CoverageSource:
    """Everything the report reads from the store, for one date and one set of excluded kinds."""

    def __init__(self, store: Any, as_of: date, exclude_kinds: Sequence[str] = ()) -> None:
        from cloudctl.coverage.arrays import load_division_arrays
        from cloudctl.coverage.rollup import active_link_codes, check_kinds, covered_mask
        from cloudctl.coverage.targets import list_targets

        self.store = store
        self.as_of = as_of
        self.exclude_kinds = tuple(exclude_kinds)
        self.arrays = load_division_arrays(store, need_kinds=bool(self.exclude_kinds))
        check_kinds(self.arrays, self.exclude_kinds)
        self.covered = covered_mask(self.arrays, active_link_codes(store, as_of))
        with store.connect() as conn:
            self.targets = list_targets(conn, metric=None)  # coverage and availability
        self._names: dict[str, str] = {}

    def _ensure_names(self, codes: Sequence[str]) -> None:
        from cloudctl.coverage.rollup import division_names

        missing = [c for c in codes if c not in self._names]
        if missing:
            self._names.update(division_names(self.store, missing))

    def preload_names(self, max_level: int) -> None:
        """Read the names of every division down to max_level in one query (drill-down pages need them)."""
        from sqlalchemy import select

        from cloudctl.store.tables.divisions import division

        with self.store.connect() as conn:
            rows = conn.execute(select(division.c.code, division.c.name).where(division.c.level <= max_level))
            self._names.update({code: name for code, name in rows})

    def rollup(self, region: str | None, *, by_child: bool = False) -> CoverageSummary:
        """The core's pure roll-up on the arrays and covered mask read once; names filled in after."""
        from cloudctl.coverage.rollup import summarise

        summary = summarise(self.arrays, self.covered, self.as_of, region, self.exclude_kinds, by_child, None)
        wanted = ([region] if region else []) + [c.code for c in summary.children or []]
        self._ensure_names(wanted)
        children = None if summary.children is None else \
            [replace(c, name=self._names.get(c.code, c.name)) for c in summary.children]
        return replace(summary, children=children, region_name=self._names.get(region) if region else None)

    def gaps(self, summary: CoverageSummary) -> list[TargetGap]:
        """Gaps of the targets set for exactly the summary's region (None = the country)."""
        from cloudctl.coverage.targets import target_gaps

        return target_gaps(summary, self.targets, self.as_of)

    def trend(self, start: date, every: str, region: str | None) -> list[CoverageSummary]:
        from cloudctl.coverage.trend import coverage_trend

        return list(coverage_trend(self.store, start, self.as_of, every, region=region,
                                   exclude_kinds=self.exclude_kinds))

    def plan(self, level: str, region: str | None, limit: int) -> list[PlanEntry]:
        from cloudctl.coverage.plan import plan_connections

        return list(plan_connections(self.store, self.as_of, level, region, limit,
                                     exclude_kinds=self.exclude_kinds))

    def availability(self, region: str | None, days: int,
                     worst: int) -> tuple[Any, list[tuple[Any, list[Any]]], str | None] | None:
        """The links' availability over the `days` whole days ending on the report's date, or on the day
        before when that is today (so a report is the same whenever it is written; None when the days
        have not begun): every township of the region (None: the country), the `worst` townships'
        links with their outages, and the region the township target was set for (the region's own
        target, else that of the nearest region it lies in, else the country's: `targets_for`; None
        also when there is none)."""
        from datetime import timedelta

        from cloudctl import clock
        from cloudctl.availability.period import period_of
        from cloudctl.availability.query import read_availability
        from cloudctl.coverage.targets import targets_for

        current = clock.current()
        last = min(self.as_of, current.today() - timedelta(days=1))
        first = last - timedelta(days=days - 1)
        if last < self.as_of - timedelta(days=days - 1):
            return None
        period = period_of(first, last, current)
        targets = targets_for(self.targets, region, "availability")
        report = read_availability(self.store, period, region=region, level="township", links=0,
                                   targets=[replace(t, region=region) for t in targets])
        listed = [d for d in report.divisions if d.figures.ratio is not None][:worst]
        codes = [d.code for d in listed]
        links = read_availability(self.store, period, level="township", links=100 * len(codes), under=codes).links \
            if codes else []
        target_region = next((t.region for t in targets if t.level == "township"), None)
        return report, [(d, [lk for lk in links if lk.division_code.startswith(d.code)]) for d in listed], \
            target_region

