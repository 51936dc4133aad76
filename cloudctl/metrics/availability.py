"""Link availability over the configured window (setting `availability_window`, default 30d), per
province and level of the links' own divisions: at most 31 x 5 series per family, whatever the
number of links.

The figures come from cloudctl.availability.query (the same definitions as `coverage
availability`). They move slowly, so they are recomputed at most once a minute per process,
not on every exposition rebuild (heartbeats rebuild it often).
"""

from __future__ import annotations

import threading
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
    families = availability_families(_read(ctx.store, window_ms, ctx.now), window_ms)
    with _LOCK:
        _CACHE[ctx.store.url] = (key, families)
    return families


def _read(store: Any, window_ms: int, now: float) -> Any:
    from cloudctl import clock
    from cloudctl.availability.period import rolling_period
    from cloudctl.availability.query import read_availability

    period = rolling_period(clock.current(), window_ms, round(now * 1000))
    return read_availability(store, period, province_levels=True, details=False)


def availability_families(report: Any, window_ms: int) -> list[Family]:
    """The families of a report read with province_levels (pure)."""
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
    for (province, level), f in sorted(report.province_levels.items()):
        if f.ratio is not None:
            ratio.add(f.ratio, province, level)
        if f.span_ms:
            unknown.add(f.unknown_ms / f.span_ms, province, level)
        outages.add(f.outages, province, level)
    return [ratio, unknown, outages, window]
