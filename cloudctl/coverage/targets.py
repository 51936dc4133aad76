"""Targets (a ratio of a level, by a date, for the country or a region) and coverage gaps.

A target measures coverage (the share of the level's divisions covered) or availability (the
availability ratio of the level's links, docs/availability.md); one target per metric, level
and region. For coverage:
gap = divisions still to connect = ceil(ratio x total) - covered (never below 0);
required pace = gap / months left, a month being 365.2425 / 12 days.

SQLAlchemy and the audit log are imported by the functions that write; `read_targets` and
`target_gaps` (what `coverage summary` shows) need neither.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from cloudctl.coverage.model import LEVELS, METRICS, CoverageSummary, Target, TargetGap
from cloudctl.errors import InputError, NotFoundError
from cloudctl.store import Store

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from cloudctl.audit import Actor

DAYS_PER_MONTH = 365.2425 / 12


def check_target(target: Target) -> None:
    if target.metric not in METRICS:
        raise InputError(f"unknown metric {target.metric!r}", field="--metric", hint="one of " + ", ".join(METRICS))
    if target.level not in LEVELS:
        raise InputError(f"unknown level {target.level!r}", field="--level", hint="one of " + ", ".join(LEVELS))
    if not 0 < target.ratio <= 1:
        hint = f"write {target.ratio / 100:g} for {target.ratio:g} %" if 1 < target.ratio <= 100 else None
        raise InputError(f"ratio must be above 0 and at most 1, got {target.ratio:g}", field="--ratio", hint=hint)


def _target_json(t: Target) -> dict[str, object]:
    data: dict[str, object] = {"level": t.level, "ratio": t.ratio, "by": t.by.isoformat(), "region": t.region}
    return data if t.metric == "coverage" else {"metric": t.metric, **data}


def target_object_id(t: Target) -> str:
    """The audit log's object id: REGION/LEVEL for coverage, REGION/LEVEL/availability."""
    base = f"{t.region or 'country'}/{t.level}"
    return base if t.metric == "coverage" else f"{base}/{t.metric}"


def set_target(store: Store, target: Target, actor: Actor) -> Target:
    """Create or replace the target for (metric, level, region); audited."""
    from sqlalchemy import select

    from cloudctl.audit import record_change
    from cloudctl.audit.log import now_utc
    from cloudctl.store.tables.coverage import coverage_target
    from cloudctl.store.tables.divisions import division

    check_target(target)
    region_code = target.region or ""
    with store.begin() as conn:
        if target.region and conn.execute(select(division.c.code).where(division.c.code == target.region)).first() \
                is None:
            raise NotFoundError(f"no division with code {target.region!r}", field="--region")
        c = coverage_target.c
        where = (c.metric == target.metric) & (c.level == target.level) & (c.region_code == region_code)
        old = conn.execute(select(coverage_target).where(where)).first()
        values = {"ratio": float(target.ratio), "by_date": target.by, "set_at": now_utc()}
        if old is None:
            conn.execute(coverage_target.insert().values(metric=target.metric, level=target.level,
                                                         region_code=region_code, **values))
            before = None
        else:
            conn.execute(coverage_target.update().where(where).values(**values))
            before = _target_json(_from_row(old))
        record_change(conn, actor, "set", "coverage_target", target_object_id(target), before, _target_json(target))
    return target


def _from_row(r) -> Target:  # type: ignore[no-untyped-def]
    by = r.by_date if isinstance(r.by_date, date) else date.fromisoformat(r.by_date)
    return Target(r.level, float(r.ratio), by, r.region_code or None, r.metric)


def _order(t: Target) -> tuple[str, int, int]:
    return t.region or "", METRICS.index(t.metric) if t.metric in METRICS else len(METRICS), LEVELS.index(t.level)


def list_targets(conn: Connection, region: str | None = None, metric: str | None = "coverage") -> list[Target]:
    """Targets of the metric (None: every metric), all of them when region is None, else those of
    that region; in metric and level order."""
    from sqlalchemy import select

    from cloudctl.store.tables.coverage import coverage_target

    q = select(coverage_target)
    if region is not None:
        q = q.where(coverage_target.c.region_code == region)
    if metric is not None:
        q = q.where(coverage_target.c.metric == metric)
    return sorted((_from_row(r) for r in conn.execute(q)), key=_order)


def read_targets(store: Store, region: str | None = None, metric: str | None = "coverage") -> list[Target]:
    """list_targets through a DB-API cursor (no SQLAlchemy), for read commands."""
    sql = "SELECT level, ratio, by_date, region_code, metric FROM coverage_target"
    mark = "?" if store.is_sqlite else "%s"
    where, params = [], []
    if region is not None:
        where.append(f"region_code = {mark}")
        params.append(region)
    if metric is not None:
        where.append(f"metric = {mark}")
        params.append(metric)
    if where:
        sql += " WHERE " + " AND ".join(where)
    raw = store.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(sql, tuple(params))
        rows = cur.fetchall()
        cur.close()
    finally:
        raw.close()
    targets = [Target(level, float(ratio), by if isinstance(by, date) else date.fromisoformat(by), code or None, m)
               for level, ratio, by, code, m in rows]
    return sorted(targets, key=_order)


def target_gaps(summary: CoverageSummary, targets: Sequence[Target], as_of: date | None = None) -> list[TargetGap]:
    """Gap and required monthly pace for each coverage target of the summary's region whose level it has."""
    as_of = as_of or summary.as_of
    gaps = []
    for t in targets:
        current = summary.level(t.level)
        if t.metric != "coverage" or (t.region or None) != summary.region or current is None:
            continue
        needed = max(0, math.ceil(t.ratio * current.total - 1e-9) - current.covered)
        months = max(0.0, (t.by - as_of).days / DAYS_PER_MONTH)
        per_month = needed / months if months > 0 else (0.0 if needed == 0 else None)
        gaps.append(TargetGap(t, current, needed, months, per_month))
    return sorted(gaps, key=lambda g: LEVELS.index(g.target.level))


def targets_for(targets: Sequence[Target], region: str | None, metric: str) -> list[Target]:
    """The target of each level that applies to the region (None: the country): its own, else that of
    the nearest region it lies in, else the country's. The report's availability section and the
    availability metrics measure a province without a target of its own against the national one
    (coverage gaps stay per exact region: `target_gaps`)."""
    best: dict[str, Target] = {}
    for t in targets:
        if t.metric != metric or not (region or "").startswith(t.region or ""):
            continue
        if t.level not in best or len(t.region or "") > len(best[t.level].region or ""):
            best[t.level] = t
    return sorted(best.values(), key=lambda t: LEVELS.index(t.level))
