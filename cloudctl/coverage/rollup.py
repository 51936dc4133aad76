"""Coverage roll-up: how many divisions of each level are covered on a date, in a region.

Definition (docs/coverage.md): a division is covered on D when at least one of its own links
has activated_on <= D and (retired_on empty or retired_on > D). A region's level ratio is
covered / all divisions of that level whose code starts with the region's code (the region
itself counts at its own level); excluded kinds leave numerator and denominator; a level
with no divisions is omitted.

Everything works on the arrays of cloudctl.coverage.arrays: one SQL query selects the
active links' division codes, then bincount does the counting for all levels and children.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np

from cloudctl.coverage.arrays import (
    DivisionArrays,
    concat_sql,
    key_to_code,
    keys_or_missing,
    load_division_arrays,
)
from cloudctl.coverage.model import LEVELS, ChildCoverage, CoverageSummary, LevelCoverage
from cloudctl.errors import InputError, NotFoundError
from cloudctl.store import Store


def placeholder(store: Store) -> str:
    return "?" if store.is_sqlite else "%s"


def db_date(store: Store, d: date) -> object:
    return d.isoformat() if store.is_sqlite else d


ACTIVE_WHERE = "activated_on <= {p} AND (retired_on IS NULL OR retired_on > {p})"


def scalar_row(store: Store, sql: str, params: Sequence[object]) -> tuple[Any, ...]:
    """The one row of an aggregating query, through the DB-API cursor (no row objects on hot paths)."""
    raw = store.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(sql, tuple(params))
        row = tuple(cur.fetchone())
        cur.close()
    finally:
        raw.close()
    return row


def scalar_text(store: Store, sql: str, params: Sequence[object]) -> str | None:
    """The one text value of a query, through the DB-API cursor."""
    return scalar_row(store, sql, params)[0]


def active_link_keys(store: Store, as_of: date) -> np.ndarray:
    """Keys (arrays.code_keys) of the division codes with a link active on as_of: one query,
    aggregated to one string in the database (duplicates included; callers dedupe)."""
    p = placeholder(store)
    expr = concat_sql("division_code", ",", store.dialect)
    text = scalar_text(store, f"SELECT {expr} FROM link WHERE {ACTIVE_WHERE.format(p=p)}",
                       (db_date(store, as_of), db_date(store, as_of)))
    if not text:
        return np.zeros(0, dtype=np.int64)
    keys = keys_or_missing(text)  # a code written behind cloudctl's back names no division: -1
    return np.sort(keys[keys >= 0])


def active_link_codes(store: Store, as_of: date) -> list[str]:
    """Division codes with at least one link active on as_of."""
    return sorted({key_to_code(k) for k in active_link_keys(store, as_of)})


def covered_mask(arrays: DivisionArrays, link_codes: Sequence[str] | None = None, *,
                 keys: np.ndarray | None = None) -> np.ndarray:
    """Boolean array over divisions: True where one of the codes (or keys) names the division."""
    covered = np.zeros(arrays.size, dtype=bool)
    idx = arrays.index_of_keys(keys) if keys is not None else arrays.index_of(link_codes or [])
    covered[idx[idx >= 0]] = True
    return covered


def check_kinds(arrays: DivisionArrays, exclude_kinds: Sequence[str]) -> None:
    if not exclude_kinds:
        return
    known = set(arrays.kinds)
    try:
        from cloudctl.divisions import kinds as kinds_module

        known |= set(getattr(kinds_module, "KINDS", ()))
    except ImportError:
        pass
    unknown = sorted(set(exclude_kinds) - known)
    if unknown:
        raise InputError(f"unknown division kind {unknown[0]!r}", field="--exclude-kind",
                         hint="known kinds: " + ", ".join(sorted(known)))


def region_index(arrays: DivisionArrays, region: str | None) -> int:
    """The region's row index, -1 for the whole country; NotFoundError for an unknown code."""
    if region is None:
        return -1
    i = int(arrays.index_of([region])[0])
    if i < 0:
        raise NotFoundError(f"no division with code {region!r}", field="--region",
                            hint="see `cloudctl divisions search NAME` for codes")
    return i


