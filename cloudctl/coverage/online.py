"""Online now: coverage counted from what the agents report, beside coverage from the link records.

A division is *online* when one of its links is active today (the connected definition of
cloudctl.coverage.rollup) and that link's latest probe result (table link_status, written by
heartbeats) says up and is fresh: checked at most `fresh_within_s` seconds ago. A link whose
agent went silent therefore stops counting after the freshness window, like a link that is
down. Online is a subset of connected by construction.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime

import numpy as np

from cloudctl import clock
from cloudctl.coverage.arrays import code_keys, concat_sql, load_division_arrays
from cloudctl.coverage.model import ChildCoverage, CoverageSummary, LevelCoverage
from cloudctl.coverage.rollup import (
    ACTIVE_WHERE,
    active_link_keys,
    check_kinds,
    children_of,
    covered_mask,
    db_date,
    division_names,
    placeholder,
    region_index,
    scalar_text,
    summarise,
)
from cloudctl.errors import InputError
from cloudctl.store import Store

# Agents heartbeat every 15 s by default (cloudctl.agent.config): three missed rounds mean silent.
DEFAULT_FRESH_WITHIN_S = 45.0


def online_link_keys(store: Store, today: date, fresh_since_ts: float) -> np.ndarray:
    """Keys of the division codes with an active link whose latest probe said up at or after
    fresh_since_ts (epoch seconds): one query, like rollup.active_link_keys."""
    p = placeholder(store)
    expr = concat_sql("link.division_code", ",", store.dialect)
    sql = (f"SELECT {expr} FROM link_status JOIN link ON link.link_id = link_status.link_id "
           f"WHERE link_status.up = 1 AND link_status.checked_ts >= {p} AND {ACTIVE_WHERE.format(p=p)}")
    text = scalar_text(store, sql, (fresh_since_ts, db_date(store, today), db_date(store, today)))
    if not text:
        return np.zeros(0, dtype=np.int64)
    return np.sort(code_keys([c for c in text.split(",") if c.isdigit() and len(c) <= 12]))


def merge_online(connected: CoverageSummary, online: CoverageSummary) -> CoverageSummary:
    """The connected summary with each level's (and child's) online count from the other (pure)."""

    def levels(conn: list[LevelCoverage], onl: list[LevelCoverage]) -> list[LevelCoverage]:
        by_level = {lv.level: lv.covered for lv in onl}
        return [replace(lv, online=by_level.get(lv.level, 0)) for lv in conn]

    children = None
    if connected.children is not None:
        online_children = {c.code: c.levels for c in online.children or []}
        children = [ChildCoverage(c.code, c.name, levels(c.levels, online_children.get(c.code, [])))
                    for c in connected.children]
    return replace(connected, levels=levels(connected.levels, online.levels), children=children)


def rollup_online(store: Store, region: str | None = None, exclude_kinds: Sequence[str] = (),
                  by_child: bool = False, fresh_within_s: float = DEFAULT_FRESH_WITHIN_S,
                  now: float | None = None) -> CoverageSummary:
    """Coverage today with, per level, how many divisions are online now."""
    if not fresh_within_s > 0:
        raise InputError(f"the freshness window must be positive, not {fresh_within_s}", field="--fresh-within",
                         hint="seconds since a link's last probe result, e.g. 45 (three 15 s heartbeats)")
    now = time.time() if now is None else now
    today = datetime.fromtimestamp(now, clock.current().zone).date()  # "today" in the one clock's zone
    arrays = load_division_arrays(store, need_kinds=bool(exclude_kinds))
    check_kinds(arrays, exclude_kinds)
    ridx = region_index(arrays, region)
    wanted = [region] if region else []
    if by_child:
        wanted += arrays.codes_of(children_of(arrays, ridx))
    names = division_names(store, wanted) if wanted else {}
    connected = covered_mask(arrays, keys=active_link_keys(store, today))
    online = covered_mask(arrays, keys=online_link_keys(store, today, now - fresh_within_s)) & connected
    return merge_online(summarise(arrays, connected, today, region, exclude_kinds, by_child, names),
                        summarise(arrays, online, today, region, exclude_kinds, by_child, names))
