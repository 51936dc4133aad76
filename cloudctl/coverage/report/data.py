"""Assemble a report's figures into one plain dict: the JSON twin every writer renders.

The HTML, CSV and Markdown are all rendered from this dict, never from the store, so the
four files carry the same figures by construction (and tests check that they do).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from cloudctl.coverage.model import LEVELS, ChildCoverage, CoverageSummary, LevelCoverage, PlanEntry, TargetGap
from cloudctl.coverage.report.availability import availability_json
from cloudctl.coverage.report.maps import maps_json
from cloudctl.coverage.report.sources import CoverageSource

REPORT_VERSION = 1
TREND_START = date(2009, 1, 1)
# Directory of drill-down pages by the level of the region's children.
PAGE_DIRS: dict[str, str] = {"province": "provinces", "prefecture": "prefectures", "county": "counties",
                             "township": "townships", "village": "villages"}
Progress = Callable[..., None]


@dataclass(frozen=True)
class ReportOptions:
    as_of: date
    region: str | None = None
    trend_start: date = TREND_START
    trend_every: str = "year"
    plan_level: str = "township"
    plan_limit: int = 20
    drilldown_plan_limit: int = 10
    drilldown: bool = True
    exclude_kinds: tuple[str, ...] = ()
    availability_days: int = 30  # the availability section: the days ending on as_of (0: no section)
    availability_worst: int = 10


def level_json(lv: LevelCoverage) -> dict[str, Any]:
    return lv.to_json()


def target_json(gap: TargetGap) -> dict[str, Any]:
    return {
        "ratio": round(gap.target.ratio, 6),
        "by": gap.target.by.isoformat(),
        "region": gap.target.region,
        "needed": max(gap.needed, 0),
        "months_left": round(gap.months_left, 2),
        "per_month": None if gap.per_month is None else round(gap.per_month, 2),
        "met": gap.met,
    }


def levels_with_targets(levels: Sequence[LevelCoverage], gaps: Sequence[TargetGap]) -> list[dict[str, Any]]:
    by_level = {g.target.level: g for g in gaps}
    out = []
    for lv in levels:
        row = level_json(lv)
        gap = by_level.get(lv.level)
        row["target"] = target_json(gap) if gap else None
        out.append(row)
    return out


def child_json(child: ChildCoverage) -> dict[str, Any]:
    return {"code": child.code, "name": child.name, "levels": [level_json(lv) for lv in child.levels]}


def plan_json(entries: Sequence[PlanEntry]) -> list[dict[str, Any]]:
    return [{"rank": e.rank, "code": e.code, "name": e.name, "kind": e.kind, "province": e.province,
             "county": e.county, "score": round(e.score, 4), "reasons": list(e.reasons)} for e in entries]


def child_level_path(code: str) -> tuple[str, ...]:
    """The levels from province down to the code's own level (codes are 2/4/6/9/12 digits)."""
    return tuple(name for name, n in zip(LEVELS, (2, 4, 6, 9, 12), strict=True) if n <= len(code))


def child_level_of(summary: CoverageSummary) -> str | None:
    """The level of the region's direct children (province for the country)."""
    if summary.region is None:
        return LEVELS[0]
    index = {2: 1, 4: 2, 6: 3, 9: 4}.get(len(summary.region))
    return LEVELS[index] if index is not None and index < len(LEVELS) else None


def trend_json(points: Sequence[CoverageSummary], every: str) -> dict[str, Any]:
    return {"every": every,
            "points": [{"date": p.as_of.isoformat(), "levels": [level_json(lv) for lv in p.levels]} for p in points]}


def drilldown_json(source: CoverageSource, child: ChildCoverage, opts: ReportOptions) -> dict[str, Any]:
    """One drill-down page: the child's own levels, its children, and their children."""
    summary = source.rollup(child.code, by_child=True)
    sub_children = []
    for grandchild in summary.children or []:
        entry = child_json(grandchild)
        below = source.rollup(grandchild.code, by_child=True)
        entry["children"] = [child_json(c) for c in below.children or []]
        sub_children.append(entry)
    plan = source.plan(opts.plan_level, child.code, opts.drilldown_plan_limit) if opts.drilldown_plan_limit else []
    return {
        "code": child.code,
        "name": child.name,
        "levels": levels_with_targets(summary.levels, source.gaps(summary)),
        "child_level": child_level_of(summary),
        "children": sub_children,
        "plan": plan_json(plan),
        "availability": availability_section(source, child.code, summary.children or [], opts),
    }


def availability_section(source: CoverageSource, region: str | None, children: Sequence[ChildCoverage],
                         opts: ReportOptions) -> dict[str, Any] | None:
    """The availability section of the region's page (None: the country's), its children being the
    region's children; None when the report has no section (or its days have not begun)."""
    if not opts.availability_days:
        return None
    read = source.availability(region, opts.availability_days, opts.availability_worst)
    if read is None:
        return None
    report, worst, target_region = read
    return availability_json(report, worst, [(c.code, c.name) for c in children], opts.availability_days,
                             target_region)


def build_report(store: Any, opts: ReportOptions, progress: Progress | None = None) -> dict[str, Any]:
    """Every figure the report shows, as one JSON-ready dict (see docs/reports.md for the shape)."""
    advance = progress or (lambda n=1, total=None: None)
    source = CoverageSource(store, opts.as_of, opts.exclude_kinds)
    summary = source.rollup(opts.region, by_child=True)
    children = summary.children or []
    advance(0, total=2 + len(children))
    gaps = source.gaps(summary)
    trend = source.trend(min(opts.trend_start, opts.as_of), opts.trend_every, opts.region)
    advance(1)
    plan = source.plan(opts.plan_level, opts.region, opts.plan_limit)
    advance(1)
    if opts.drilldown and children and len(children[0].code) < 9:
        source.preload_names(len(child_level_path(children[0].code)) + 2)
    child_level = child_level_of(summary)
    drilldown = opts.drilldown and child_level not in (None, "village")  # a village has nothing to drill into
    page_dir = PAGE_DIRS.get(child_level or "", "children")
    data: dict[str, Any] = {
        "report": "cloudctl coverage report",
        "version": REPORT_VERSION,
        "as_of": opts.as_of.isoformat(),
        "exclude_kinds": list(opts.exclude_kinds),
        "region": {"code": opts.region, "name": summary.region_name or (opts.region or "全国")},
        "levels": levels_with_targets(summary.levels, gaps),
        "child_level": child_level,
        "children": [],
        "trend": trend_json(trend, opts.trend_every),
        "plan": {"level": opts.plan_level, "limit": opts.plan_limit, "entries": plan_json(plan)},
        "drilldown": [],
    }
    for child in children:
        entry = child_json(child)
        entry["page"] = f"{page_dir}/{child.code}.html" if drilldown else None
        data["children"].append(entry)
        if drilldown:
            data["drilldown"].append(drilldown_json(source, child, opts))
        advance(1)
    data["maps"] = maps_json(data)
    data["availability"] = availability_section(source, opts.region, children, opts)
    return data


def level_of(levels: Sequence[dict[str, Any]], name: str) -> dict[str, Any] | None:
    return next((lv for lv in levels if lv["level"] == name), None)
