"""Coverage over time: many dates in one pass over the links.

Each link is an interval [activated_on, retired_on) turned into date-index space; a
division's links are merged into disjoint covered spans, and each span adds +1/-1 events to
its level's counter. A cumulative sum over the dates then gives covered counts for all dates
at once: the same numbers as one roll-up per date, for the cost of one.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np

from cloudctl.coverage.arrays import DivisionArrays, concat_sql, keys_or_missing, load_division_arrays
from cloudctl.coverage.model import LEVELS, CoverageSummary, LevelCoverage
from cloudctl.coverage.rollup import check_kinds, db_date, member_mask, placeholder, region_index, scalar_row
from cloudctl.errors import InputError
from cloudctl.store import Store

EVERY = {"month": 1, "quarter": 3, "year": 12}


def _period_end(d: date, months: int) -> date:
    """The last day of the calendar month/quarter/year containing d."""
    last_month = ((d.month - 1) // months + 1) * months
    return date(d.year, last_month, calendar.monthrange(d.year, last_month)[1])


def trend_dates(start: date, end: date, every: str) -> list[date]:
    """start, each period end strictly between start and end, and end."""
    if every not in EVERY:
        raise InputError(f"--every must be one of {', '.join(EVERY)}, got {every!r}", field="--every")
    if end < start:
        raise InputError(f"--to {end} is before --from {start}", field="--to")
    months = EVERY[every]
    dates = [start]
    d = _period_end(start, months)
    while d < end:
        if d > start:
            dates.append(d)
        d = _period_end(d + timedelta(days=1), months)
    if end > start:
        dates.append(end)
    return dates


_OPEN = "0001-01-01"  # stands for "not retired" in the aggregated text (a retirement always follows activation)


def link_intervals(store: Store, until: date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(division keys, activated_on, retired_on as datetime64[D], NaT when open) of links
    activated on or before until. One aggregated row: the codes comma-separated, the dates as
    fixed-width YYYY-MM-DD runs that numpy reads without a Python object per link."""
    p, d = placeholder(store), store.dialect
    day = (lambda c: c) if store.is_sqlite else (lambda c: f"to_char({c}, 'YYYY-MM-DD')")
    retired = f"COALESCE({day('retired_on')}, '{_OPEN}')"
    sql = (f"SELECT {concat_sql('division_code', ',', d)}, {concat_sql(day('activated_on'), '', d)}, "
           f"{concat_sql(retired, '', d)} FROM link WHERE activated_on <= {p}")
    codes, act_text, ret_text = scalar_row(store, sql, (db_date(store, until),))
    if not codes:
        empty = np.zeros(0, dtype="datetime64[D]")
        return np.zeros(0, dtype=np.int64), empty, empty
    keys = keys_or_missing(codes)
    try:
        act = np.frombuffer(act_text.encode("ascii"), dtype="S10").astype("datetime64[D]")
        ret = np.frombuffer(ret_text.encode("ascii"), dtype="S10").astype("datetime64[D]")
    except (ValueError, UnicodeEncodeError):  # dates written behind cloudctl's back: read them row by row
        return _link_intervals_by_row(store, until)
    if not len(keys) == len(act) == len(ret):
        return _link_intervals_by_row(store, until)
    ret[ret == np.datetime64(_OPEN)] = np.datetime64("NaT")
    return keys, act, ret


def _link_intervals_by_row(store: Store, until: date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    raw = store.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(f"SELECT division_code, activated_on, retired_on FROM link WHERE activated_on <= "
                    f"{placeholder(store)}", (db_date(store, until),))
        rows = cur.fetchall()
        cur.close()
    finally:
        raw.close()
    codes, act, ret = zip(*rows, strict=True)
    return (keys_or_missing(",".join(codes)), np.array(act, dtype="datetime64[D]"),
            np.array(ret, dtype="datetime64[D]"))


def covered_counts(arrays: DivisionArrays, mask: np.ndarray, keys: np.ndarray, act: np.ndarray,
                   ret: np.ndarray, dates: Sequence[date]) -> np.ndarray:
    """Covered divisions per (level index, date index), shape (5, len(dates)), from the links'
    division keys (arrays.code_keys; -1 for a code that names no division). Pure."""
    n_dates = len(dates)
    days = np.array(dates, dtype="datetime64[D]")
    counts = np.zeros((len(LEVELS), n_dates + 1), dtype=np.int64)
    if len(keys) == 0:
        return counts[:, :n_dates]
    div = arrays.index_of_keys(keys)
    keep = div >= 0
    keep[keep] = mask[div[keep]]
    div, act, ret = div[keep], act[keep], ret[keep]
    first = np.searchsorted(days, act, side="left")  # first date index with act <= date
    stop = np.where(np.isnat(ret), n_dates, np.searchsorted(days, np.where(np.isnat(ret), days[0], ret),
                                                             side="left"))  # first date index with date >= ret
    live = first < stop
    div, first, stop = div[live], first[live], stop[live]
    if len(div) == 0:
        return counts[:, :n_dates]
    order = np.lexsort((first, div))
    div, first, stop = div[order], first[order], stop[order]
    # Grouped running maximum of stop within each division (offset by a rank per division).
    new_div = np.r_[True, div[1:] != div[:-1]]
    rank = np.cumsum(new_div) - 1
    span = n_dates + 2
    run_max = np.maximum.accumulate(rank * span + stop) - rank * span
    prev_max = np.r_[0, run_max[:-1]]
    starts = new_div | (first > prev_max)  # a gap before this interval: a new covered span
    block = np.cumsum(starts) - 1
    span_start = first[starts]
    span_end = np.zeros(len(span_start), dtype=np.int64)
    np.maximum.at(span_end, block, stop)
    lv = arrays.level[div[starts]].astype(np.int64) - 1
    np.add.at(counts, (lv, span_start), 1)
    np.add.at(counts, (lv, span_end), -1)
    return np.cumsum(counts, axis=1)[:, :n_dates]


def coverage_trend(store: Store, start: date, end: date, every: str = "month", region: str | None = None,
                   exclude_kinds: Sequence[str] = ()) -> list[CoverageSummary]:
    """One CoverageSummary per date of trend_dates(start, end, every), from one pass over the links."""
    dates = trend_dates(start, end, every)
    arrays = load_division_arrays(store, need_kinds=bool(exclude_kinds))
    check_kinds(arrays, exclude_kinds)
    mask = member_mask(arrays, region_index(arrays, region), exclude_kinds)
    if mask is None:
        mask = np.ones(arrays.size, dtype=bool)
    totals = np.bincount(arrays.level[mask], minlength=6)[1:]
    keys, act, ret = link_intervals(store, dates[-1])
    counts = covered_counts(arrays, mask, keys, act, ret, dates)
    return [CoverageSummary(d, region, [LevelCoverage(name, int(totals[i]), int(counts[i, j]))
                                        for i, name in enumerate(LEVELS) if totals[i] > 0])
            for j, d in enumerate(dates)]