def member_mask(arrays: DivisionArrays, region_idx: int, exclude_kinds: Sequence[str]) -> np.ndarray | None:
    """Divisions counted for the region: the region and everything under it, minus excluded kinds
    (None: every division)."""
    if region_idx < 0:
        if not exclude_kinds:
            return None
        mask = np.ones(arrays.size, dtype=bool)
    else:
        lv = int(arrays.level[region_idx])
        if lv <= len(arrays.anc):
            mask = arrays.anc[lv - 1] == region_idx
        else:  # a village: nothing lies below it
            mask = np.zeros(arrays.size, dtype=bool)
            mask[region_idx] = True
    if exclude_kinds:
        mask &= ~arrays.kind_mask(exclude_kinds)
    return mask


def level_counts(levels: np.ndarray, covered: np.ndarray, mask: np.ndarray | None = None) -> list[LevelCoverage]:
    """Totals and covered per level (of the rows in mask), levels without divisions left out."""
    sel = levels if mask is None else levels[mask]
    total = np.bincount(sel, minlength=6)
    cov = np.bincount(levels[covered if mask is None else covered & mask], minlength=6)
    return [LevelCoverage(name, int(total[i + 1]), int(cov[i + 1]))
            for i, name in enumerate(LEVELS) if total[i + 1] > 0]


def child_level_of(arrays: DivisionArrays, region_idx: int) -> int:
    return 1 if region_idx < 0 else int(arrays.level[region_idx]) + 1


def children_of(arrays: DivisionArrays, region_idx: int) -> np.ndarray:
    """Indexes of the region's direct children (the provinces for the country): the divisions of
    the next level inside the region's index range."""
    child_level = child_level_of(arrays, region_idx)
    if child_level > len(LEVELS):
        return np.zeros(0, dtype=np.int64)
    positions = arrays.level_positions[child_level - 1]
    if region_idx < 0:
        return positions
    end = arrays.subtree_ends(np.array([region_idx]))
    return positions[np.searchsorted(positions, region_idx):np.searchsorted(positions, end[0])]


