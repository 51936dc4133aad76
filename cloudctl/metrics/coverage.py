"""Coverage: ratio and divisions per level and province, and each target's pace.

The numbers come from cloudctl.coverage.rollup.rollup_coverage, so /metrics, the CLI and the
API agree on what "covered" means. Emits nothing until the coverage capability is installed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text

from cloudctl.metrics.context import CollectContext
from cloudctl.metrics.family import Family


def _rollup() -> Any:
    try:
        from cloudctl.coverage.rollup import rollup_coverage
    except ImportError:
        return None
    return rollup_coverage


def collect_coverage(ctx: CollectContext) -> list[Family]:
    """Uses ctx.store only (never ctx.conn): the roll-up opens its own connections."""
    rollup = _rollup()
    if rollup is None or not ctx.has("division"):
        return []
    ratio = Family("cloudctl_coverage_ratio", "gauge",
                   "Share of the province's divisions at this level with an active extranet link (0-1).",
                   ("level", "province"))
    divisions = Family("cloudctl_divisions", "gauge",
                       "Divisions per level, province and state (covered: an active extranet link).",
                       ("level", "province", "state"))
    summary = rollup(ctx.store, ctx.today, by_child=True)
    for child in summary.children or []:
        for lv in child.levels:
            if not lv.total:
                continue
            ratio.add(lv.ratio, lv.level, child.code)
            divisions.add(int(lv.covered), lv.level, child.code, "covered")
            divisions.add(int(lv.total - lv.covered), lv.level, child.code, "uncovered")
    return [ratio, divisions, *_targets(ctx, rollup)]


def pace_ratio(start_ratio: float, target_ratio: float, start: float, deadline: float, now: float) -> float:
    """The ratio a straight line from (start, start_ratio) to (deadline, target_ratio) requires at now."""
    if now >= deadline or deadline <= start:
        return target_ratio
    if now <= start:
        return start_ratio
    return start_ratio + (target_ratio - start_ratio) * (now - start) / (deadline - start)


def _epoch(d: date) -> float:
    return datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()


def _targets(ctx: CollectContext, rollup: Any) -> list[Family]:
    if not ctx.has("coverage_target"):
        return []
    labels = ("level", "region")
    target = Family("cloudctl_coverage_target_ratio", "gauge", "The coverage ratio a target asks for (0-1).", labels)
    deadline = Family("cloudctl_coverage_target_deadline_timestamp_seconds", "gauge",
                      "When the target must be met (Unix time, start of the day).", labels)
    current = Family("cloudctl_coverage_target_current_ratio", "gauge",
                     "The coverage ratio now, at the target's level and region (0-1).", labels)
    pace = Family("cloudctl_coverage_target_pace_ratio", "gauge",
                  "The ratio a straight line from the target's setting to its deadline requires by now (0-1).",
                  labels)
    # Read the targets on a connection of their own and close it before the roll-ups (which
    # open theirs), so no read transaction is held across them.
    with ctx.store.connect() as conn:
        rows = conn.execute(text(
            "SELECT level, region_code, ratio, by_date, set_at FROM coverage_target WHERE metric = 'coverage' "
            "ORDER BY level, region_code"
        )).all()
    summaries: dict[tuple[date, str], Any] = {}

    def ratio_at(day: date, region: str, level: str) -> float:
        if (day, region) not in summaries:
            summaries[(day, region)] = rollup(ctx.store, day, region=region or None)
        lv = summaries[(day, region)].level(level)
        return lv.ratio if lv is not None else 0.0

    for level, region, want, by_date, set_at in rows:
        by = by_date if isinstance(by_date, date) else date.fromisoformat(str(by_date))
        set_day = datetime.fromisoformat(str(set_at)).date()
        key = (level, region or "all")
        now_ratio = ratio_at(ctx.today, region, level)
        start_ratio = ratio_at(set_day, region, level)
        target.add(float(want), *key)
        deadline.add(_epoch(by), *key)
        current.add(now_ratio, *key)
        pace.add(pace_ratio(start_ratio, float(want), _epoch(set_day), _epoch(by), ctx.now), *key)
    return [target, deadline, current, pace]
