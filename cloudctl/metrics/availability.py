"""Link availability over the configured window (setting `availability_window`, default 30d), per
province and level of the links' own divisions: at most 31 x 5 series per family, whatever the
number of links; beside them, the availability target that applies to each (the alert
LinkAvailabilityBelowTarget compares the two).

The figures come from cloudctl.availability.query (the same definitions as `coverage
availability`). They move slowly, so they are recomputed at most once a minute per process,
not on every exposition rebuild (heartbeats rebuild it often).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from cloudctl.metrics.context import CollectContext
from cloudctl.metrics.family import Family

REFRESH_SECONDS = 60.0
_CACHE: dict[str, tuple[tuple[int, int], list[Family]]] = {}
_LOCK = threading.Lock()


def collect_availability(ctx: CollectContext) -> list[Family]:
    """Uses ctx.store only (the query opens its own DB-API connection)."""
    if not ctx.has("link_interval", "link", "link_status"):
        return []
    from cloudctl.settings import availability_window, get_settings

    window_ms = int(availability_window(get_settings(ctx.store)["availability_window"]).total_seconds() * 1000)
    key = (int(ctx.now // REFRESH_SECONDS), window_ms)
    with _LOCK:
        hit = _CACHE.get(ctx.store.url)
    if hit is not None and hit[0] == key:
        return hit[1]
    families = availability_families(_read(ctx.store, window_ms, ctx.now), window_ms, _targets(ctx.store))
    with _LOCK:
        _CACHE[ctx.store.url] = (key, families)
    return families


def _read(store: Any, window_ms: int, now: float) -> Any:
    from cloudctl import clock
    from cloudctl.availability.period import rolling_period
    from cloudctl.availability.query import read_availability

    period = rolling_period(clock.current(), window_ms, round(now * 1000))
    return read_availability(store, period, province_levels=True, details=False)


def _targets(store: Any) -> list[Any]:
    from cloudctl.coverage.targets import read_targets

    return read_targets(store, None, metric="availability")


def availability_families(report: Any, window_ms: int, targets: Sequence[Any] = ()) -> list[Family]:
    """The families of a report read with province_levels (pure); targets: every availability target,
    each province's being its own, else the national one (coverage/targets.py targets_for)."""
    from cloudctl.coverage.targets import targets_for

    labels = ("province", "level")
    ratio = Family("cloudctl_link_availability_ratio", "gauge",
                   "Up time / (up + down time) of the province's links of this level over the window (0-1); "
                   "absent while nothing is known.", labels)
    unknown = Family("cloudctl_link_availability_unknown_ratio", "gauge",
                     "Share of the links' observed time over the window when their state was unknown (agent silent).",
                     labels)
    outages = Family("cloudctl_link_outages", "gauge", "Down intervals of the province's links of this level "
                     "overlapping the window.", labels)
    window = Family("cloudctl_link_availability_window_seconds", "gauge",
                    "The window of the cloudctl_link_availability_* series (setting availability_window).")
    window.add(window_ms / 1000)
    target = Family("cloudctl_link_availability_target_ratio", "gauge",
                    "The availability target of the province's links of this level (0-1): the province's own "
                    "(coverage target set --metric availability), else the national one.", labels)
    for (province, level), f in sorted(report.province_levels.items()):
        if f.ratio is not None:
            ratio.add(f.ratio, province, level)
        if f.span_ms:
            unknown.add(f.unknown_ms / f.span_ms, province, level)
        outages.add(f.outages, province, level)
    for province in sorted({p for p, _ in report.province_levels}):
        present = {lv for p, lv in report.province_levels if p == province}
        for t in targets_for(targets, province, "availability"):
            if t.level in present:
                target.add(t.ratio, province, t.level)
    return [ratio, unknown, outages, window, target]