def child_counts(arrays: DivisionArrays, mask: np.ndarray | None, covered: np.ndarray,
                 region_idx: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(child indexes, totals[c, level], covered[c, level]) for the region's direct children:
    one bincount over (child, level) slots."""
    children = children_of(arrays, region_idx)
    nl = len(LEVELS)
    if len(children) == 0:
        empty = np.zeros((0, nl), dtype=np.int64)
        return children, empty, empty
    # each division's child row (-1: under no child), then one (row, level) slot per division
    row_of = np.full(arrays.size + 1, -1, dtype=np.int32)  # [-1] stays -1 for anc == -1
    row_of[children] = np.arange(len(children), dtype=np.int32)
    child_level = child_level_of(arrays, region_idx)
    # each division's ancestor at the children's level (villages, the last level, are their own)
    group = arrays.anc[child_level - 1] if child_level <= len(arrays.anc) else np.arange(arrays.size, dtype=np.int32)
    rows = row_of[group]
    valid = rows >= 0 if mask is None else (rows >= 0) & mask
    slot = rows * np.int32(nl) + (arrays.level - 1)
    size = len(children) * nl
    totals = np.bincount(slot[valid], minlength=size).reshape(len(children), nl)
    covs = np.bincount(slot[valid & covered], minlength=size).reshape(len(children), nl)
    return children, totals, covs


def division_names(store: Store, codes: Sequence[str]) -> dict[str, str]:
    """Names of a few divisions (chunked IN queries)."""
    names: dict[str, str] = {}
    unique = sorted(set(codes))
    p = placeholder(store)
    raw = store.raw_connection()
    try:
        cur = raw.cursor()
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            cur.execute(f"SELECT code, name FROM division WHERE code IN ({','.join([p] * len(chunk))})", chunk)
            names.update({c: n for c, n in cur.fetchall()})
        cur.close()
    finally:
        raw.close()
    return names


def range_counts(arrays: DivisionArrays, covered: np.ndarray, starts: np.ndarray,
                 ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(totals[r, level], covered[r, level]) of the divisions in each index range [start, end):
    binary searches in each level's positions, nothing proportional to the registry's size."""
    hit = np.flatnonzero(covered)
    hit_level = arrays.level[hit]
    shape = (len(starts), len(LEVELS))
    totals, covs = np.zeros(shape, dtype=np.int64), np.zeros(shape, dtype=np.int64)
    for j, positions in enumerate(arrays.level_positions):
        totals[:, j] = np.searchsorted(positions, ends) - np.searchsorted(positions, starts)
        at_level = hit[hit_level == j + 1]
        covs[:, j] = np.searchsorted(at_level, ends) - np.searchsorted(at_level, starts)
    return totals, covs


def counts_by_range(arrays: DivisionArrays, covered: np.ndarray, ridx: int,
                    by_child: bool) -> tuple[list[LevelCoverage], np.ndarray, np.ndarray, np.ndarray]:
    """What level_counts and child_counts give when no kind is excluded, from index ranges: a
    region (or the country) and each of its children are contiguous runs of the key order."""
    region = np.array([ridx] if ridx >= 0 else [], dtype=np.int64)
    starts, ends = (region, arrays.subtree_ends(region)) if ridx >= 0 else (np.array([0]), np.array([arrays.size]))
    children = children_of(arrays, ridx) if by_child else np.zeros(0, dtype=np.int64)
    totals, covs = range_counts(arrays, covered, np.concatenate([starts, children]),
                                np.concatenate([ends, arrays.subtree_ends(children)]))
    levels = [LevelCoverage(name, int(totals[0, j]), int(covs[0, j])) for j, name in enumerate(LEVELS)
              if totals[0, j] > 0]
    return levels, children, totals[1:], covs[1:]


def summarise(arrays: DivisionArrays, covered: np.ndarray, as_of: date, region: str | None,
              exclude_kinds: Sequence[str] = (), by_child: bool = False,
              names: dict[str, str] | None = None) -> CoverageSummary:
    """Pure roll-up over arrays and a covered mask (no I/O)."""
    ridx = region_index(arrays, region)
    if exclude_kinds:
        mask = member_mask(arrays, ridx, exclude_kinds)
        levels = level_counts(arrays.level, covered, mask)
        idx, totals, covs = child_counts(arrays, mask, covered, ridx) if by_child else (None, None, None)
    else:
        levels, idx, totals, covs = counts_by_range(arrays, covered, ridx, by_child)
    children: list[ChildCoverage] | None = None
    if by_child:
        assert idx is not None and totals is not None and covs is not None
        children = []
        for row, i in enumerate(idx):
            code = arrays.code(int(i))
            lvls = [LevelCoverage(name, int(totals[row, j]), int(covs[row, j]))
                    for j, name in enumerate(LEVELS) if totals[row, j] > 0]
            children.append(ChildCoverage(code, (names or {}).get(code, ""), lvls))
    region_name = (names or {}).get(region) if region else None
    return CoverageSummary(as_of, region, levels, children, region_name)


def rollup_coverage(store: Store, as_of: date, region: str | None = None, exclude_kinds: Sequence[str] = (),
                    by_child: bool = False) -> CoverageSummary:
    """Coverage of every level in the region (or the country) on as_of."""
    arrays = load_division_arrays(store, need_kinds=bool(exclude_kinds))
    check_kinds(arrays, exclude_kinds)
    ridx = region_index(arrays, region)
    covered = covered_mask(arrays, keys=active_link_keys(store, as_of))
    wanted = [region] if region else []
    if by_child:
        wanted += arrays.codes_of(children_of(arrays, ridx))
    names = division_names(store, wanted) if wanted else {}
    return summarise(arrays, covered, as_of, region, exclude_kinds, by_child, names)


def rollup_by_child(store: Store, as_of: date, region: str | None = None,
                    exclude_kinds: Sequence[str] = ()) -> CoverageSummary:
    """The region (default: the country) and each direct child (every province) in one pass."""
    return rollup_coverage(store, as_of, region, exclude_kinds, by_child=True)
